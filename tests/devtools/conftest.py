"""An application with development features on, as ``make run`` serves it."""
from __future__ import annotations

import pytest
from webtest import TestApp

from mypages.testing.plugin import build_app

BASE_URL = "http://localhost"


@pytest.fixture(scope="session")
def dev_mypages_app(mypages_settings):
    app = build_app({**mypages_settings, "mypages.dev_features": "true",
                     "mypages.environment": "development", "mypages.base_url": BASE_URL})
    yield app
    app.registry["db.engine"].dispose()


@pytest.fixture
def dev_app(app, dev_mypages_app):
    """Depends on ``app``, whose tables are emptied after the test (the same database)."""
    return dev_mypages_app


@pytest.fixture
def dev_testapp(dev_app):
    return TestApp(dev_app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
