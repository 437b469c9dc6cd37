"""Helpers for the plugin-system tests: real installed distributions on sys.path.

Plugins are found through ``importlib.metadata``, so the tests give it what
an installation gives it: a package plus a ``<name>.dist-info`` folder with
``entry_points.txt``, in a folder on ``sys.path``. The greeting plugin under
tests/fixtures/ is even installed with pip.
"""
from __future__ import annotations

import datetime as dt
import importlib
import itertools
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mypages.db import utcnow
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import build_app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
GREETING_SOURCE = FIXTURES / "mypages-greeting"


def _forget_modules(packages) -> None:
    for name in list(sys.modules):
        if name.split(".", 1)[0] in packages:
            del sys.modules[name]


class SitePackages:
    """A folder on ``sys.path`` holding installed distributions, removed again on close."""

    def __init__(self, path: Path):
        self.path = path
        self.packages: set[str] = set()
        sys.path.insert(0, str(path))
        importlib.invalidate_caches()  # importlib.metadata caches what it saw per path

    def add_plugin(self, entry_point: str, source: str, *, package: str | None = None,
                   version: str = "0.1.0") -> str:
        """Install a one-file plugin package under entry-point name ``entry_point``.

        The package name differs from the entry-point name on purpose: errors
        must name the plugin as the operator knows it (the entry point).
        """
        package = package or f"mypages_test_{entry_point}"
        (self.path / package).mkdir()
        (self.path / package / "__init__.py").write_text(textwrap.dedent(source))
        dist_info = self.path / f"{package}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {package.replace('_', '-')}\nVersion: {version}\n")
        (dist_info / "entry_points.txt").write_text(
            f"[mypages.plugins]\n{entry_point} = {package}\n")
        self.packages.add(package)
        importlib.invalidate_caches()
        return package

    def close(self) -> None:
        sys.path.remove(str(self.path))
        _forget_modules(self.packages)
        importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path):
    """A fresh folder of installed distributions on ``sys.path`` for one test."""
    path = tmp_path / "site-packages"
    path.mkdir()
    packages = SitePackages(path)
    yield packages
    packages.close()


@pytest.fixture(scope="session")
def greeting_site(tmp_path_factory) -> Path:
    """tests/fixtures/mypages-greeting really installed with pip, into a folder of its own."""
    work = tmp_path_factory.mktemp("greeting")
    source = work / "source"
    # pip builds in the source tree (build/, *.egg-info): build a copy, not the repository
    shutil.copytree(GREETING_SOURCE, source)
    target = work / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--disable-pip-version-check", "--target", str(target),
         str(source)],
        check=True, capture_output=True, text=True,
    )
    return target


@pytest.fixture
def greeting_installed(greeting_site):
    """The pip-installed greeting plugin importable in this process for one test."""
    sys.path.insert(0, str(greeting_site))
    importlib.invalidate_caches()
    yield greeting_site
    sys.path.remove(str(greeting_site))
    _forget_modules({"mypages_greeting"})
    importlib.invalidate_caches()


@pytest.fixture
def startup_settings(tmp_path) -> dict:
    """Settings for start-up checks that fail before any database is touched."""
    return {
        "sqlalchemy.url": f"sqlite:///{tmp_path}/never-used.sqlite",
        "mypages.environment": "test",
        "mypages.secret": "test-secret-" + "x" * 40,
        "mypages.session.secure": "false",
        "mypages.jobs.in_process": "false",
        "mypages.plugins.allow": "*",
        "mypages.plugins.deny": "",
    }


@pytest.fixture
def make_app(app, mypages_settings):
    """``make_app(**settings)`` builds an extra app on the test database.

    It depends on ``app`` so that the tables are emptied afterwards; its own
    engines are disposed first, so nothing holds a connection meanwhile.
    """
    built = []

    def make(**overrides):
        settings = dict(mypages_settings)
        settings.update(overrides)
        built.append(build_app(settings))
        return built[-1]

    yield make
    for extra in built:
        extra.registry["db.engine"].dispose()


@pytest.fixture
def cli_ini(tmp_path):
    """``cli_ini(allow=..., deny=...)``: a PasteDeploy file for the CLI.

    Its database is never opened by the commands the tests run.
    """
    numbers = itertools.count(1)

    def write(*, allow: str = "*", deny: str = "") -> Path:
        return _write_ini(tmp_path / f"cli-{next(numbers)}.ini", allow=allow, deny=deny)
    return write


def _write_ini(path: Path, *, allow: str, deny: str) -> Path:
    path.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:mypages
        mypages.environment = test
        mypages.secret = test-secret-{"x" * 40}
        mypages.session.secure = false
        mypages.plugins.allow = {allow}
        mypages.plugins.deny = {deny}
        sqlalchemy.url = sqlite:///%(here)s/cli.sqlite
        """))
    return path


@pytest.fixture
def run_cli():
    """``run_cli(ini, *args, pythonpath=...)``: ``mypages -c INI --json ARGS`` (in this
    process, the app built from the ini as the command builds it), with ``pythonpath``
    first on ``sys.path`` meanwhile; returns the parsed JSON."""
    return _run_cli


def _run_cli(ini: Path, *args: str, pythonpath: Path | None = None) -> list | dict:
    if pythonpath is None:
        return OperatorCli(ini=ini).json(*args)
    site = SitePackages(pythonpath)
    # its packages are forgotten afterwards: the next test may run without them
    site.packages = {found.name.split("-")[0] for found in pythonpath.glob("*.dist-info")}
    try:
        return OperatorCli(ini=ini).json(*args)
    finally:
        site.close()


@pytest.fixture
def start_trial(dbsession):
    """``start_trial(company, key)``: a running trial, written straight to the database."""
    def start(company, key: str) -> None:
        now = utcnow()
        dbsession.add(ModuleActivation(company_id=company.id, module_key=key,
                                       state=ModuleState.trial, trial_started_at=now,
                                       trial_ends_at=now + dt.timedelta(days=10), updated_at=now))
        dbsession.commit()
    return start
