"""The real portal under ``pserve`` and a headless Chromium (Playwright) to click through it:
the ``live_portal``, ``browser`` and ``browser_page`` fixtures, the core's browser tests, and
:func:`sign_in` through the sign-in page's two steps.

:func:`serve_portal` writes an ini file, migrates a SQLite database with the operator
command line, seeds it, starts ``pserve`` on a free port of 127.0.0.1 and waits until the
sign-in page answers; when the block ends the server is stopped, and any error it logged
fails the test.
"""
from __future__ import annotations

import configparser
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.cli import OperatorCli
from mypages.testing.factories import (DEFAULT_PASSWORD, TEST_ARGON2_SETTINGS, make_company,
                                       make_user)

CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@dataclass
class Seeded:
    """The company the portal is seeded with, its admin and member, and their password."""

    company_id: int
    company_name: str
    admin_email: str
    member_email: str
    password: str = DEFAULT_PASSWORD


@dataclass
class LiveServer:
    """A running portal: its ``url`` (``http://127.0.0.1:PORT``), ``host``, what it was
    ``seeded`` with, and its ``database_url``, to write rows of your own (commit them)."""

    url: str
    host: str
    seeded: Seeded
    database_url: str
    ini: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_ini(path: Path, app: dict) -> None:
    """A PasteDeploy ini: ``app`` as ``[app:main]``, waitress on the port of its base URL,
    and logging of warnings and errors to stderr."""
    port = int(app["mypages.base_url"].rsplit(":", 1)[1])
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # keep the keys' case
    ini["app:main"] = app
    ini["server:main"] = {"use": "egg:waitress#main", "listen": f"127.0.0.1:{port}"}
    # Log to stderr (a file here) so a failing request leaves its traceback behind.
    ini["loggers"] = {"keys": "root"}
    ini["handlers"] = {"keys": "console"}
    ini["formatters"] = {"keys": "generic"}
    ini["logger_root"] = {"level": "WARN", "handlers": "console"}
    ini["handler_console"] = {"class": "StreamHandler", "args": "(sys.stderr,)",
                              "level": "NOTSET", "formatter": "generic"}
    ini["formatter_generic"] = {"format": "%(levelname)s [%(name)s] %(message)s"}
    with path.open("w") as out:
        ini.write(out)


def portal_settings(database_url: str, port: int, base: dict | None = None, **settings) -> dict:
    """The ``[app:main]`` of a portal served on ``port``: ``base`` (the ``use`` line and
    defaults, such as a development.ini's), then what a test server needs, then
    ``settings``."""
    return {
        "use": "egg:mypages",
        **(base or {}),
        "sqlalchemy.url": database_url,
        "mypages.base_url": f"http://127.0.0.1:{port}",
        "mypages.dev_features": "false",
        "mypages.jobs.in_process": "false",
        "mypages.secret": "live-test-secret-" + "s" * 40,
        "mypages.session.secure": "false",
        # templates are read once; nothing edits them during a run
        "pyramid.reload_templates": "false",
        # the seeded users' hashes are made at the tests' cheap cost (factories.py)
        **TEST_ARGON2_SETTINGS,
        **settings,
    }


def seed_company(database_url: str, ini: Path, modules: str | list = (),
                 password: str = DEFAULT_PASSWORD, company_name: str = "Acme AB",
                 admin_email: str = "admin@acme.example",
                 member_email: str = "member@acme.example") -> Seeded:
    """A company with an admin and a member, written with the test factories; ``modules``
    are made active for it (``"*"``: every module the portal offers)."""
    if modules == "*":
        modules = [module["key"] for module in OperatorCli(ini=ini).json("modules", "list")]
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            company = make_company(session, company_name)
            admin = make_user(session, admin_email, password=password, company=company,
                              role="admin", display_name="Ada Admin")
            member = make_user(session, member_email, password=password, company=company,
                               role="member", display_name="Max Member")
            for key in modules:
                session.add(ModuleActivation(company_id=company.id, module_key=key,
                                             state=ModuleState.active))
            session.commit()
            return Seeded(company.id, company.name, admin.email, member.email, password)
    finally:
        engine.dispose()


def _wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout}s:\n{log.read_text()}")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """End a server this test started: politely, then for sure."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve_portal(folder: Path, base: dict | None = None,
                 seed: Callable[[str, Path], Seeded] = seed_company,
                 python: Path | None = None, **settings: str):
    """The portal under pserve on 127.0.0.1, migrated and seeded (``seed(database_url,
    ini)``), in ``folder``; yields a :class:`LiveServer`. ``python``: the interpreter of
    another virtual environment, which then migrates and serves the portal with the core
    and plugins installed there (and nothing of this process's ``PYTHONPATH``)."""
    port = free_port()
    ini = folder / "portal.ini"
    database_url = f"sqlite:///{folder / 'mypages.sqlite'}"
    write_ini(ini, portal_settings(database_url, port, base, **settings))
    environment = None
    if python is None:
        OperatorCli(ini=ini)("db", "upgrade")
    else:
        environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        subprocess.run([str(Path(python).parent / "mypages"), "-c", str(ini), "db", "upgrade"],
                       check=True, capture_output=True, env=environment, cwd=folder)

    log = folder / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        process = subprocess.Popen([str(python or sys.executable), "-m",
                                    "pyramid.scripts.pserve", str(ini)],
                                   stdout=log_file, stderr=subprocess.STDOUT, cwd=folder,
                                   env=environment)
    try:
        # the server starts up while the data is seeded; no request reaches it before both
        seeded = seed(database_url, ini)
        _wait_until_up(url, process, log)
        yield LiveServer(url=url, host=f"127.0.0.1:{port}", seeded=seeded,
                         database_url=database_url, ini=ini)
    finally:
        stop(process)
    errors = [line for line in log.read_text().splitlines()
              if line.startswith(("ERROR", "CRITICAL"))]
    assert not errors, "the server logged errors:\n" + log.read_text()


def enter_address(page, email: str) -> None:
    """The sign-in page's first step, on the page that shows it: ``email`` typed and
    Continue pressed. The portal answers with the password step, or sends the browser on to
    the company's Single Sign On."""
    page.locator("#login-form #email").fill(email)
    with page.expect_navigation():
        page.locator("#login-form button[type=submit]").click()


def sign_in(page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    """Sign in through the sign-in page that ``page`` shows, as a person does: the address
    and Continue, then the password and Sign in. In any language (the parts are found by
    their ids); where the sign-in leads next (a second factor, the page asked for) is the
    caller's to check."""
    enter_address(page, email)
    page.locator("#login-form #password").fill(password)
    with page.expect_navigation():
        page.locator("#login-form button[type=submit]").click()


def chromium_path() -> str | None:
    """The system's Chromium (``make system-packages`` installs it), or ``None``."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    return found


class Context:
    """A browser context (a fresh browser: no cookies) that remembers every URL it
    requested."""

    def __init__(self, context, server: LiveServer):
        self.context = context
        self.server = server
        self.requested: list[str] = []
        context.on("request", lambda request: self.requested.append(request.url))

    def new_page(self):
        page = self.context.new_page()
        page.set_default_timeout(10_000)
        return page

    def foreign_requests(self) -> list[str]:
        """The URLs it requested from any host but the portal's."""
        local = re.compile(rf"^(https?|wss?)://{re.escape(self.server.host)}/")
        return [url for url in self.requested
                if not local.match(url) and not url.startswith(("data:", "about:", "blob:"))]


@contextmanager
def contexts(browser, server: LiveServer):
    """Yields ``make(locale="sv-SE", viewport=None)``, making a :class:`Context` on
    ``server``; each is closed when the block ends."""
    made = []

    def make(locale: str = "sv-SE", viewport: dict | None = None) -> Context:
        context = browser.new_context(locale=locale,
                                      viewport=viewport or {"width": 1280, "height": 800},
                                      base_url=server.url)
        made.append(context)
        return Context(context, server)

    yield make
    for context in made:
        context.close()
