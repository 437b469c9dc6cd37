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


def sign_in(testapp, email: str, password: str = DEFAULT_PASSWORD, status: int = 303):
    """Sign in through the real login form."""
    form = testapp.get("/login").forms["login-form"]
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)
