"""Brute-force defence (ASVS 6.1.1, 6.3.1): growing delays per account and per address,
kept in the database so every worker sees them, never a way to lock the owner out.

Time is simulated by moving the rows of ``login_throttles``: "the delay has passed" is
``blocked_until`` in the past, "hours later" is ``last_failure_at`` moved back.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import update

from mypages.accounts.devices import COOKIE as DEVICE_COOKIE
from mypages.accounts.models import LoginThrottle, UserSession
from mypages.accounts.throttle import ACCOUNT_FREE_FAILURES, ADDRESS_FREE_FAILURES, MAX_DELAY, SIGN_IN
from mypages.accounts.views.sign_in import too_many
from mypages.db import utcnow
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import (actions, add_totp, browser, code_at, count, live_sessions,
                                    second_app, steady_step, submit_code, translated)

ATTACKER_IP = "198.51.100.7"
OWNER_IP = "203.0.113.5"
WRONG = "a wrong guess, again"
WAIT = re.compile(r"\d+")


def account_key(user) -> str:
    return SIGN_IN.target_key(user.email)


def throttle(dbsession, key: str) -> LoginThrottle | None:
    dbsession.expire_all()
    return dbsession.get(LoginThrottle, key)


def delay_of(row: LoginThrottle) -> dt.timedelta:
    return row.blocked_until - row.last_failure_at


def let_the_delay_pass(dbsession) -> None:
    dbsession.execute(update(LoginThrottle).values(blocked_until=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()


def move_back(dbsession, key: str, by: dt.timedelta) -> None:
    row = throttle(dbsession, key)
    row.last_failure_at -= by
    row.blocked_until -= by
    dbsession.commit()


def fail(testapp, email: str, times: int = 1) -> None:
    for _ in range(times):
        sign_in(testapp, email, WRONG, status=400)


def waited_seconds(app, page) -> int:
    """The seconds in the translated "wait" message of ``page``."""
    for seconds in map(int, WAIT.findall(page.text)):
        if translated(app, too_many(seconds)) in page.text:
            return seconds
    raise AssertionError("no translated 'wait N seconds' message on the page")


def assert_throttled(app, dbsession, page, sessions_before: int) -> int:
    assert page.status_int == 429
    assert actions(dbsession)[-1] == "account.sign_in_throttled"
    assert count(dbsession, UserSession) == sessions_before
    return waited_seconds(app, page)


@pytest.fixture
def owner(factory):
    company = factory.company()
    return factory.user(company=company), company


def test_the_wait_message_is_translated(app):
    message = too_many(42)
    assert translated(app, message, "en") == "Too many attempts. Wait 42 seconds and try again."
    for language in ("sv", "da", "nb", "fi", "lt", "lv", "et"):
        assert translated(app, message, language) != translated(app, message, "en"), language
        assert "42" in translated(app, message, language), language


def test_delays_grow_per_account_up_to_fifteen_minutes(app, owner, dbsession):
    user, _company = owner
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES - 1)
    assert throttle(dbsession, account_key(user)).blocked_until <= utcnow()  # free failures
    delays = []
    for _ in range(3):
        fail(attacker, user.email)
        delays.append(delay_of(throttle(dbsession, account_key(user))).total_seconds())
        let_the_delay_pass(dbsession)
    assert delays == [1, 2, 4]
    # long after: a persistent attacker waits at most fifteen minutes per attempt
    dbsession.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(user))
                      .values(failures=40))
    dbsession.commit()
    fail(attacker, user.email)
    assert delay_of(throttle(dbsession, account_key(user))) == MAX_DELAY == dt.timedelta(minutes=15)
    page = sign_in(attacker, user.email, status=429)
    assert 890 <= assert_throttled(app, dbsession, page, 0) <= 900


def test_while_blocked_even_the_right_password_is_refused_unchecked(app, owner, dbsession):
    user, _company = owner
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES)
    assert throttle(dbsession, account_key(user)).blocked_until > utcnow()
    # as after a longer series of failures
    dbsession.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(user))
                      .values(blocked_until=utcnow() + dt.timedelta(seconds=60)))
    dbsession.commit()
    failed_before = actions(dbsession).count("account.sign_in_failed")
    right = sign_in(attacker, user.email, status=429)
    assert 55 <= assert_throttled(app, dbsession, right, 0) <= 60
    wrong = sign_in(attacker, user.email, WRONG, status=429)
    assert_throttled(app, dbsession, wrong, 0)
    # the password was not looked at: the same answer, and no failure counted
    assert right.html.find(class_="error").text == wrong.html.find(class_="error").text
    assert throttle(dbsession, account_key(user)).failures == ACCOUNT_FREE_FAILURES
    assert actions(dbsession).count("account.sign_in_failed") == failed_before
    attacker.get("/account", status=303)


def test_failures_on_one_worker_slow_down_another(app, owner, dbsession, mypages_settings):
    user, company = owner
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES)
    for _ in range(2):  # the delay grows to four seconds
        let_the_delay_pass(dbsession)
        fail(attacker, user.email)
    with second_app(mypages_settings) as other_worker:
        page = sign_in(browser(other_worker, ATTACKER_IP), user.email, status=429)
        assert 1 <= assert_throttled(app, dbsession, page, 0) <= 4
        # the address counts on every worker too
        elsewhere = browser(other_worker, ATTACKER_IP)
        sign_in(elsewhere, "someone.else@example.se", WRONG, status=400)
    assert throttle(dbsession, SIGN_IN.address_key(ATTACKER_IP)).failures == ACCOUNT_FREE_FAILURES + 3


def test_failures_per_address_slow_down_every_account_on_every_worker(app, factory, owner,
                                                                       dbsession, mypages_settings):
    user, company = owner
    # the owner's browser has signed in before (a known device) from the office address
    owners_browser = browser(app, OWNER_IP)
    sign_in(owners_browser, user.email)
    owners_browser.post("/logout", {"csrf_token": csrf_token(owners_browser, "/account")})
    assert owners_browser.cookies.get(DEVICE_COOKIE)
    # someone on the same address has tried many accounts (nineteen earlier failures)
    dbsession.add(LoginThrottle(key=SIGN_IN.address_key(OWNER_IP), failures=ADDRESS_FREE_FAILURES - 1,
                                last_failure_at=utcnow(), blocked_until=utcnow()))
    dbsession.commit()
    guesser = browser(app, OWNER_IP)
    fail(guesser, "first@example.se")
    for victim in ("second@example.se", "third@example.se"):  # the delay grows to four seconds
        let_the_delay_pass(dbsession)
        fail(guesser, victim)
    assert delay_of(throttle(dbsession, SIGN_IN.address_key(OWNER_IP))) == dt.timedelta(seconds=4)
    with second_app(mypages_settings) as other_worker:
        # per-address limits hold even for a known device
        same_address = browser(other_worker, OWNER_IP)
        same_address.set_cookie(DEVICE_COOKIE, owners_browser.cookies[DEVICE_COOKIE])
        page = sign_in(same_address, user.email, status=429)
        assert_throttled(app, dbsession, page, 1)
        # another address is not slowed down by them
        sign_in(browser(other_worker, ATTACKER_IP), user.email, status=303)
    assert len(live_sessions(dbsession, user.id)) == 1


def test_failures_do_not_lock_the_owner_out_of_a_browser_used_before(app, owner, dbsession):
    user, company = owner
    owners_browser = browser(app, OWNER_IP)
    sign_in(owners_browser, user.email)
    owners_browser.post("/logout", {"csrf_token": csrf_token(owners_browser, "/account")})
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES)
    # a relentless attacker: the account waits the longest delay
    dbsession.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(user))
                      .values(blocked_until=utcnow() + MAX_DELAY))
    dbsession.commit()
    sign_in(attacker, user.email, status=429)
    # the owner's typo counts against their address only, not the account
    sign_in(owners_browser, user.email, WRONG, status=400)
    assert throttle(dbsession, account_key(user)).failures == ACCOUNT_FREE_FAILURES
    sign_in(owners_browser, user.email, status=303)
    owners_browser.get(f"/c/{company.id}/", status=200)
    assert actions(dbsession)[-1] == "account.signed_in"


def test_failures_do_not_lock_the_owner_out_at_the_code_step_either(app, owner, dbsession, clock):
    user, company = owner
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock)
    owners_browser = browser(app, OWNER_IP)
    sign_in(owners_browser, user.email)
    submit_code(owners_browser, code_at(secret, now), status=303)
    owners_browser.post("/logout", {"csrf_token": csrf_token(owners_browser, "/account")})
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES)
    dbsession.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(user))
                      .values(blocked_until=utcnow() + MAX_DELAY))
    dbsession.commit()
    sign_in(owners_browser, user.email, status=303)
    submit_code(owners_browser, code_at(secret, now + 1), status=303)
    owners_browser.get(f"/c/{company.id}/", status=200)


def test_counters_are_forgotten_after_twelve_hours(app, owner, dbsession):
    user, _company = owner
    attacker = browser(app, ATTACKER_IP)
    fail(attacker, user.email, ACCOUNT_FREE_FAILURES)
    move_back(dbsession, account_key(user), dt.timedelta(hours=11))
    fail(attacker, user.email)  # eleven hours later the count goes on
    row = throttle(dbsession, account_key(user))
    assert row.failures == ACCOUNT_FREE_FAILURES + 1 and delay_of(row) == dt.timedelta(seconds=2)
    move_back(dbsession, account_key(user), dt.timedelta(hours=12, minutes=1))
    fail(attacker, user.email)  # twelve hours later it starts again
    row = throttle(dbsession, account_key(user))
    assert row.failures == 1 and row.blocked_until <= utcnow()
    sign_in(attacker, user.email, status=303)
    assert throttle(dbsession, account_key(user)) is None  # a success clears the account


def test_guessing_the_code_is_throttled_too(app, owner, dbsession, clock):
    user, company = owner
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock)
    attacker = browser(app, ATTACKER_IP)  # knows the password, guesses the code
    sign_in(attacker, user.email)
    wrong = "000000" if code_at(secret, now) != "000000" else "111111"
    for _ in range(ACCOUNT_FREE_FAILURES):
        submit_code(attacker, wrong, status=400)
    assert actions(dbsession).count("two_factor.code_refused") == ACCOUNT_FREE_FAILURES
    assert throttle(dbsession, account_key(user)).blocked_until > utcnow()
    dbsession.execute(update(LoginThrottle).where(LoginThrottle.key == account_key(user))
                      .values(blocked_until=utcnow() + dt.timedelta(seconds=60)))
    dbsession.commit()
    page = submit_code(attacker, code_at(secret, now), status=429)  # even the right code
    assert 55 <= waited_seconds(app, page) <= 60
    assert actions(dbsession)[-1] == "two_factor.code_throttled"
    assert count(dbsession, UserSession) == 0
    attacker.get(f"/c/{company.id}/", status=303)


def test_signing_in_again_does_not_reset_the_count_of_wrong_codes(app, owner, dbsession, clock):
    user, _company = owner
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock)
    attacker = browser(app, ATTACKER_IP)  # knows the password, guesses the code
    wrong = "000000" if code_at(secret, now) != "000000" else "111111"
    sign_in(attacker, user.email)
    for _ in range(ACCOUNT_FREE_FAILURES - 1):
        submit_code(attacker, wrong, status=400)
    sign_in(attacker, user.email)  # the right password starts a fresh attempt...
    submit_code(attacker, wrong, status=400)  # ...but the wrong codes still add up
    row = throttle(dbsession, account_key(user))
    assert row.failures == ACCOUNT_FREE_FAILURES and row.blocked_until > utcnow()
