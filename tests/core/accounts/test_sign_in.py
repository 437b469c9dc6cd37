"""E-mail + password sign-in and sign-out."""
from sqlalchemy import select

from mypages.accounts import SESSION_COOKIE
from mypages.accounts.models import UserSession
from mypages.accounts.passwords import HASHER, OWASP_FLOOR
from mypages.audit.models import AuditEvent
from mypages.testing.plugin import csrf_token, sign_in


def session_cookie(testapp):
    return testapp.cookies.get(SESSION_COOKIE)


def test_sign_in_lands_on_the_only_company_and_sign_out_ends_the_session(testapp, factory,
                                                                          dbsession):
    company = factory.company()
    user = factory.user(company=company)
    response = sign_in(testapp, user.email).follow()
    assert response.location.endswith(f"/c/{company.id}/")
    assert company.name in response.follow().text
    row = dbsession.scalars(select(UserSession)).one()
    assert row.ended_at is None and "pwd" in row.amr
    token = csrf_token(testapp, f"/c/{company.id}/")
    testapp.post("/logout", {"csrf_token": token}, status=303)
    dbsession.expire_all()
    assert dbsession.scalars(select(UserSession)).one().ended_at is not None
    testapp.get(f"/c/{company.id}/", status=303)


def test_a_new_session_id_at_sign_in(testapp, factory):
    user = factory.user()
    testapp.get("/login")
    before = session_cookie(testapp)
    sign_in(testapp, user.email)
    assert session_cookie(testapp) != before


def test_a_stolen_cookie_is_useless_after_sign_out(testapp, factory):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    stolen = session_cookie(testapp)
    token = csrf_token(testapp, f"/c/{company.id}/")
    testapp.post("/logout", {"csrf_token": token})
    testapp.set_cookie(SESSION_COOKIE, stolen)
    testapp.get(f"/c/{company.id}/", status=303)


def test_wrong_password_and_unknown_user_get_the_same_answer(testapp, factory, dbsession):
    user = factory.user()
    wrong = sign_in(testapp, user.email, "not the password", status=400)
    unknown = sign_in(testapp, "nobody@example.se", "not the password", status=400)
    assert wrong.html.find(class_="error").text == unknown.html.find(class_="error").text
    assert dbsession.scalars(select(UserSession)).all() == []
    actions = dbsession.scalars(select(AuditEvent.action)).all()
    assert actions == ["account.sign_in_failed", "account.sign_in_failed"]


def test_disabled_user_cannot_sign_in(testapp, factory):
    user = factory.user(is_active=False)
    sign_in(testapp, user.email, status=400)


def test_sign_in_needs_the_csrf_token(testapp, factory):
    user = factory.user()
    testapp.get("/login")
    testapp.post("/login", {"email": user.email, "password": factory.password}, status=400)


def test_next_goes_back_to_the_page_but_never_off_site(testapp, factory):
    company = factory.company()
    user = factory.user(company=company)
    page = testapp.get(f"/c/{company.id}/settings/modules").follow()
    assert page.forms["login-form"]["next"].value == f"/c/{company.id}/settings/modules"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        testapp.reset()
        form = testapp.get("/login", {"next": evil}).forms["login-form"]
        form["email"], form["password"] = user.email, factory.password
        form["next"] = evil
        response = form.submit(status=303)
        assert response.location.startswith("http://localhost/"), evil


def test_password_hashes_are_argon2id_above_the_owasp_floor(factory, dbsession):
    user = factory.user()
    assert user.password_hash.startswith("$argon2id$")
    assert HASHER.memory_cost >= OWASP_FLOOR["memory_cost"]
    assert HASHER.time_cost >= OWASP_FLOOR["time_cost"]
    assert HASHER.parallelism >= OWASP_FLOOR["parallelism"]


def test_weak_hash_parameters_are_upgraded_at_sign_in(testapp, factory, dbsession):
    from argon2 import PasswordHasher

    weak = PasswordHasher(memory_cost=8 * 1024, time_cost=1, parallelism=1)
    user = factory.user()
    user.password_hash = weak.hash(factory.password)
    dbsession.commit()
    sign_in(testapp, user.email)
    dbsession.refresh(user)
    assert f"m={HASHER.memory_cost},t={HASHER.time_cost},p={HASHER.parallelism}" in user.password_hash
