"""TOTP second factor (RFC 6238, ASVS 6.5): codes work once, even under a race; one step of
drift and no more; recovery codes; re-authentication before changing 2FA; secrets
encrypted at rest and rotatable without signing anyone out."""
from __future__ import annotations

import hashlib
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text

from mypages.accounts.models import RecoveryCode, TotpCredential, UserSession
from mypages.accounts.totp import normalize_recovery_code
from mypages.crypto import DEVELOPMENT_KEY
from mypages.services import settings_of
from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import (actions, add_totp, age_proofs, browser, code_at, count,
                                    enrol, live_sessions, second_app, session_cookie,
                                    steady_step, submit_code)


def keys_of(app) -> list[str]:
    """The keys the app under test encrypts with (the development key unless configured)."""
    return list(settings_of(app).encryption_keys) or [DEVELOPMENT_KEY]


@pytest.fixture
def member(factory):
    company = factory.company()
    return factory.user(company=company), company


def refused(dbsession, response, sessions_before: int) -> None:
    """A refused code: 400, audited, and nobody signed in."""
    assert response.status_int == 400
    assert actions(dbsession)[-1] == "two_factor.code_refused"
    assert count(dbsession, UserSession) == sessions_before


# -- a code works once -------------------------------------------------------------

def test_a_code_is_refused_the_second_time(app, member, testapp, dbsession, clock):
    user, company = member
    secret = add_totp(app, dbsession, user)
    code = code_at(secret, steady_step(clock))
    sign_in(testapp, user.email)
    submit_code(testapp, code, status=303)
    testapp.get(f"/c/{company.id}/", status=200)
    attacker = browser(app, ip="198.51.100.7")  # has the password and saw the code
    sign_in(attacker, user.email)
    sessions = count(dbsession, UserSession)
    refused(dbsession, submit_code(attacker, code, status=400), sessions)
    attacker.get(f"/c/{company.id}/", status=303)


@contextmanager
def hold_the_credential_row(engine, user_id: int):
    """Keep the lock a code's UPDATE needs, so racing requests both get there first."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            transaction = conn.begin()
            conn.execute(text("SELECT 1 FROM totp_credentials WHERE user_id = :id FOR UPDATE"),
                         {"id": user_id})
            yield lambda: _wait_for_lock_waiters(engine, 2)
            transaction.rollback()
    else:
        conn = sqlite3.connect(engine.url.database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")  # the write lock; readers go on (WAL)
        yield lambda: time.sleep(1.0)  # both requests reach their write and wait (busy_timeout)
        conn.execute("ROLLBACK")
        conn.close()


def _wait_for_lock_waiters(engine, expected: int) -> None:
    deadline = time.time() + 20
    with engine.connect() as conn:
        while time.time() < deadline:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'")).scalar()
            if waiting >= expected:
                return
            time.sleep(0.05)
    raise AssertionError("the racing requests never reached the code's UPDATE")


def test_two_sign_ins_racing_with_the_same_code_let_only_one_in(app, member, dbsession, clock):
    user, company = member
    secret = add_totp(app, dbsession, user)
    code = code_at(secret, steady_step(clock))
    browsers = [browser(app, ip="127.0.0.1"), browser(app, ip="198.51.100.7")]
    forms = []
    for each in browsers:
        sign_in(each, user.email)
        form = each.get("/login/verify").forms["verify-form"]
        form["code"] = code
        forms.append(form)
    with ThreadPoolExecutor(2) as pool:
        with hold_the_credential_row(app.registry["db.engine"], user.id) as both_waiting:
            racing = [pool.submit(form.submit, status="*") for form in forms]
            both_waiting()
        statuses = sorted(result.result(timeout=60).status_int for result in racing)
    assert statuses == [303, 400]
    assert len(live_sessions(dbsession, user.id)) == 1
    events = actions(dbsession)
    assert events.count("account.signed_in") == 1 and events.count("two_factor.code_refused") == 1


def test_one_step_of_drift_is_accepted_two_are_not(app, member, testapp, dbsession, clock):
    user, _company = member
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock, margin=6)  # all within this step: -2 and +2 must stay two away
    sign_in(testapp, user.email)
    for step in (now - 2, now + 2):
        refused(dbsession, submit_code(testapp, code_at(secret, step), status=400), 0)
    submit_code(testapp, code_at(secret, now - 1), status=303)
    testapp.reset()
    sign_in(testapp, user.email)
    submit_code(testapp, code_at(secret, now + 1), status=303)
    assert count(dbsession, UserSession) == 2


def test_an_older_code_is_refused_once_a_newer_one_was_used(app, member, testapp, dbsession, clock):
    user, _company = member
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock)
    sign_in(testapp, user.email)
    submit_code(testapp, code_at(secret, now + 1), status=303)
    testapp.reset()
    sign_in(testapp, user.email)
    for step in (now, now - 1):  # within the drift window, but older than the one used
        refused(dbsession, submit_code(testapp, code_at(secret, step), status=400), 1)


# -- recovery codes ------------------------------------------------------------------

@pytest.fixture
def enrolled(member, signed_in, testapp):
    user, company = member
    signed_in(user)
    secret, codes = enrol(testapp)
    testapp.reset()
    return user, company, secret, codes


def test_ten_recovery_codes_stored_hashed(enrolled, dbsession):
    user, _company, _secret, codes = enrolled
    assert len(codes) == len(set(codes)) == 10
    stored = dbsession.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10
    for code in codes:
        plain = normalize_recovery_code(code)
        assert all(plain not in value and code not in value for value in stored)
        assert hashlib.sha256(plain.encode()).hexdigest() in stored


def test_a_recovery_code_works_once(enrolled, testapp, dbsession):
    user, company, _secret, codes = enrolled
    sign_in(testapp, user.email)
    submit_code(testapp, codes[0], status=303)
    newest = max(live_sessions(dbsession, user.id), key=lambda row: row.created_at)
    assert set(newest.amr) == {"pwd", "recovery"}
    assert "two_factor.recovery_code_used" in actions(dbsession)
    testapp.reset()
    sign_in(testapp, user.email)
    refused(dbsession, submit_code(testapp, codes[0], status=400), count(dbsession, UserSession))
    testapp.get(f"/c/{company.id}/", status=303)
    dbsession.expire_all()
    assert count(dbsession, RecoveryCode, RecoveryCode.used_at.is_(None)) == 9


# -- re-authentication before changing 2FA (ASVS 6.5.x, 7.5.1) ---------------------------

def test_turning_2fa_off_needs_a_recent_proof(enrolled, testapp, dbsession, clock):
    user, _company, secret, codes = enrolled
    now = steady_step(clock)  # enrolment used this step or the one before
    sign_in(testapp, user.email)
    submit_code(testapp, codes[0], status=303)
    age_proofs(dbsession, user.id, minutes=11)
    token = csrf_token(testapp, "/account/two-factor")
    response = testapp.post("/account/two-factor", {"csrf_token": token, "action": "disable"},
                            status=303)
    assert response.location.startswith("http://localhost/account/confirm")
    assert dbsession.get(TotpCredential, user.id) is not None
    assert "two_factor.disabled" not in actions(dbsession)
    # a wrong password does not count as a proof
    form = testapp.get(response.location).forms["reauth-form"]
    form["password"], form["code"] = "not the password", code_at(secret, now + 1)
    form.submit(status=400)
    assert actions(dbsession)[-1] == "account.sign_in_failed"
    form["password"] = "correct horse battery staple"
    form.submit(status=303)
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "disable"}, status=303)
    dbsession.expire_all()
    assert dbsession.get(TotpCredential, user.id) is None
    assert "two_factor.disabled" in actions(dbsession)


def test_new_recovery_codes_need_a_recent_proof(enrolled, testapp, dbsession):
    user, _company, secret, codes = enrolled
    sign_in(testapp, user.email)
    submit_code(testapp, codes[0], status=303)
    age_proofs(dbsession, user.id, minutes=11)
    stored = set(dbsession.scalars(select(RecoveryCode.code_hash)).all())
    token = csrf_token(testapp, "/account/two-factor")
    response = testapp.post("/account/two-factor/recovery-codes", {"csrf_token": token}, status=303)
    assert "/account/confirm" in response.location
    assert set(dbsession.scalars(select(RecoveryCode.code_hash)).all()) == stored
    form = testapp.get(response.location).forms["reauth-form"]
    form["password"], form["code"] = "correct horse battery staple", codes[1]
    form.submit(status=303)
    token = csrf_token(testapp, "/account/two-factor")
    page = testapp.post("/account/two-factor/recovery-codes", {"csrf_token": token}, status=200)
    fresh = [li.text.strip() for li in page.html.find(id="recovery-codes").find_all("li")]
    assert len(fresh) == 10
    testapp.reset()
    sign_in(testapp, user.email)
    submit_code(testapp, codes[2], status=400)  # the old codes are gone
    submit_code(testapp, fresh[0], status=303)


# -- the secret at rest, and key rotation ------------------------------------------------

def test_the_secret_is_encrypted_at_rest(enrolled, app, dbsession):
    user, _company, secret, _codes = enrolled
    stored = dbsession.get(TotpCredential, user.id).secret_encrypted
    assert secret not in stored and secret.lower() not in stored.lower()
    assert Fernet(keys_of(app)[0].encode()).decrypt(stored.encode()).decode() == secret


def test_rotating_the_key_keeps_codes_working_and_signs_nobody_out(
        app, member, testapp, dbsession, mypages_settings, tmp_path, clock):
    user, company = member
    secret = add_totp(app, dbsession, user)
    now = steady_step(clock)
    sign_in(testapp, user.email)
    submit_code(testapp, code_at(secret, now), status=303)
    testapp.get(f"/c/{company.id}/", status=200)
    sessions_before = [(row.id, row.ended_at) for row in live_sessions(dbsession)]

    old_keys, new_key = keys_of(app), Fernet.generate_key().decode()
    ini = tmp_path / "mypages.ini"
    ini.write_text("[app:main]\nuse = egg:mypages\nmypages.environment = test\n"
                   f"mypages.secret = {mypages_settings['mypages.secret']}\n"
                   f"mypages.encryption_keys = {','.join([new_key] + old_keys)}\n"
                   f"sqlalchemy.url = {mypages_settings['sqlalchemy.url']}\n")
    OperatorCli(ini=ini)("keys", "rotate")  # status 0
    assert "keys.rotated" in actions(dbsession)

    stored = dbsession.get(TotpCredential, user.id).secret_encrypted
    assert Fernet(new_key.encode()).decrypt(stored.encode()).decode() == secret
    for old in old_keys:
        with pytest.raises(InvalidToken):
            Fernet(old.encode()).decrypt(stored.encode())

    # the old key can now be dropped: a worker with only the new key
    with second_app(mypages_settings, **{"mypages.encryption_keys": new_key}) as rotated:
        same_browser = browser(rotated)
        same_browser.set_cookie("mypages_session", session_cookie(testapp))
        same_browser.get(f"/c/{company.id}/", status=200)
        assert [(row.id, row.ended_at) for row in live_sessions(dbsession)] == sessions_before
        fresh = browser(rotated, ip="198.51.100.7")
        sign_in(fresh, user.email)
        submit_code(fresh, code_at(secret, now + 1), status=303)
        fresh.get(f"/c/{company.id}/", status=200)
