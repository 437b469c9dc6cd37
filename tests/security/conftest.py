"""Fixtures of the attack cases; the app, database, sign-in and SMTP fixtures come from
mypages.testing.plugin."""
from __future__ import annotations

import pytest


@pytest.fixture
def mailbox(app, smtp_server, monkeypatch):
    """The real SMTP server on loopback, receiving the app's mail during the test."""
    for key, value in smtp_server.settings.items():
        monkeypatch.setitem(app.registry.settings, key, value)
    return smtp_server
