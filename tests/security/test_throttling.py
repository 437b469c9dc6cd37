"""Throttling beyond passwords: asking for password-reset links, following them, accepting
invitations and starting Single Sign On sign-ins are limited per address and per target, in
the database so every worker sees the same counts. A throttled request gets a translated 429
and changes nothing; the answers for known and unknown e-mail addresses stay the same.

Time is simulated by moving the rows of ``login_throttles``: "the period is over" is
``blocked_until`` in the past.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets

import pytest
from sqlalchemy import select, update

from mypages.accounts import email_tokens
from mypages.accounts.models import EmailToken, LoginThrottle, User
from mypages.accounts.passwords import verify_password
from mypages.accounts.throttle import (FORGET_AFTER, INVITATION, PASSWORD_RESET, RESET_LINK,
                                       SIGN_IN, SSO_START, too_many)
from mypages.companies.models import Invitation, Membership
from mypages.db import utcnow
from mypages.jobs import Worker
from mypages.jobs.models import QueuedJob
from mypages.sso.models import SsoAttempt, SsoConnection
from mypages.testing.factories import DEFAULT_PASSWORD
from mypages.testing.sso import start_sign_in
from tests.security.oidc_support import company, entra  # noqa: F401
from tests.security.support import actions, browser, count, second_app, translated

NEW_PASSWORD = "violet tractor juggles forty lanterns"
WAIT = re.compile(r"\d+")
CSRF = re.compile(r'name="csrf_token" value="[^"]+"')


def address(number: int) -> str:
    return f"198.51.100.{number}"


def waited_seconds(app, page) -> int:
    """The seconds of the translated "wait" message of a 429 page."""
    assert page.status_int == 429, page.status
    for seconds in map(int, WAIT.findall(page.text)):
        if translated(app, too_many(seconds)) in page.text:
            return seconds
    raise AssertionError("no translated 'wait N seconds' message on the page")


def let_the_period_pass(dbsession) -> None:
    dbsession.execute(update(LoginThrottle).values(blocked_until=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()


def counter(dbsession, key: str) -> LoginThrottle | None:
    dbsession.expire_all()
    return dbsession.get(LoginThrottle, key)


def almost_used_up(dbsession, key: str, limit) -> None:
    """A counter one request short of its limit, as many earlier requests leave it."""
    now = utcnow()
    dbsession.add(LoginThrottle(key=key, failures=limit.limit - 1, last_failure_at=now,
                                blocked_until=now + limit.period))
    dbsession.commit()


# -- asking for a password-reset link ----------------------------------------------------------

def ask_for_link(testapp, email: str, status: int = 200):
    form = testapp.get("/password/forgot").forms["forgot-form"]
    form["email"] = email
    return form.submit(status=status)


def queued_mails(dbsession) -> int:
    return count(dbsession, QueuedJob, QueuedJob.name == "accounts.password_reset_mail")


def test_reset_links_for_one_address_are_limited_whoever_asks(app, factory, dbsession):
    user = factory.user()
    limit = PASSWORD_RESET.per_target.limit
    for number in range(limit):  # from as many addresses
        ask_for_link(browser(app, address(number)), user.email)
    page = ask_for_link(browser(app, address(99)), user.email, status=429)
    assert 3590 <= waited_seconds(app, page) <= 3600
    assert page.forms["forgot-form"]  # the form stays, with the message
    assert queued_mails(dbsession) == limit
    assert actions(dbsession)[-1] == "account.password_reset_throttled"
    # other addresses are not held up, and the limit ends with its period
    ask_for_link(browser(app, address(99)), "someone.else@example.se")
    let_the_period_pass(dbsession)
    ask_for_link(browser(app, address(99)), user.email)
    assert queued_mails(dbsession) == limit + 2


def test_reset_links_from_one_address_are_limited_whatever_it_asks_for(app, dbsession):
    asker = browser(app, address(1))
    limit = PASSWORD_RESET.per_address.limit
    for number in range(limit):
        ask_for_link(asker, f"person{number}@example.se")
    waited_seconds(app, ask_for_link(asker, "one.more@example.se", status=429))
    assert queued_mails(dbsession) == limit
    ask_for_link(browser(app, address(2)), "one.more@example.se")  # another address may


def test_the_throttled_answer_is_the_same_for_known_and_unknown_addresses(app, factory, dbsession):
    known = factory.user()
    unknown = "nobody.here@example.se"
    pages = {}
    for email in (known.email, unknown):
        for number in range(PASSWORD_RESET.per_target.limit):
            pages.setdefault("sent", []).append(ask_for_link(browser(app, address(number)), email))
        pages.setdefault("throttled", []).append(
            ask_for_link(browser(app, address(99)), email, status=429))
    for kind, (for_known, for_unknown) in (("sent", pages["sent"][::5]),
                                           ("throttled", pages["throttled"])):
        assert for_known.status_int == for_unknown.status_int, kind
        same = [WAIT.sub("N", CSRF.sub("", page.text)) for page in (for_known, for_unknown)]
        assert same[0] == same[1], kind


# -- following a password-reset link (checking what came by e-mail) ----------------------------

def reset_link(dbsession, user) -> str:
    token = email_tokens.issue(dbsession, "reset", user_id=user.id)
    dbsession.commit()
    return f"/password/reset/{token}"


def choose_password(testapp, path: str, new: str = NEW_PASSWORD, repeat: str | None = None,
                    status: int = 303):
    form = testapp.get(path).forms["reset-form"]
    form["new"], form["repeat"] = new, new if repeat is None else repeat
    return form.submit(status=status)


def test_guessing_reset_links_is_limited_per_address(app, factory, dbsession):
    user = factory.user()
    path = reset_link(dbsession, user)
    guesser = browser(app, address(1))
    for _ in range(RESET_LINK.per_address.limit):
        guesser.get(f"/password/reset/{secrets.token_urlsafe(32)}", status=404)
    page = guesser.get(f"/password/reset/{secrets.token_urlsafe(32)}", status=429)
    assert 3590 <= waited_seconds(app, page) <= 3600
    assert page.headers["Retry-After"] == str(waited_seconds(app, page))
    guesser.get(path, status=429)  # even a right link, now
    assert actions(dbsession)[-1] == "account.reset_link_throttled"
    # the owner on another address follows the link as usual
    choose_password(browser(app, address(2)), path)
    assert verify_password(counted_user(dbsession, user).password_hash, NEW_PASSWORD)


def counted_user(dbsession, user) -> User:
    dbsession.expire_all()
    return dbsession.get(User, user.id)


def test_refused_forms_on_one_reset_link_are_limited_from_any_address(app, factory, dbsession):
    user = factory.user()
    path = reset_link(dbsession, user)
    for number in range(RESET_LINK.per_target.limit):
        choose_password(browser(app, address(number)), path, repeat="not the same", status=400)
    form = browser(app, address(99)).get(path, status=429)
    assert "reset-form" not in form.text
    # the link is not used up, the password not changed, while it waits
    assert verify_password(counted_user(dbsession, user).password_hash, DEFAULT_PASSWORD)
    assert count(dbsession, EmailToken, EmailToken.used_at.is_not(None)) == 0
    browser(app, address(99)).get(reset_link(dbsession, user), status=200)  # another link may
    let_the_period_pass(dbsession)
    choose_password(browser(app, address(99)), path)
    assert verify_password(counted_user(dbsession, user).password_hash, NEW_PASSWORD)


# -- accepting an invitation ------------------------------------------------------------------

def invitation_link(dbsession, company, email: str = "nora@example.se") -> str:
    invitation = Invitation(company_id=company.id, email=email)
    dbsession.add(invitation)
    dbsession.flush()
    token = email_tokens.issue(dbsession, "invite", invitation_id=invitation.id)
    dbsession.commit()
    return f"/invitation/{token}"


def accept(testapp, path: str, repeat: str | None = None, status: int = 303):
    form = testapp.get(path).forms["invitation-form"]
    form["name"], form["password"] = "Nora", NEW_PASSWORD
    form["repeat"] = NEW_PASSWORD if repeat is None else repeat
    return form.submit(status=status)


def test_guessing_invitation_links_is_limited_per_address(app, factory, dbsession):
    inviting = factory.company()
    path = invitation_link(dbsession, inviting)
    guesser = browser(app, address(1))
    for _ in range(INVITATION.per_address.limit):
        guesser.get(f"/invitation/{secrets.token_urlsafe(32)}", status=404)
    waited_seconds(app, guesser.get(f"/invitation/{secrets.token_urlsafe(32)}", status=429))
    guesser.get(path, status=429)
    assert actions(dbsession)[-1] == "people.invitation_throttled"
    accept(browser(app, address(2)), path)  # the invitee, elsewhere, is not held up
    assert count(dbsession, Membership, Membership.company_id == inviting.id) == 1


def test_refused_forms_on_one_invitation_are_limited_from_any_address(app, factory, dbsession):
    inviting = factory.company()
    path = invitation_link(dbsession, inviting)
    for number in range(INVITATION.per_target.limit):
        accept(browser(app, address(number)), path, repeat="not the same", status=400)
    page = browser(app, address(99)).get(path, status=429)
    assert 3590 <= waited_seconds(app, page) <= 3600
    assert count(dbsession, User, User.email == "nora@example.se") == 0
    let_the_period_pass(dbsession)
    accept(browser(app, address(99)), path)
    assert count(dbsession, User, User.email == "nora@example.se") == 1


# -- starting a Single Sign On sign-in ---------------------------------------------------------

def test_sso_starts_are_limited_per_address(app, entra, dbsession):
    starter = browser(app, address(1))
    limit = SSO_START.per_address.limit
    almost_used_up(dbsession, SSO_START.address_key(address(1)), SSO_START.per_address)
    starter.get("/sso/start", {"email": "anna@example.se"}, status=303)
    page = starter.get("/sso/start", {"email": "anna@example.se"}, status=429)
    assert 50 <= waited_seconds(app, page) <= 60
    waited_seconds(app, start_sign_in(starter, "anna@example.se", status=429))  # identifier-first
    assert counter(dbsession, SSO_START.address_key(address(1))).failures == limit
    assert count(dbsession, SsoAttempt) == 1
    assert actions(dbsession)[-1] == "sso.start_throttled"
    browser(app, address(2)).get("/sso/start", {"email": "anna@example.se"}, status=303)


def test_sso_starts_are_limited_per_connection(app, entra, dbsession, mypages_settings):
    connection = dbsession.scalars(select(SsoConnection)).one()
    almost_used_up(dbsession, SSO_START.target_key(connection.id), SSO_START.per_target)
    browser(app, address(1)).get("/sso/start", {"email": "anna@example.se"}, status=303)
    with second_app(mypages_settings) as other_worker:  # every worker counts together
        page = browser(other_worker, address(2)).get("/sso/start", {"email": "anna@example.se"},
                                                     status=429)
        waited_seconds(app, page)
    assert count(dbsession, SsoAttempt) == 1
    let_the_period_pass(dbsession)
    browser(app, address(2)).get("/sso/start", {"email": "anna@example.se"}, status=303)


def test_every_throttled_message_is_translated(app):
    from mypages.accounts.throttle import TOO_MANY

    for language in ("sv", "da", "nb", "fi", "lt", "lv", "et"):
        assert translated(app, TOO_MANY, language) != translated(app, TOO_MANY, "en"), language


# -- the counters do not pile up ---------------------------------------------------------------

def test_old_counters_are_cleared_out(app, dbsession):
    now = utcnow()
    old, fresh = SIGN_IN.address_key(address(1)), PASSWORD_RESET.address_key(address(2))
    dbsession.add_all([
        LoginThrottle(key=old, failures=3, last_failure_at=now - FORGET_AFTER - dt.timedelta(hours=1),
                      blocked_until=now - FORGET_AFTER),
        LoginThrottle(key=fresh, failures=3, last_failure_at=now, blocked_until=now + dt.timedelta(hours=1)),
    ])
    dbsession.commit()
    assert "jobs.purge" in Worker(app.registry).run_periodic(due_only=False)  # the nightly purge
    assert counter(dbsession, old) is None and counter(dbsession, fresh) is not None
