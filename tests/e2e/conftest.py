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
from contextlib import contextmanager
from pathlib import Path

import pytest

from mypages.testing.chromium import Seeded, contexts, seed_company, serve_portal
from tests.e2e.steps import PASSWORD

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"


def pytest_terminal_summary(terminalreporter):
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.glob("*.png")):
        terminalreporter.write_line(f"e2e screenshots: {SCREENSHOTS}")


# -- the server (mypages.testing.chromium) ------------------------------------------

def _development_settings(dev_features: bool) -> dict:
    """development.ini's settings; without development features, not those that name a
    development stand-in (``bankid.environment = fake``, a feed under ``/_dev/``), which
    the plugins refuse then, as production would."""
    source = configparser.ConfigParser(interpolation=None)
    source.read(REPO_ROOT / "development.ini")
    settings = dict(source["app:main"]) if source.has_section("app:main") else {}
    if dev_features:
        return settings
    return {name: value for name, value in settings.items()
            if value.strip() != "fake" and "/_dev/" not in value}


def _seed(database_url: str, ini: Path) -> Seeded:
    return seed_company(database_url, ini, password=PASSWORD)


@contextmanager
def _serve(folder: Path, **settings: str):
    """The real application under pserve, on development.ini's settings, migrated and
    seeded."""
    dev_features = settings.get("mypages.dev_features") == "true"
    with serve_portal(folder, base=_development_settings(dev_features), seed=_seed,
                      **{"mypages.secret": "e2e-test-secret-" + "s" * 40, **settings}) as server:
        yield server


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


# -- the browser (the ``browser`` fixture is mypages.testing's) ---------------------

@pytest.fixture
def make_context(browser, live_server):
    """``make_context(viewport=..., locale=...)``: a fresh browser (no cookies); Swedish by default."""
    with contexts(browser, live_server) as make:
        yield make


@pytest.fixture
def make_dev_context(browser, dev_server):
    """``make_context`` on ``dev_server``."""
    with contexts(browser, dev_server) as make:
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
