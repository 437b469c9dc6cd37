"""The test-token plugin (tests/fixtures/mypages-test-token): a made-up sign-in method written
on the public toolkit only, installed with pip into a folder of its own, and an application
built with it on the test database."""
from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from mypages.testing.plugin import build_app

TOKEN_SOURCE = Path(__file__).resolve().parents[2] / "fixtures" / "mypages-test-token"


@pytest.fixture(scope="session")
def token_site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("test-token")
    source = work / "source"
    shutil.copytree(TOKEN_SOURCE, source)  # pip builds in the source tree
    target = work / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--disable-pip-version-check", "--target", str(target),
         str(source)],
        check=True, capture_output=True, text=True)
    return target


@pytest.fixture(scope="session")
def mypages_token_app(mypages_settings, token_site):
    """The application with the test-token plugin, built (and its table migrated) once per
    database. The plugin is on ``sys.path`` only while the application is built: applications
    built afterwards do not find it."""
    sys.path.insert(0, str(token_site))
    importlib.invalidate_caches()
    try:
        built = build_app(mypages_settings)
    finally:
        sys.path.remove(str(token_site))
        importlib.invalidate_caches()
    yield built
    built.registry["db.engine"].dispose()


@pytest.fixture
def token_app(app, mypages_token_app):
    """The application with the test-token plugin; same database as ``app`` (emptied after
    the test, the plugin's table too)."""
    yield mypages_token_app
    with mypages_token_app.registry["db.engine"].begin() as connection:
        connection.execute(text("DELETE FROM test_tokens"))
