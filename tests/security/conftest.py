"""Fixtures of the attack cases; the app, database, sign-in and SMTP fixtures come from
mypages.testing.plugin."""
from __future__ import annotations

import pytest

from tests.security.support import second_app


@pytest.fixture
def mailbox(app, smtp_server, monkeypatch):
    """The real SMTP server on loopback, receiving the app's mail during the test."""
    for key, value in smtp_server.settings.items():
        monkeypatch.setitem(app.registry.settings, key, value)
    return smtp_server


@pytest.fixture
def extra_app(app, mypages_settings):
    """The application with the test-only routes of ``tests.security.extra_routes`` (some fail
    on purpose); same database as ``app``."""
    with second_app(mypages_settings, **{"pyramid.includes": "tests.security.extra_routes"}) as built:
        yield built
