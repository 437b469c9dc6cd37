"""Forged client addresses: ``X-Forwarded-For`` is the client's own writing unless a trusted
proxy wrote it, so it neither dodges nor aims the throttling, nor shows in the audit trail or
the sessions list."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.accounts.devices import COOKIE as DEVICE_COOKIE
from mypages.accounts.models import LoginThrottle
from mypages.accounts.throttle import ADDRESS_FREE_FAILURES, SIGN_IN
from mypages.audit.models import AuditEvent
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import browser, count, live_sessions, second_app

ATTACKER_IP = "198.51.100.7"
OWNER_IP = "203.0.113.5"
FORGED = "6.6.6.6"
PROXY_IP = "10.0.0.2"
WRONG = "a wrong guess, again"


def forging(testapp, forwarded_for: str):
    testapp.extra_environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return testapp


def audited_addresses(dbsession, action: str) -> list[str]:
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent.ip).where(AuditEvent.action == action)).all()


def throttled_keys(dbsession) -> set[str]:
    dbsession.expire_all()
    return set(dbsession.scalars(select(LoginThrottle.key)).all())


@pytest.fixture
def owner(factory):
    company = factory.company()
    return factory.user(company=company), company


@pytest.fixture
def behind_balancer(app, mypages_settings):
    """Another worker, configured to trust the load balancers in 10.0.0.0/8."""
    with second_app(mypages_settings, **{"mypages.trusted_proxies": "10.0.0.0/8"}) as balanced:
        yield balanced


def test_spraying_with_a_new_forged_address_per_request_is_throttled(app, owner, dbsession):
    user, _company = owner
    attacker = browser(app, ATTACKER_IP)
    for attempt in range(ADDRESS_FREE_FAILURES):
        forging(attacker, f"192.0.2.{attempt + 1}")
        sign_in(attacker, f"person{attempt}@example.se", WRONG, status=400)
    forging(attacker, "192.0.2.200")
    page = sign_in(attacker, user.email, WRONG, status=429)
    assert page.html.find(class_="error") is not None
    assert SIGN_IN.address_key(ATTACKER_IP) in throttled_keys(dbsession)
    assert not any("192.0.2." in key for key in throttled_keys(dbsession))


def test_forging_the_victims_address_does_not_throttle_the_victim(app, owner, dbsession):
    user, company = owner
    owners_browser = browser(app, OWNER_IP)
    sign_in(owners_browser, user.email)
    owners_browser.post("/logout", {"csrf_token": csrf_token(owners_browser, "/account")})
    assert owners_browser.cookies.get(DEVICE_COOKIE)
    attacker = forging(browser(app, ATTACKER_IP), OWNER_IP)
    for attempt in range(ADDRESS_FREE_FAILURES + 2):
        sign_in(attacker, f"person{attempt}@example.se", WRONG, status=400 if attempt < ADDRESS_FREE_FAILURES else 429)
    assert SIGN_IN.address_key(OWNER_IP) not in throttled_keys(dbsession)
    # the owner's known browser and a new one on the owner's address are not slowed down
    sign_in(owners_browser, user.email, status=303)
    owners_browser.get(f"/c/{company.id}/", status=200)
    colleague = browser(app, OWNER_IP)
    sign_in(colleague, "colleague@example.se", WRONG, status=400)
    sign_in(colleague, user.email, status=303)


def test_audit_and_sessions_list_show_the_connection_not_the_header(app, owner, dbsession):
    user, _company = owner
    owners_browser = forging(browser(app, OWNER_IP), f"{FORGED}, 10.0.0.9")
    sign_in(owners_browser, user.email)
    [session] = live_sessions(dbsession, user.id)
    assert session.ip == OWNER_IP
    assert audited_addresses(dbsession, "account.signed_in") == [OWNER_IP]
    page = owners_browser.get("/account/sessions")
    assert OWNER_IP in page.text and FORGED not in page.text


def test_a_long_forged_header_is_never_stored(app, owner, dbsession):
    user, _company = owner
    owners_browser = forging(browser(app, OWNER_IP), "x" * 3000)
    sign_in(owners_browser, user.email, WRONG, status=400)
    sign_in(owners_browser, user.email, status=303)
    assert audited_addresses(dbsession, "account.sign_in_failed") == [OWNER_IP]
    assert [s.ip for s in live_sessions(dbsession, user.id)] == [OWNER_IP]


def test_behind_a_trusted_proxy_the_forwarded_address_is_used(app, behind_balancer, owner,
                                                              dbsession):
    user, _company = owner
    # the client wrote a left-most value of its own; the balancers added the rest
    through = forging(browser(behind_balancer, PROXY_IP), f"{FORGED}, {OWNER_IP}, 10.0.0.9")
    sign_in(through, user.email, WRONG, status=400)
    sign_in(through, user.email, status=303)
    assert [s.ip for s in live_sessions(dbsession, user.id)] == [OWNER_IP]
    assert audited_addresses(dbsession, "account.signed_in") == [OWNER_IP]
    assert OWNER_IP in through.get("/account/sessions").text
    assert SIGN_IN.address_key(OWNER_IP) in throttled_keys(dbsession)
    assert not {SIGN_IN.address_key(FORGED), SIGN_IN.address_key(PROXY_IP)} & throttled_keys(dbsession)


def test_behind_a_trusted_proxy_forged_left_most_values_still_count_as_one_address(
        app, behind_balancer, dbsession):
    attacker = browser(behind_balancer, PROXY_IP)
    for attempt in range(ADDRESS_FREE_FAILURES):
        forging(attacker, f"192.0.2.{attempt + 1}, {ATTACKER_IP}")
        sign_in(attacker, f"person{attempt}@example.se", WRONG, status=400)
    forging(attacker, f"192.0.2.200, {ATTACKER_IP}")
    sign_in(attacker, "someone@example.se", WRONG, status=429)
    # another client behind the same balancer is not slowed down
    sign_in(forging(browser(behind_balancer, PROXY_IP), OWNER_IP), "someone@example.se", WRONG,
            status=400)


def test_a_client_connecting_directly_cannot_pose_as_the_balancer(app, behind_balancer, owner,
                                                                  dbsession):
    user, _company = owner
    direct = forging(browser(behind_balancer, ATTACKER_IP), OWNER_IP)
    sign_in(direct, user.email, WRONG, status=400)
    assert audited_addresses(dbsession, "account.sign_in_failed") == [ATTACKER_IP]
    assert count(dbsession, LoginThrottle, LoginThrottle.key == SIGN_IN.address_key(OWNER_IP)) == 0
