"""Fixtures of the attack cases; the app, database, sign-in and SMTP fixtures come from
mypages.testing.plugin."""
from __future__ import annotations

import pytest

from mypages.notifications import SmtpMailer
from mypages.services import Mailer, settings_of
from mypages.settings import parse
from tests.security.support import second_app


@pytest.fixture
def mailbox(app, smtp_server, replace_service):
    """The real SMTP server on loopback, receiving the app's mail during the test."""
    smtp = parse({"sqlalchemy.url": "sqlite://", **smtp_server.settings}).smtp
    replace_service(Mailer, SmtpMailer(smtp, settings_of(app).mail_sender))
    return smtp_server


@pytest.fixture
def extra_app(app, mypages_settings):
    """The application with the test-only routes of ``tests.security.extra_routes`` (some fail
    on purpose); same database as ``app``."""
    with second_app(mypages_settings, **{"pyramid.includes": "tests.security.extra_routes"}) as built:
        yield built
