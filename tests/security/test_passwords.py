"""Password storage and password rules (ASVS 6.2, 11.4.2).

argon2id at or above the OWASP floor, upgraded at the next sign-in; a company
may raise the bar but never below the platform floor; common passwords are
refused wherever a password is chosen: change, reset, invitation, CLI.
"""
from __future__ import annotations


import pytest
from argon2 import PasswordHasher, Type, extract_parameters
from sqlalchemy import select

from mypages.accounts.models import User
from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH
from mypages.accounts.passwords import OWASP_FLOOR, Passwords
from mypages.services import PasswordHasher as HasherService
from mypages.companies.models import Invitation, Membership
from mypages.policy.models import CompanyPolicy
from mypages.i18n import _
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import (actions, count, link_in, live_sessions, run_jobs,
                                    translated)

COMMON = ["password1234", "qwertyuiop123", "1qaz2wsx3edc"]
TOO_COMMON = _("This password is too common or too simple. Choose another.")
GOOD = "tangerine orbit lantern 42"


def assert_above_owasp_floor(password_hash: str) -> None:
    params = extract_parameters(password_hash)
    assert params.type is Type.ID
    assert params.memory_cost >= OWASP_FLOOR.memory_cost == 19 * 1024
    assert params.time_cost >= OWASP_FLOOR.time_cost == 2
    assert params.parallelism >= OWASP_FLOOR.parallelism == 1


@pytest.fixture
def default_cost(replace_service):
    """The app hashing at the default cost, as production does (the suite's is cheap)."""
    replace_service(HasherService, Passwords())


def stored_hash(dbsession, user) -> str:
    dbsession.expire_all()
    return dbsession.get(User, user.id).password_hash


def change_password(testapp, current, new, status):
    token = csrf_token(testapp, "/account/password")
    return testapp.post("/account/password", {"csrf_token": token, "current": current,
                                              "new": new, "repeat": new}, status=status)


# -- storage -------------------------------------------------------------------

def test_a_chosen_password_is_stored_with_argon2id_above_the_owasp_floor(default_cost, factory,
                                                                          signed_in, dbsession):
    user = factory.user()
    testapp = signed_in(user)
    change_password(testapp, factory.password, GOOD, status=303)
    stored = stored_hash(dbsession, user)
    assert GOOD not in stored
    assert_above_owasp_floor(stored)


@pytest.mark.parametrize("weak", [
    PasswordHasher(memory_cost=8 * 1024, time_cost=1, parallelism=1, type=Type.ID),
    PasswordHasher(memory_cost=19 * 1024, time_cost=2, parallelism=1, type=Type.I),
], ids=["below-the-floor", "argon2i"])
def test_weak_hashes_are_upgraded_at_the_next_sign_in_only(weak, default_cost, factory, testapp,
                                                           dbsession):
    user = factory.user()
    user.password_hash = weak.hash(factory.password)
    dbsession.commit()
    before = user.password_hash
    sign_in(testapp, user.email, "not the password", status=400)
    assert stored_hash(dbsession, user) == before  # a failed attempt proves nothing
    sign_in(testapp, user.email)
    upgraded = stored_hash(dbsession, user)
    assert upgraded != before
    assert_above_owasp_floor(upgraded)
    testapp.reset()
    sign_in(testapp, user.email)  # the upgraded hash still verifies the same password


# -- the platform floor and company policy ---------------------------------------

def test_a_company_can_raise_the_minimum_length(factory, signed_in, testapp, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    before = admin.password_hash
    signed_in(admin)
    form = testapp.get(f"/c/{company.id}/settings/security").forms["security-form"]
    form["password_min_length"] = "20"
    form.submit(status=303)
    page = change_password(testapp, factory.password, "sixteen chars ok", status=400)
    assert translated(testapp.app, _("The password must be at least ${length} characters long.",
                                     mapping={"length": 20})) in page.text
    assert stored_hash(dbsession, admin) == before
    change_password(testapp, factory.password, "twenty characters fine", status=303)


@pytest.mark.parametrize("lower", ["8", "11", "0", "-4"])
def test_a_company_cannot_lower_the_minimum_below_the_platform_floor(lower, factory, signed_in,
                                                                     testapp, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    signed_in(admin)
    form = testapp.get(f"/c/{company.id}/settings/security").forms["security-form"]
    form["password_min_length"] = lower
    form.submit(status=400)
    assert dbsession.get(CompanyPolicy, company.id) is None
    assert "policy.changed" not in actions(dbsession)


def test_a_policy_row_below_the_floor_still_gets_the_floor(factory, signed_in, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    dbsession.add(CompanyPolicy(company_id=company.id, password_min_length=6))
    dbsession.commit()
    before = user.password_hash
    testapp = signed_in(user)
    eleven = "kx7-orbit-q"
    assert len(eleven) == PLATFORM_MIN_LENGTH - 1 == 11
    change_password(testapp, factory.password, eleven, status=400)
    assert stored_hash(dbsession, user) == before


# -- common passwords, wherever one is chosen ------------------------------------

def test_common_passwords_are_in_the_shipped_list():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    assert set(COMMON) <= set(FREQUENCY_LISTS["passwords"])
    assert all(len(p) >= PLATFORM_MIN_LENGTH for p in COMMON)  # refused for being common alone


def test_common_passwords_are_refused_on_change(factory, signed_in, dbsession):
    user = factory.user()
    before = user.password_hash
    testapp = signed_in(user)
    for common in COMMON + ["PassWord1234"]:
        page = change_password(testapp, factory.password, common, status=400)
        assert translated(testapp.app, TOO_COMMON) in page.text, common
    assert stored_hash(dbsession, user) == before
    assert "account.password_changed" not in actions(dbsession)


def test_common_passwords_are_refused_on_reset(factory, testapp, dbsession, mailbox):
    user = factory.user()
    before = user.password_hash
    form = testapp.get("/password/forgot").forms["forgot-form"]
    form["email"] = user.email
    form.submit(status=200)
    run_jobs(testapp.app)
    [mail] = mailbox.to(user.email)
    form = testapp.get(link_in(mail)).forms["reset-form"]
    for common in COMMON:
        form["new"] = form["repeat"] = common
        page = form.submit(status=400)
        assert translated(testapp.app, TOO_COMMON) in page.text, common
    assert stored_hash(dbsession, user) == before
    form["new"] = form["repeat"] = GOOD  # the link still works for a good password
    form.submit(status=303)
    assert stored_hash(dbsession, user) != before


def test_common_passwords_are_refused_on_accepting_an_invitation(factory, signed_in, testapp,
                                                                 dbsession, mailbox):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    signed_in(admin)
    form = testapp.get(f"/c/{company.id}/settings/people").forms["invite-form"]
    form["email"] = "newcomer@example.se"
    form.submit(status=303)
    run_jobs(testapp.app)
    [mail] = mailbox.to("newcomer@example.se")
    testapp.reset()
    form = testapp.get(link_in(mail)).forms["invitation-form"]
    for common in COMMON:
        form["password"] = form["repeat"] = common
        page = form.submit(status=400)
        assert translated(testapp.app, TOO_COMMON) in page.text, common
    assert count(dbsession, User, User.email == "newcomer@example.se") == 0
    assert dbsession.scalars(select(Invitation)).one().accepted_at is None
    assert count(dbsession, Membership) == 1
    assert [row.user_id for row in live_sessions(dbsession)] == [admin.id]
    form["password"] = form["repeat"] = GOOD
    form.submit(status=303)
    assert count(dbsession, User, User.email == "newcomer@example.se") == 1


def test_common_passwords_are_refused_by_the_cli(app, mypages_cli, dbsession):
    result = mypages_cli("users", "create", "operator@example.se", input="password1234\n",
                         status=2)
    assert translated(app, TOO_COMMON, "en") in result.stderr  # the CLI speaks English
    assert count(dbsession, User) == 0
