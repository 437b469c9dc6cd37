"""A second factor required by the platform: operator pages always want one, and operators may
require one of every user. Falling short leads to step-up, or to setting up two-factor
authentication for someone who has none: never a lock-out. A Single Sign On sign-in counts, as
it does for a company's own requirement."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.policy.models import PlatformPolicy
from mypages.policy.platform import PLATFORM_POLICY_SECONDS
from mypages.companies.models import Membership, Role
from mypages.testing.plugin import csrf_token, enrol_two_factor, sign_in
from mypages.testing.sso import sso_sign_in
from tests.security.oidc_support import anna, company, entra  # noqa: F401  (fixtures)
from tests.security.support import (actions, add_totp, browser, code_at, second_app,
                                    steady_step, submit_code)

#: pages that need a signed-in user, outside any company
OWN_PAGES = ("/account", "/companies", "/account/sessions", "/account/password")


def sent_to(response, path: str, next_url: str) -> None:
    assert response.status_int == 303, response.status
    parts = urlsplit(response.location)
    assert parts.path == path and parse_qs(parts.query)["next"] == [next_url], response.location


def switch(operator_app, value: str) -> None:
    """Turn the platform's requirement on or off as an operator does: asked, then confirmed."""
    form = operator_app.get("/operator/security").forms["platform-mfa-form"]
    assert form["require_mfa"].value == value
    form.submit(status=200).forms["confirm-form"].submit(status=303)


@pytest.fixture
def operator_app(app, factory):
    """An operator signed in with a password and an authenticator app, in a browser of its own."""
    operator = factory.user("olga@operator.example", is_operator=True)
    visitor = browser(app)
    sign_in(visitor, operator.email)
    enrol_two_factor(visitor)
    return visitor


@pytest.fixture
def member(factory):
    """A member of a company that does not require two-factor authentication itself."""
    company = factory.company("Relaxed AB")
    return factory.user(company=company), company


# -- operators ---------------------------------------------------------------------

def test_an_operator_signed_in_with_a_password_alone_is_asked_for_a_code(app, factory, dbsession,
                                                                         clock):
    operator = factory.user(is_operator=True)
    visitor = browser(app)
    sign_in(visitor, operator.email)
    # turned on in another browser meanwhile: this session proved the password only
    secret = add_totp(app, dbsession, operator)
    for path in ("/operator/", "/operator/orders", "/operator/security"):
        sent_to(visitor.get(path, status=303), "/login/verify", path)
    asked = visitor.get("/login/verify", {"next": "/operator/orders"})
    assert asked.html.find(id="verify-form") is not None
    form = asked.forms["verify-form"]
    form["code"] = code_at(secret, steady_step(clock))
    back = form.submit(status=303)
    assert urlsplit(back.location).path == "/operator/orders"
    back.follow(status=200)
    assert actions(dbsession)[-1] == "account.stepped_up"


def test_a_password_alone_cannot_switch_the_platform_requirement(app, factory, dbsession):
    operator = factory.user(is_operator=True)
    visitor = browser(app)
    sign_in(visitor, operator.email)
    token = csrf_token(visitor, "/account")
    refused = visitor.post("/operator/security", {"csrf_token": token, "require_mfa": "on",
                                                  "confirmed": "yes"}, status=303)
    sent_to(refused, "/account/two-factor", "/operator/")
    dbsession.expire_all()
    assert dbsession.get(PlatformPolicy, 1) is None or not dbsession.get(PlatformPolicy, 1).require_mfa
    assert "platform.policy_changed" not in actions(dbsession)


# -- every user --------------------------------------------------------------------

def test_the_platform_requirement_leads_a_member_to_set_it_up_then_lets_them_in(
        app, operator_app, member, dbsession):
    user, company = member
    visitor = browser(app)
    sign_in(visitor, user.email)
    visitor.get(f"/c/{company.id}/", status=200)
    switch(operator_app, "on")
    for path in (f"/c/{company.id}/", *OWN_PAGES):
        sent_to(visitor.get(path, status=303), "/account/two-factor", path)
    # a form sent meanwhile changes nothing and leads to the same place
    token = csrf_token(visitor, "/account/two-factor")
    sent_to(visitor.post("/account/sessions", {"csrf_token": token, "session_id": "x"},
                         status=303), "/account/two-factor", "/")
    page = visitor.get("/account/two-factor", {"next": f"/c/{company.id}/"})
    assert page.html.find(id="required-by")["data-by"] == "platform"
    visitor.get("/static/mypages.css", status=200)  # the page keeps its looks
    enrol_two_factor(visitor)
    for path in (f"/c/{company.id}/", *OWN_PAGES):
        visitor.get(path, status=200)
    # while the platform requires it, it cannot be turned off
    token = csrf_token(visitor, "/account/two-factor")
    visitor.post("/account/two-factor", {"csrf_token": token, "action": "disable"}, status=400)
    assert "two_factor.disabled" not in actions(dbsession)


def test_a_password_only_session_of_someone_with_2fa_is_asked_for_a_code(app, operator_app,
                                                                        member, dbsession, clock):
    user, company = member
    visitor = browser(app)
    sign_in(visitor, user.email)
    secret = add_totp(app, dbsession, user)  # turned on in another browser meanwhile
    switch(operator_app, "on")
    sent_to(visitor.get(f"/c/{company.id}/", status=303), "/login/verify", f"/c/{company.id}/")
    sent_to(visitor.get("/account", status=303), "/login/verify", "/account")
    submit_code(visitor, code_at(secret, steady_step(clock)), status=303)
    visitor.get("/account", status=200)
    visitor.get(f"/c/{company.id}/", status=200)


def test_every_worker_follows_the_switch_within_seconds(app, mypages_settings, operator_app,
                                                        member):
    user, company = member
    with second_app(mypages_settings) as other_worker:
        policy = other_worker.registry["policy.platform"]
        now = [1000.0]
        policy.clock = lambda: now[0]
        there, here = browser(other_worker), browser(app)
        for visitor in (there, here):
            sign_in(visitor, user.email)
            visitor.get(f"/c/{company.id}/", status=200)
        switch(operator_app, "on")
        here.get(f"/c/{company.id}/", status=303)  # the operator's worker: at once
        there.get(f"/c/{company.id}/", status=200)  # another: what it read a moment ago...
        now[0] += PLATFORM_POLICY_SECONDS
        there.get(f"/c/{company.id}/", status=303)  # ...until it is that many seconds old
        switch(operator_app, "off")
        here.get(f"/c/{company.id}/", status=200)
        now[0] += PLATFORM_POLICY_SECONDS
        there.get(f"/c/{company.id}/", status=200)


def test_turning_it_off_restores_the_companies_own_rules(app, operator_app, member, factory,
                                                         dbsession):
    user, company = member
    switch(operator_app, "on")
    switch(operator_app, "off")
    visitor = browser(app)
    sign_in(visitor, user.email)
    for path in (f"/c/{company.id}/", *OWN_PAGES):
        visitor.get(path, status=200)
    # someone who set it up while it was required may turn it off again
    enrol_two_factor(visitor)
    token = csrf_token(visitor, "/account/two-factor")
    visitor.post("/account/two-factor", {"csrf_token": token, "action": "disable"}, status=303)
    assert "two_factor.disabled" in actions(dbsession)


def test_a_single_sign_on_sign_in_meets_the_platform_requirement(app, operator_app, factory, anna,
                                                                company, entra, dbsession):
    other = factory.company("Other AB")  # no connection of its own
    dbsession.add(Membership(company_id=other.id, user_id=anna.id, role=Role.member))
    dbsession.commit()
    switch(operator_app, "on")
    visitor = browser(app)
    sso_sign_in(visitor, "anna@example.se", status=303)
    [session] = dbsession.scalars(select(UserSession).where(
        UserSession.user_id == anna.id, UserSession.ended_at.is_(None))).all()
    assert "pwd" not in session.amr and any(key.startswith("sso:") for key in session.amr)
    # as for a company's own requirement, the identity provider proved who this is: also on
    # the pages of a company whose connection it is not
    for path in (f"/c/{company.id}/", f"/c/{other.id}/", *OWN_PAGES):
        visitor.get(path, status=200)
