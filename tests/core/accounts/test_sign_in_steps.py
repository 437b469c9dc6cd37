"""Identifier-first sign-in: the work e-mail address alone first, then the right next step (the
company's Single Sign On, else the password); the address with the password in one request
still signs in, for password managers and scripts."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from mypages.accounts.models import EMAIL_MAX_LENGTH, LoginThrottle, UserSession
from mypages.accounts.throttle import SIGN_IN
from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.testing.web import csrf_token, new_browser, password_step, sign_in_at_once

NOT_AN_EMAIL = "Type a valid e-mail address."


@pytest.fixture
def visitor(app):
    """A browser in English."""
    browser = new_browser(app)
    browser.set_cookie("mypages_locale", "en")
    return browser


def primary_actions(page) -> list:
    """What the design system draws as a primary button (a.button is one unless marked
    otherwise) in the page's main part."""
    found = []
    for element in page.html.find("main").find_all(["button", "a"]):
        classes = set(element.get("class") or [])
        if "primary" in classes or (element.name == "a" and "button" in classes
                                    and not classes & {"secondary", "danger", "link"}):
            found.append(element)
    return found


def the_primary(page) -> str:
    [action] = primary_actions(page)
    return action.text.strip()


def continue_with(browser, email, next_url="", status=200):
    """Step 1 as the form sends it: the address alone."""
    return browser.post("/login", {"csrf_token": csrf_token(browser), "email": email,
                                   "next": next_url}, status=status)


def field(page, name):
    return page.html.find(id="login-form").find("input", attrs={"name": name})


def sessions(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(UserSession)).all()


def test_the_first_step_asks_for_the_address_alone(visitor):
    page = visitor.get("/login")
    email = page.html.find(id="email")
    assert (email["type"], email["autocomplete"], email["name"]) == ("email", "username", "email")
    assert email.has_attr("required") and email.has_attr("autofocus")
    assert page.html.find(id=email["aria-describedby"])["class"] == ["help"]
    assert page.html.find("label", attrs={"for": "email"}).text == "E-mail address"
    assert page.html.find("input", attrs={"type": "password"}) is None
    assert "leave the password empty" not in page.text
    assert the_primary(page) == "Continue"
    assert page.html.find(id="login-form")["data-step"] == "email"


def test_the_first_step_in_swedish(app):
    browser = new_browser(app)
    browser.set_cookie("mypages_locale", "sv")
    assert the_primary(browser.get("/login")) == "Fortsätt"
    page = continue_with(browser, "anna@example.se")
    assert "Använd en annan adress" in page.html.find(id="another-address").text


def test_other_ways_to_sign_in_are_offered_at_both_steps(token_app):
    browser = new_browser(token_app)
    for step, page in (("email", browser.get("/login")),
                       ("password", continue_with(browser, "anna@example.se"))):
        assert page.html.find(id="login-form")["data-step"] == step
        methods = page.html.find(id="sign-in-methods").find_all("a")
        assert methods and all(a["class"] == ["button", "secondary"] for a in methods)
        assert len(primary_actions(page)) == 1


def test_the_address_alone_leads_to_the_password_step(visitor, factory):
    user = factory.user()
    page = continue_with(visitor, user.email.upper(), next_url="/account")
    assert page.status_int == 200
    form = page.html.find(id="login-form")
    assert form["data-step"] == "password"
    assert field(page, "email")["type"] == "hidden" and field(page, "email")["value"] == user.email
    username = form.find(id="username")
    assert (username["autocomplete"], username["value"]) == ("username", user.email)
    assert username.has_attr("readonly")
    assert user.email in page.html.find(id="signing-in-as").text
    assert page.html.find(id="another-address")["href"] == "/login?next=%2Faccount"
    password = page.html.find(id="password")
    assert (password["type"], password["autocomplete"]) == ("password", "current-password")
    assert password.has_attr("autofocus") and not password.has_attr("aria-invalid")
    assert page.html.find("label", attrs={"for": "password"}).text == "Password"
    assert the_primary(page) == "Sign in"
    assert page.html.find("a", string="Forgot your password?")
    # just the next step: no error of any kind
    assert not page.html.select(".error, .field-error, [aria-invalid]")
    assert "Type your password." not in page.text
    assert sessions(factory.session) == []
    # the password step's own form signs in and goes where the visitor was going
    filled = page.forms["login-form"]
    filled["password"] = factory.password
    assert filled.submit(status=303).location.endswith("/account")


def anonymous(page, email: str) -> str:
    """The page without what differs between any two visits: the token and the address."""
    text = re.sub(r'name="csrf_token" value="[^"]*"', "", page.text)
    return text.replace(email, "ADDRESS")


def test_the_password_step_does_not_tell_whether_an_account_exists(app, factory):
    company = factory.company()
    factory.policy(company, password_allowed=False)
    people = {"an account": factory.user("anna@example.se"),
              "a disabled account": factory.user("bert@example.se", is_active=False),
              "an account of Single Sign On only": factory.user("cleo@example.se",
                                                                company=company)}
    pages = {}
    for who, email in [*((who, user.email) for who, user in people.items()),
                       ("no account", "dora@example.se")]:
        browser = new_browser(app)
        pages[who] = anonymous(continue_with(browser, email), email)
    assert len(set(pages.values())) == 1, pages.keys()
    assert pages["no account"].count("ADDRESS") >= 3


def test_the_password_step_sent_empty_asks_for_the_password(visitor, factory, dbsession):
    user = factory.user()
    form = password_step(visitor, user.email)
    page = form.submit(status=200)
    password = page.html.find(id="password")
    assert password["aria-invalid"] == "true"
    error = page.html.find(id=password["aria-describedby"])
    assert error["class"] == ["field-error"] and error.text == "Type your password."
    assert field(page, "email")["value"] == user.email
    assert the_primary(page) == "Sign in"
    assert dbsession.scalars(select(AuditEvent)).all() == []


def test_a_wrong_password_is_told_at_the_password_field(visitor, factory):
    user = factory.user()
    form = password_step(visitor, user.email)
    form["password"] = "not the password"
    page = form.submit(status=400)
    password = page.html.find(id="password")
    assert password["aria-invalid"] == "true"
    assert page.html.find(id=password["aria-describedby"]).text == (
        "The e-mail address or the password is wrong.")
    assert field(page, "email")["value"] == user.email
    assert the_primary(page) == "Sign in"


@pytest.mark.parametrize("email", ["anna", "", "@example.se", "anna@"])
def test_what_cannot_be_an_address_stays_at_the_first_step(visitor, dbsession, email):
    page = continue_with(visitor, email, status=400)
    address = page.html.find(id="email")
    assert address["aria-invalid"] == "true"
    assert "email-error" in address["aria-describedby"].split()
    assert page.html.find(id="email-error").text == NOT_AN_EMAIL
    assert page.html.find("input", attrs={"type": "password"}) is None
    assert the_primary(page) == "Continue"
    assert dbsession.scalars(select(AuditEvent)).all() == []


def test_the_address_and_the_password_at_once_still_sign_in(visitor, factory, dbsession):
    user = factory.user()
    response = sign_in_at_once(visitor, user.email, next_url="/account")
    assert response.location.endswith("/account")
    assert [row.user_id for row in sessions(dbsession)] == [user.id]


def test_a_wrong_password_at_once_is_refused_at_the_password_step(visitor, factory, dbsession):
    user = factory.user()
    page = sign_in_at_once(visitor, user.email, "not the password", status=400)
    assert page.html.find(id="password")["aria-invalid"] == "true"
    assert field(page, "email")["value"] == user.email
    assert the_primary(page) == "Sign in"
    assert dbsession.scalars(select(AuditEvent.action)).all() == ["account.sign_in_failed"]


def test_a_throttled_sign_in_at_once_says_so_at_the_password_step(visitor, factory, dbsession):
    user = factory.user()
    dbsession.add(LoginThrottle(key=SIGN_IN.target_key(user.email), failures=9,
                                last_failure_at=utcnow(),
                                blocked_until=utcnow() + dt.timedelta(seconds=60)))
    dbsession.commit()
    page = sign_in_at_once(visitor, user.email, status=429)
    assert page.html.find(id="sign-in-error")["role"] == "alert"
    assert "Too many attempts." in page.html.find(id="sign-in-error").text
    assert field(page, "email")["value"] == user.email
    assert the_primary(page) == "Sign in"
    assert sessions(dbsession) == []


def test_single_sign_on_only_makes_its_button_the_only_primary_action(visitor, factory):
    company = factory.company()
    factory.policy(company, password_allowed=False)
    user = factory.user(company=company)
    page = sign_in_at_once(visitor, user.email, status=403)
    assert "Password sign-in is closed" in page.html.find(id="sign-in-error").text
    [primary] = primary_actions(page)
    assert primary["id"] == "sso-link"
    assert primary["href"].startswith("/sso/start?email=")
    assert page.html.find(id="login-form").find("button")["class"] == ["secondary"]
    assert not page.html.find(id="password").has_attr("autofocus")


def test_an_over_long_address_is_refused_unlooked_at(visitor, dbsession):
    email = "a" * EMAIL_MAX_LENGTH + "@example.se"
    for page in (sign_in_at_once(visitor, email, status=400),
                 continue_with(visitor, email, status=400)):
        assert page.html.find(id="email-error").text == NOT_AN_EMAIL
        assert page.html.find(id="email")["aria-invalid"] == "true"
        assert the_primary(page) == "Continue"
        assert email not in page.text
    assert dbsession.scalars(select(AuditEvent)).all() == []


def test_an_expired_first_step_comes_back_at_the_password_step(visitor, factory):
    user = factory.user()
    form = visitor.get("/login?next=/account").forms["login-form"]
    form["email"] = user.email
    visitor.reset()
    visitor.set_cookie("mypages_locale", "en")
    expired = form.submit(status=400)
    assert expired.html.find(id="form-expired")["role"] == "alert"
    assert expired.html.find(id="login-form")["data-step"] == "password"
    assert field(expired, "email")["type"] == "hidden"
    again = expired.forms["login-form"]
    assert (again["email"].value, again["next"].value) == (user.email, "/account")
    assert the_primary(expired) == "Sign in"
    again["password"] = factory.password
    assert again.submit(status=303).location.endswith("/account")


def test_an_expired_empty_first_step_comes_back_at_the_first_step(visitor):
    form = visitor.get("/login").forms["login-form"]
    visitor.reset()
    visitor.set_cookie("mypages_locale", "en")
    expired = form.submit(status=400)
    assert expired.html.find(id="form-expired")
    assert expired.html.find("input", attrs={"type": "password"}) is None
    assert the_primary(expired) == "Continue"
