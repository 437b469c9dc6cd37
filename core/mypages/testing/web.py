"""A browser for tests without a real one (WebTest), signing in through the real form.

Imported by the pytest plugin: what needs the test extra is imported where it is used."""
from __future__ import annotations

import re

from mypages.testing.factories import DEFAULT_PASSWORD

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


def new_browser(app, ip: str = "127.0.0.1"):
    """A WebTest browser of its own (its own cookie jar) on ``app``, coming from ``ip``."""
    from webtest import TestApp  # the test extra's

    return TestApp(app, extra_environ={"REMOTE_ADDR": ip, "HTTP_HOST": "localhost"})


def csrf_token(testapp, path: str = "/login") -> str:
    """Fetch ``path`` and return the CSRF token of its first form."""
    page = testapp.get(path)
    return CSRF_PATTERN.search(page.text).group(1)


def password_step(testapp, email: str, path: str = "/login"):
    """The sign-in form of ``path`` (the sign-in page, or a page that sends there) with
    ``email`` typed and Continue pressed: the form of the password step, to fill."""
    form = testapp.get(path).maybe_follow().forms["login-form"]
    form["email"] = email
    return form.submit(status=200).forms["login-form"]


def sign_in(testapp, email: str, password: str = DEFAULT_PASSWORD, status: int = 303):
    """Sign in through the real sign-in form, as a person does: the address, Continue, then
    the password and Sign in. On the page's password way (``/login?with=password``), so
    that an address the company's Single Sign On would take signs in with the password too."""
    form = password_step(testapp, email, "/login?with=password")
    form["password"] = password
    return form.submit(status=status)


def sign_in_at_once(testapp, email: str, password: str = DEFAULT_PASSWORD,
                    status: int = 303, next_url: str = ""):
    """The address and the password in one request, as a password manager or a script
    sends them (with the sign-in page's CSRF token)."""
    return testapp.post("/login", {"csrf_token": csrf_token(testapp), "email": email,
                                   "password": password, "next": next_url}, status=status)


def enrol_two_factor(testapp) -> str:
    """Turn two-factor authentication on for the signed-in user through the real pages, as a
    person with an authenticator app does; the session then counts as proven with a second
    factor. Returns the TOTP secret (``pyotp.TOTP(secret).now()`` is a code)."""
    import pyotp  # the test extra's

    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"}, status=303)
    page = testapp.get("/account/two-factor")
    secret = page.html.find(id="totp-secret").text.strip()
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(secret).now()
    form.submit(status=200)
    return secret
