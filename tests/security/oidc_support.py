"""Helpers of the OpenID Connect attack cases: a company connected to a misbehaving provider
(served over real HTTP), and the three things every refusal must show."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages_devtools.fakes.oidc_provider import azure_user, google_user
from mypages.testing.sso import (AZURE_TENANT, azure_values, connect, google_values)
from tests.security.support import browser

ANNA_OID = "0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01"
ANNA_SUB = "110248495921238986420"


@pytest.fixture
def company(example_company):
    return example_company


@pytest.fixture
def anna(factory, company):
    """A member of the company, already with an account (and a password)."""
    return factory.user("anna@example.se", company=company)


@pytest.fixture
def entra(app, dbsession, company, azure_idp):
    """The company connected to an Entra ID-like provider that knows Anna."""
    azure_idp.add_user(azure_user(AZURE_TENANT, ANNA_OID, "anna@example.se", "Anna Andersson",
                                  xms_edov=True))
    connect(app, dbsession, company, "azure", *azure_values(azure_idp))
    return azure_idp


@pytest.fixture
def google(app, dbsession, company, google_idp):
    """The company connected to a Google-like provider that knows Anna's Workspace account."""
    google_idp.add_user(google_user(ANNA_SUB, "anna@example.se", hd="example.se"))
    connect(app, dbsession, company, "google", *google_values(google_idp))
    return google_idp


@pytest.fixture
def visitor(app):
    """A browser of its own."""
    return browser(app)


def session_count(dbsession) -> int:
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(UserSession))


def rejections(dbsession) -> list[str]:
    dbsession.expire_all()
    return [event.details.get("reason") for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.action == "sso.rejected").order_by(AuditEvent.id))]


def assert_refused(dbsession, response, reason: str, sessions_before: int = 0) -> None:
    """Refused with the reason on the error page and in the audit trail, and no session."""
    assert response.status_int == 403, response.status
    assert f'data-reason="sso-{reason}"' in response.text
    assert rejections(dbsession)[-1:] == [reason]
    assert session_count(dbsession) == sessions_before


def assert_signed_in(dbsession, response, user) -> None:
    assert response.status_int == 303, response.status
    dbsession.expire_all()
    assert dbsession.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))) == 1
    assert rejections(dbsession) == []
