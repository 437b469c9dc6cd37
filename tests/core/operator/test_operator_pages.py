"""The operator pages: a second factor for every one of them (set up, never locked out), and
the switch that requires a second factor of every user of the platform."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.policy.models import PlatformPolicy
from mypages.audit.models import AuditEvent
from mypages.testing.plugin import csrf_token, enrol_two_factor, sign_in


def audited(dbsession, action: str) -> list[AuditEvent]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.action == action)
                             .order_by(AuditEvent.id)).all()


def platform_row(dbsession) -> PlatformPolicy | None:
    dbsession.expire_all()
    return dbsession.get(PlatformPolicy, 1)


def required(dbsession) -> bool:
    row = platform_row(dbsession)
    return row is not None and row.require_mfa


@pytest.fixture
def operator(factory):
    return factory.user("olga@operator.example", is_operator=True)


@pytest.fixture
def operator_app(testapp, operator):
    """An operator signed in with a password and an authenticator app."""
    sign_in(testapp, operator.email)
    enrol_two_factor(testapp)
    return testapp


def test_an_operator_without_two_factor_is_led_to_set_it_up_and_then_gets_in(testapp, operator,
                                                                           dbsession):
    sign_in(testapp, operator.email)
    for path in ("/operator/", "/operator/orders", "/operator/security"):
        response = testapp.get(path, status=303)
        parts = urlsplit(response.location)
        assert parts.path == "/account/two-factor" and parse_qs(parts.query)["next"] == [path]
    page = testapp.get("/account/two-factor", {"next": "/operator/"})
    assert page.html.find(id="required-by")["data-by"] == "operator"
    enrol_two_factor(testapp)
    assert set(dbsession.scalars(select(UserSession.amr).where(
        UserSession.ended_at.is_(None))).one()) >= {"pwd", "otp"}
    for path in ("/operator/", "/operator/orders", "/operator/security"):
        testapp.get(path, status=200)
    # and it stays on: an operator cannot turn it off
    token = csrf_token(testapp, "/account/two-factor")
    refused = testapp.post("/account/two-factor", {"csrf_token": token, "action": "disable"},
                           status=400)
    assert refused.html.find(class_="error") is not None
    assert audited(dbsession, "two_factor.disabled") == []


def test_operator_pages_stay_closed_to_everyone_else(factory, testapp):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    sign_in(testapp, admin.email)
    enrol_two_factor(testapp)
    for path in ("/operator/", "/operator/orders", "/operator/security"):
        testapp.get(path, status=403)
    testapp.post("/operator/security", {"csrf_token": csrf_token(testapp, "/account"),
                                        "require_mfa": "on", "confirmed": "yes"}, status=403)


def test_switching_the_platform_requirement_asks_first_and_is_audited(operator_app, operator,
                                                                       dbsession):
    page = operator_app.get("/operator/security")
    assert page.html.find(id="platform-mfa-state")["data-required"] == "no"
    asked = page.forms["platform-mfa-form"].submit(status=200)
    # asked, not done: nothing stored, nothing audited
    assert not required(dbsession)
    assert audited(dbsession, "platform.policy_changed") == []
    assert asked.html.find(id="confirm") is not None
    done = asked.forms["confirm-form"].submit(status=303).follow(status=200)
    assert done.html.find(id="platform-mfa-state")["data-required"] == "yes"
    row = platform_row(dbsession)
    assert (row.require_mfa, row.updated_by_id) == (True, operator.id)
    [event] = audited(dbsession, "platform.policy_changed")
    assert (event.actor_id, event.company_id) == (operator.id, None)
    assert event.details["changes"] == {"require_mfa": [False, True]}
    # and back, asked and audited the same way
    asked = done.forms["platform-mfa-form"].submit(status=200)
    assert required(dbsession)
    asked.forms["confirm-form"].submit(status=303)
    assert not required(dbsession)
    assert [e.details["changes"] for e in audited(dbsession, "platform.policy_changed")] == [
        {"require_mfa": [False, True]}, {"require_mfa": [True, False]}]


def test_a_confirmation_of_what_is_already_so_changes_nothing(operator_app, dbsession):
    token = csrf_token(operator_app, "/operator/security")
    operator_app.post("/operator/security", {"csrf_token": token, "require_mfa": "off",
                                             "confirmed": "yes"}, status=303)
    assert audited(dbsession, "platform.policy_changed") == []


@pytest.mark.parametrize("value", ["", "yes", "ON", "1"])
def test_a_switch_to_anything_else_is_refused_and_changes_nothing(operator_app, dbsession, value):
    token = csrf_token(operator_app, "/operator/security")
    refused = operator_app.post("/operator/security", {"csrf_token": token, "require_mfa": value,
                                                       "confirmed": "yes"}, status=400)
    assert refused.html.find(class_="error") is not None
    assert not required(dbsession)
    assert audited(dbsession, "platform.policy_changed") == []
