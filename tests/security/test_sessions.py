"""Sessions (ASVS 7.2, 7.4, 7.5): a new id at sign-in and at every privilege change,
ended when the account is disabled or leaves the company, ended by admins, and
cookies a script or another site cannot use."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.accounts import SESSION_COOKIE
from mypages.accounts.devices import COOKIE as DEVICE_COOKIE
from mypages.accounts.models import User, UserSession
from mypages.companies.models import Membership, Role
from mypages.policy.models import CompanyPolicy
from mypages.i18n import LOCALE_COOKIE
from mypages.testing.plugin import csrf_token, sign_in
from mypages.testing.web import password_step
from tests.security.support import (actions, add_totp, browser, code_at, live_sessions,
                                    second_app, session_cookie, steady_step)

PASSWORD = "correct horse battery staple"


def signed_out(app, cookie: str) -> bool:
    """True if a browser holding only ``cookie`` is not signed in."""
    stale = browser(app, ip="192.0.2.99")
    stale.set_cookie(SESSION_COOKIE, cookie)
    return stale.get("/account", status="*").status_int == 303


class Privilege:
    """The session of ``user`` in ``testapp`` before a change, to compare with after."""

    def __init__(self, testapp, dbsession, user):
        self.testapp, self.dbsession, self.user = testapp, dbsession, user
        [self.row] = self._live()
        self.cookie = session_cookie(testapp)

    def _live(self) -> list[UserSession]:
        ip = self.testapp.extra_environ["REMOTE_ADDR"]
        return [row for row in live_sessions(self.dbsession, self.user.id) if row.ip == ip]

    def assert_new_session_id(self) -> UserSession:
        [row] = self._live()
        assert row.id != self.row.id
        assert self.dbsession.get(UserSession, self.row.id).ended_at is not None
        assert session_cookie(self.testapp) != self.cookie
        assert signed_out(self.testapp.app, self.cookie)  # the old id is worth nothing
        self.testapp.get("/account", status=200)  # while the new one works
        return row


@pytest.fixture
def member(factory):
    company = factory.company()
    return factory.user(company=company), company


# -- new session id ----------------------------------------------------------------

def test_a_planted_session_cookie_is_not_signed_in_with_the_victim(app, member, dbsession):
    user, company = member
    attacker = browser(app, ip="198.51.100.7")
    attacker.get("/login")
    planted = session_cookie(attacker)
    victim = browser(app)
    victim.set_cookie(SESSION_COOKIE, planted)
    sign_in(victim, user.email)
    assert session_cookie(victim) != planted
    attacker.get(f"/c/{company.id}/", status=303)
    victim.get(f"/c/{company.id}/", status=200)
    assert len(live_sessions(dbsession, user.id)) == 1


def test_a_new_session_id_when_stepping_up_with_a_code(app, member, testapp, dbsession, clock):
    user, company = member
    sign_in(testapp, user.email)
    secret = add_totp(app, dbsession, user)  # enrolled elsewhere; this session proved a password only
    dbsession.add(CompanyPolicy(company_id=company.id, require_mfa=True))
    dbsession.commit()
    before = Privilege(testapp, dbsession, user)
    response = testapp.get(f"/c/{company.id}/", status=303)
    assert "/login/verify" in response.location
    form = testapp.get(response.location).forms["verify-form"]
    form["code"] = code_at(secret, steady_step(clock))
    form.submit(status=303)
    row = before.assert_new_session_id()
    assert set(row.amr) == {"pwd", "otp"}
    testapp.get(f"/c/{company.id}/", status=200)
    assert "account.stepped_up" in actions(dbsession)


def test_a_new_session_id_when_2fa_is_turned_on(member, signed_in, testapp, dbsession):
    import pyotp

    user, _company = member
    signed_in(user)
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"}, status=303)
    before = Privilege(testapp, dbsession, user)
    page = testapp.get("/account/two-factor")
    form, secret = page.forms["confirm-form"], page.html.find(id="totp-secret").text.strip()
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(status=200)
    assert "otp" in before.assert_new_session_id().amr


def test_a_new_session_id_at_re_authentication(member, signed_in, testapp, dbsession):
    user, _company = member
    signed_in(user)
    before = Privilege(testapp, dbsession, user)
    form = testapp.get("/account/confirm").forms["reauth-form"]
    form["password"] = PASSWORD
    form.submit(status=303)
    before.assert_new_session_id()
    assert actions(dbsession)[-1] == "account.reauthenticated"


def test_a_new_session_id_and_everywhere_else_signed_out_at_password_change(app, member, signed_in,
                                                                           testapp, dbsession):
    user, _company = member
    elsewhere = browser(app, ip="192.0.2.10")
    sign_in(elsewhere, user.email)
    signed_in(user)
    before = Privilege(testapp, dbsession, user)
    token = csrf_token(testapp, "/account/password")
    testapp.post("/account/password", {"csrf_token": token, "current": PASSWORD,
                                       "new": "an entirely new passphrase", "repeat":
                                       "an entirely new passphrase"}, status=303)
    before.assert_new_session_id()
    elsewhere.get("/account", status=303)


def test_a_role_change_ends_the_persons_sessions(app, member, factory, signed_in, testapp,
                                                 dbsession):
    user, company = member
    admin = factory.user(company=company, role="admin")
    members_browser = browser(app, ip="192.0.2.10")
    sign_in(members_browser, user.email)
    old_cookie = session_cookie(members_browser)
    signed_in(admin)
    form = next(f for f in testapp.get(f"/c/{company.id}/settings/people").forms.values()
                if f.action.endswith(f"/people/{user.id}/role"))
    form["role"] = "admin"
    form.submit(status=303)
    assert dbsession.scalars(select(Membership.role).where(Membership.user_id == user.id)).one() \
        == Role.admin
    members_browser.get(f"/c/{company.id}/", status=303)  # must sign in again, with a new id
    assert live_sessions(dbsession, user.id) == []
    sign_in(members_browser, user.email)
    assert session_cookie(members_browser) != old_cookie
    members_browser.get(f"/c/{company.id}/settings/people", status=200)
    assert "people.role_changed" in actions(dbsession)


# -- ending sessions -----------------------------------------------------------------

def test_a_disabled_account_is_signed_out_at_the_next_request(app, member, testapp, dbsession):
    user, company = member
    sign_in(testapp, user.email)
    cookie = session_cookie(testapp)
    testapp.get(f"/c/{company.id}/", status=200)
    dbsession.get(User, user.id).is_active = False
    dbsession.commit()
    testapp.get(f"/c/{company.id}/", status=303)
    testapp.get("/account", status=303)
    # enabling the account again does not bring the old session back
    dbsession.get(User, user.id).is_active = True
    dbsession.commit()
    assert signed_out(app, cookie)
    assert live_sessions(dbsession, user.id) == []


def test_removing_a_person_from_the_company_ends_their_sessions(app, member, factory, signed_in,
                                                                testapp, dbsession):
    user, company = member
    admin = factory.user(company=company, role="admin")
    members_browser = browser(app, ip="192.0.2.10")
    sign_in(members_browser, user.email)
    members_browser.get(f"/c/{company.id}/", status=200)
    signed_in(admin)
    form = next(f for f in testapp.get(f"/c/{company.id}/settings/people").forms.values()
                if f.action.endswith(f"/people/{user.id}/remove"))
    form.submit(status=303)
    assert live_sessions(dbsession, user.id) == []
    members_browser.get(f"/c/{company.id}/", status=303)
    members_browser.get("/account", status=303)
    assert actions(dbsession)[-1] == "people.removed"
    testapp.get(f"/c/{company.id}/settings/people", status=200)  # the admin stays signed in


def test_an_admin_ends_a_members_sessions(app, member, factory, signed_in, testapp, dbsession):
    user, company = member
    admin = factory.user(company=company, role="admin")
    phone, laptop = browser(app, ip="192.0.2.10"), browser(app, ip="192.0.2.11")
    for each in (phone, laptop):
        sign_in(each, user.email)
    signed_in(admin)
    form = next(f for f in testapp.get(f"/c/{company.id}/settings/people").forms.values()
                if f.action.endswith(f"/people/{user.id}/end-sessions"))
    form.submit(status=303)
    assert live_sessions(dbsession, user.id) == []
    for each in (phone, laptop):
        each.get("/account", status=303)
    assert actions(dbsession)[-1] == "people.sessions_ended"
    testapp.get(f"/c/{company.id}/settings/people", status=200)


def test_an_admin_cannot_end_sessions_of_someone_outside_the_company(app, factory, signed_in,
                                                                     testapp, dbsession):
    mine, theirs = factory.company(), factory.company()
    admin = factory.user(company=mine, role="admin")
    stranger = factory.user(company=theirs)
    strangers_browser = browser(app, ip="192.0.2.10")
    sign_in(strangers_browser, stranger.email)
    signed_in(admin)
    token = csrf_token(testapp, f"/c/{mine.id}/settings/people")
    testapp.post(f"/c/{mine.id}/settings/people/{stranger.id}/end-sessions",
                 {"csrf_token": token}, status=400)
    assert len(live_sessions(dbsession, stranger.id)) == 1
    strangers_browser.get("/account", status=200)


def test_a_user_ends_their_own_other_session(app, member, signed_in, testapp, dbsession):
    user, _company = member
    other = browser(app, ip="192.0.2.10")
    sign_in(other, user.email)
    signed_in(user)
    [others] = [row.id for row in live_sessions(dbsession, user.id) if row.ip == "192.0.2.10"]
    form = next(f for f in testapp.get("/account/sessions").forms.values()
                if "session_id" in f.fields and f["session_id"].value == others)
    form.submit(status=303)
    other.get("/account", status=303)
    testapp.get("/account", status=200)


# -- cookies -------------------------------------------------------------------

def cookie_headers(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header.lower() for header in response.headers.getall("Set-Cookie")}


def cookies_of_a_sign_in(app, user, **environ) -> dict[str, str]:
    visitor = browser(app, **environ)
    locale = visitor.post("/locale", {"csrf_token": csrf_token(visitor), "locale": "en"})
    form = password_step(visitor, user.email)
    form["password"] = PASSWORD
    signed = form.submit(status=303)
    cookies = cookie_headers(locale)
    cookies.update(cookie_headers(signed))
    assert {SESSION_COOKIE, DEVICE_COOKIE, LOCALE_COOKIE} <= set(cookies)
    return cookies


def test_cookies_are_http_only_and_same_site_lax(app, member):
    user, _company = member
    for name, header in cookies_of_a_sign_in(app, user).items():
        assert "; httponly" in header and "; samesite=lax" in header, name
        assert "; secure" not in header, name  # mypages.session.secure is false here


def test_cookies_are_secure_when_the_setting_says_so(member, mypages_settings):
    user, _company = member
    with second_app(mypages_settings, **{"mypages.session.secure": "true"}) as secure_app:
        cookies = cookies_of_a_sign_in(secure_app, user, **{"wsgi.url_scheme": "https",
                                                             "HTTP_ORIGIN": "https://localhost"})
    for name, header in cookies.items():
        assert "; secure" in header and "; httponly" in header and "; samesite=lax" in header, name
