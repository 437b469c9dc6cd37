"""E-mail + password sign-in and sign-out."""
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts import SESSION_COOKIE
from mypages.accounts.models import UserSession
from mypages.accounts.passwords import DEFAULT_COST, OWASP_FLOOR, Argon2Cost
from mypages.audit.models import AuditEvent
from mypages.services import password_hasher
from mypages.testing.factories import TEST_ARGON2_COST
from mypages.testing.plugin import build_app, csrf_token, sign_in
from mypages.testing.web import password_step


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
    assert wrong.html.find(class_="field-error").text == unknown.html.find(class_="field-error").text
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
    testapp.post("/login", {"email": user.email}, status=400)


def test_an_expired_sign_in_form_comes_back_ready_to_send_again(testapp, factory):
    """Left open until its session ended (here: the cookies are gone), the form is sent with
    a token nobody knows: the sign-in page again, with the address, not an error page."""
    user = factory.user(locale="en")
    form = password_step(testapp, user.email, "/login?next=/account")
    form["password"] = factory.password
    testapp.reset()
    expired = form.submit(status=400)
    assert expired.html.find(id="form-expired")["role"] == "alert"
    again = expired.forms["login-form"]
    assert again.fields["password"]  # back at the password step: the address was typed
    assert again["email"].value == user.email
    assert again["password"].value == ""
    assert again["next"].value == "/account"
    again["password"] = factory.password
    assert again.submit(status=303).location.endswith("/account")


def test_next_goes_back_to_the_page_but_never_off_site(testapp, factory):
    company = factory.company()
    user = factory.user(company=company)
    page = testapp.get(f"/c/{company.id}/settings/modules").follow()
    assert page.forms["login-form"]["next"].value == f"/c/{company.id}/settings/modules"
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"):
        testapp.reset()
        form = password_step(testapp, user.email, "/login?" + urlencode({"next": evil}))
        form["password"] = factory.password
        form["next"] = evil
        response = form.submit(status=303)
        assert response.location.startswith("http://localhost/"), evil


def test_password_hashes_are_argon2id_above_the_owasp_floor(factory, dbsession):
    user = factory.user()
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_COST.below(OWASP_FLOOR) == []


def cost_in(password_hash: str) -> str:
    return password_hash.split("$")[3]


def test_weak_hash_parameters_are_upgraded_at_sign_in(app, testapp, factory, dbsession):
    from argon2 import PasswordHasher

    weak = PasswordHasher(memory_cost=8 * 1024, time_cost=1, parallelism=1)
    user = factory.user()
    user.password_hash = weak.hash(factory.password)
    dbsession.commit()
    sign_in(testapp, user.email)
    dbsession.refresh(user)
    cost = password_hasher(app).cost
    assert cost == TEST_ARGON2_COST  # the suite's cheap one
    assert cost_in(user.password_hash) == f"m={cost.memory_cost},t={cost.time_cost},p={cost.parallelism}"


@pytest.fixture
def default_cost_app(mypages_settings):
    """The app under test as production builds it: no hashing cost set, so the default."""
    settings = {key: value for key, value in mypages_settings.items()
                if not key.startswith("mypages.passwords.")}
    built = build_app(settings, migrate=False)
    yield built
    built.registry["db.engine"].dispose()


def test_by_default_hashes_are_made_at_todays_strong_cost_and_cheaper_ones_upgraded(
        app, default_cost_app, factory, dbsession):
    assert password_hasher(default_cost_app).cost == Argon2Cost(64 * 1024, 3, 4)
    user = factory.user()  # hashed at the suite's cheap cost
    assert cost_in(user.password_hash) == "m=1024,t=1,p=1"
    browser = TestApp(default_cost_app, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                                       "HTTP_HOST": "localhost"})
    sign_in(browser, user.email)
    dbsession.refresh(user)
    assert cost_in(user.password_hash) == "m=65536,t=3,p=4"
    browser.reset()
    sign_in(browser, user.email)  # the upgraded hash verifies the same password
    dbsession.refresh(user)
    assert cost_in(user.password_hash) == "m=65536,t=3,p=4"
