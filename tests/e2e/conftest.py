"""End-to-end fixtures: the real server as a subprocess, and a headless Chromium.

The server is started with ``pserve`` on an ini file derived from
development.ini, on a SQLite file migrated through the operator CLI and seeded with the factories,
so these tests go through every layer a user meets. They run on SQLite only.
``live_server`` runs without development features, as production does;
``dev_server`` with them, so it serves the offline identity providers under /_dev/.
"""
from __future__ import annotations

import configparser
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mypages.testing.cli import OperatorCli
from mypages.testing.factories import TEST_ARGON2_SETTINGS
from tests.e2e.steps import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"e2e screenshots: {SCREENSHOTS}")


# -- the server ----------------------------------------------------------------

@dataclass
class Seeded:
    company_id: int
    company_name: str
    admin_email: str
    member_email: str
    password: str = PASSWORD


@dataclass
class LiveServer:
    url: str
    host: str
    seeded: Seeded
    # For tests that need a user of their own, written with the factories like the seed.
    database_url: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_ini(path: Path, database_url: str, port: int, **settings: str) -> None:
    source = configparser.ConfigParser(interpolation=None)
    source.read(REPO_ROOT / "development.ini")
    app = dict(source["app:main"]) if source.has_section("app:main") else {"use": "egg:mypages"}
    app.update({
        "sqlalchemy.url": database_url,
        "mypages.base_url": f"http://127.0.0.1:{port}",
        "mypages.dev_features": "false",
        "mypages.jobs.in_process": "false",
        "mypages.secret": "e2e-test-secret-" + "s" * 40,
        "mypages.session.secure": "false",
        # Templates are read once; nothing edits them during a run.
        "pyramid.reload_templates": "false",
        # the seeded users' hashes are made at the suite's cheap cost (testing/factories.py)
        **TEST_ARGON2_SETTINGS,
        **settings,
    })
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


def _cli(ini: Path, *args: str) -> None:
    """Run the operator CLI on the server's ini (in this process: tests/core/test_cli.py
    runs it as a process of its own)."""
    OperatorCli(ini=ini)(*args)


def _seed(database_url: str) -> Seeded:
    """A company with an admin and a member, written with the test factories (three CLI
    runs would each build the whole app, and this fixture is on every e2e run's clock)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from mypages.testing.factories import make_company, make_user

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            company = make_company(session, "Acme AB")
            admin = make_user(session, "admin@acme.example", password=PASSWORD, company=company,
                              role="admin", display_name="Ada Admin")
            member = make_user(session, "member@acme.example", password=PASSWORD, company=company,
                               role="member", display_name="Max Member")
            session.commit()
            return Seeded(company.id, company.name, admin.email, member.email)
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


@contextmanager
def _serve(folder: Path, **settings: str):
    """The real application under pserve on 127.0.0.1, migrated and seeded."""
    port = _free_port()
    ini = folder / "e2e.ini"
    database_url = f"sqlite:///{folder / 'mypages.sqlite'}"
    _write_ini(ini, database_url, port, **settings)
    _cli(ini, "db", "upgrade")

    log = folder / "server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as log_file:
        process = subprocess.Popen([sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
                                   stdout=log_file, stderr=subprocess.STDOUT, cwd=folder)
    try:
        # The server starts up while the data is seeded; no request reaches it before both are done.
        seeded = _seed(database_url)
        _wait_until_up(url, process, log)
        yield LiveServer(url=url, host=f"127.0.0.1:{port}", seeded=seeded, database_url=database_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    errors = [line for line in log.read_text().splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    assert not errors, "the server logged errors:\n" + log.read_text()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The application as production runs it: no development features."""
    with _serve(tmp_path_factory.mktemp("e2e-server")) as server:
        yield server


@pytest.fixture(scope="session")
def dev_dns():
    """A real DNS server on loopback that ``dev_server`` resolves through (domain proofs)."""
    from mypages.testing.dns import DnsServer

    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory, dev_dns):
    """The application as ``make run`` runs it: ``mypages.dev_features`` on, so the offline
    identity providers are served under /_dev/ by the server itself."""
    with _serve(tmp_path_factory.mktemp("e2e-dev-server"), **{
            "mypages.dev_features": "true", **dev_dns.settings}) as server:
        yield server


# -- the browser -----------------------------------------------------------------

def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.fail("Chromium is not installed (make system-packages installs it)")
    return found


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the run; Playwright gives it a fresh temporary profile
    (its own --user-data-dir, removed on close), and each test gets its own context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Context:
    """A browser context that remembers every URL it requested."""

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
        local = re.compile(rf"^(https?|wss?)://{re.escape(self.server.host)}/")
        return [url for url in self.requested
                if not local.match(url) and not url.startswith(("data:", "about:", "blob:"))]


@contextmanager
def _contexts(browser, server: LiveServer):
    made = []

    def make(locale: str = "sv-SE", viewport: dict | None = None) -> Context:
        context = browser.new_context(locale=locale, viewport=viewport or {"width": 1280, "height": 800},
                                      base_url=server.url)
        made.append(context)
        return Context(context, server)

    yield make
    for context in made:
        context.close()


@pytest.fixture
def make_context(browser, live_server):
    """``make_context(viewport=..., locale=...)``: a fresh browser (no cookies); Swedish by default."""
    with _contexts(browser, live_server) as make:
        yield make


@pytest.fixture
def make_dev_context(browser, dev_server):
    """``make_context`` on ``dev_server``."""
    with _contexts(browser, dev_server) as make:
        yield make


@pytest.fixture
def page(make_context):
    return make_context().new_page()


@pytest.fixture(scope="session")
def screenshots_folder():
    SCREENSHOTS.mkdir(exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    return SCREENSHOTS


@pytest.fixture
def shot(request, screenshots_folder):
    """``shot(page, name)`` saves a full-page PNG named after the test, in visiting order."""
    test_name = re.sub(r"[^\w.-]+", "_", request.node.name)
    count = 0

    def take(page, name: str) -> Path:
        nonlocal count
        count += 1
        path = screenshots_folder / f"{test_name}-{count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
