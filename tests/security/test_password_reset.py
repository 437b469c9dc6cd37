"""Password reset (ASVS 6.3.4, 6.4.3): never a way around the second factor or a company's
Single Sign On requirement, the same answer for every address, links single-use,
time-limited and stored hashed. The mail is read from a real SMTP server."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update

from mypages.accounts.models import EmailToken, User, UserSession
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.jobs.models import QueuedJob
from mypages.db import utcnow
from mypages.testing.plugin import sign_in
from tests.security.support import (actions, add_totp, browser, code_at, count, link_in,
                                    live_sessions, run_jobs, steady_step, submit_code)

NEW_PASSWORD = "a fresh and unusual passphrase"


def ask_for_a_link(testapp, email: str):
    form = testapp.get("/password/forgot").forms["forgot-form"]
    form["email"] = email
    return form.submit(status=200)


def link_for(app, testapp, mailbox, email: str) -> str:
    ask_for_a_link(testapp, email)
    run_jobs(app)
    [mail] = mailbox.to(email)
    return link_in(mail)


def choose(testapp, link: str, password: str = NEW_PASSWORD, status=303):
    form = testapp.get(link).forms["reset-form"]
    form["new"] = form["repeat"] = password
    return form.submit(status=status)


def password_hash(dbsession, user) -> str:
    dbsession.expire_all()
    return dbsession.get(User, user.id).password_hash


@pytest.fixture
def member(factory):
    company = factory.company()
    return factory.user(company=company), company


def test_a_reset_starts_no_session_and_sign_in_still_asks_for_the_code(app, member, testapp,
                                                                       dbsession, mailbox, clock):
    user, company = member
    secret = add_totp(app, dbsession, user)
    elsewhere = browser(app, ip="192.0.2.10")  # an older session, e.g. of a thief
    sign_in(elsewhere, user.email)
    submit_code(elsewhere, code_at(secret, steady_step(clock)), status=303)
    sessions = count(dbsession, UserSession)
    done = choose(testapp, link_for(app, testapp, mailbox, user.email))
    assert "/login" in done.location
    assert count(dbsession, UserSession) == sessions  # no session made by the reset
    assert live_sessions(dbsession, user.id) == []  # and the old one ended
    assert actions(dbsession)[-1] == "account.password_reset"
    testapp.get(f"/c/{company.id}/", status=303)
    elsewhere.get(f"/c/{company.id}/", status=303)
    # the new password is one factor of two, as before
    response = sign_in(testapp, user.email, NEW_PASSWORD)
    assert response.location.endswith("/login/verify")
    testapp.get(f"/c/{company.id}/", status=303)
    assert count(dbsession, UserSession) == sessions
    submit_code(testapp, code_at(secret, steady_step(clock) + 1), status=303)
    testapp.get(f"/c/{company.id}/", status=200)


@pytest.fixture
def sso_company(factory, dbsession):
    company = factory.company()
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.commit()
    return company


def test_no_reset_for_people_whose_company_requires_sso(app, sso_company, factory, testapp,
                                                        dbsession, mailbox):
    user = factory.user(company=sso_company)
    before = user.password_hash
    ask_for_a_link(testapp, user.email)
    run_jobs(app)
    assert mailbox.messages == []  # nothing is sent
    assert count(dbsession, EmailToken) == 0
    assert actions(dbsession)[-1] == "account.password_reset_refused_sso_required"
    assert password_hash(dbsession, user) == before


def test_a_link_sent_before_sso_was_required_stops_working(app, member, testapp, dbsession,
                                                           mailbox):
    user, company = member
    before = user.password_hash
    link = link_for(app, testapp, mailbox, user.email)
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.commit()
    testapp.get(link, status=200)  # still unused, but...
    form = testapp.get(link).forms["reset-form"]
    form["new"] = form["repeat"] = NEW_PASSWORD
    form.submit(status=403)
    assert password_hash(dbsession, user) == before
    assert count(dbsession, UserSession) == 0


def test_break_glass_admins_keep_the_reset(app, sso_company, factory, testapp, dbsession, mailbox):
    admin = factory.user(company=sso_company, role="admin")
    dbsession.add(BreakGlassAdmin(company_id=sso_company.id, user_id=admin.id))
    dbsession.commit()
    choose(testapp, link_for(app, testapp, mailbox, admin.email))
    assert actions(dbsession)[-1] == "account.password_reset"
    assert count(dbsession, UserSession) == 0
    sign_in(testapp, admin.email, NEW_PASSWORD)


def test_the_same_answer_for_known_and_unknown_addresses(app, member, testapp, dbsession):
    user, _company = member
    known = ask_for_a_link(testapp, user.email)
    unknown = ask_for_a_link(testapp, "nobody.here@example.se")
    assert known.status_int == unknown.status_int == 200
    assert known.body == unknown.body
    jobs = dbsession.scalars(select(QueuedJob).order_by(QueuedJob.id)).all()
    assert [(job.name, job.payload["email"]) for job in jobs] == [
        ("accounts.password_reset_mail", user.email),
        ("accounts.password_reset_mail", "nobody.here@example.se")]


def test_a_link_works_once_and_is_stored_hashed(app, member, testapp, dbsession, mailbox):
    user, _company = member
    link = link_for(app, testapp, mailbox, user.email)
    token = link.rsplit("/", 1)[1]
    [row] = dbsession.scalars(select(EmailToken)).all()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    first, second = (testapp.get(link).forms["reset-form"] for _ in range(2))
    first["new"] = first["repeat"] = NEW_PASSWORD
    first.submit(status=303)
    changed = password_hash(dbsession, user)
    second["new"] = second["repeat"] = "yet another passphrase here"
    second.submit(status=404)
    testapp.get(link, status=404)
    assert password_hash(dbsession, user) == changed


def test_an_expired_link_does_not_work(app, member, testapp, dbsession, mailbox):
    user, _company = member
    before = user.password_hash
    link = link_for(app, testapp, mailbox, user.email)
    form = testapp.get(link).forms["reset-form"]
    dbsession.execute(update(EmailToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()
    form["new"] = form["repeat"] = NEW_PASSWORD
    form.submit(status=404)
    assert password_hash(dbsession, user) == before
