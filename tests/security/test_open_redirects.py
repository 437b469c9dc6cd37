"""No open redirect (ASVS 3.7.2) through any next= parameter: every place that takes one
is fed the usual tricks, and where the browser ends up (Location, or the link or hidden
field that carries the value on) stays on the site."""
from __future__ import annotations

from urllib.parse import quote, urlencode, urljoin, urlsplit

import pytest
from sqlalchemy import update

from mypages.accounts.models import TotpCredential
from mypages.testing.plugin import CSRF_PATTERN
from tests.security.support import (add_totp, assert_stays_on_site, code_at, current_step,
                                    submit_code)

PASSWORD = "correct horse battery staple"
TRICKS = ["https://evil.example", "//evil.example", "/\\evil.example", "http:evil.example",
          "%2F%2Fevil.example", "javascript:alert(1)", "/\t/evil.example", " //evil.example",
          "\\\\evil.example", "https:/\\evil.example", "/%2F%2Fevil.example"]
#: as they arrive on the wire: each trick quoted, and the encoded ones also sent as they are
#: (so the server decodes "%2F%2Fevil.example" to "//evil.example" itself)
RAW = [quote(trick, safe="") for trick in TRICKS] + ["%2F%2Fevil.example", "%2f%2fevil.example",
                                                     "/%2F%2Fevil.example", "https%3A%2F%2Fevil.example"]


def token_of(page) -> str:
    return CSRF_PATTERN.search(page.text).group(1)


def post_raw(testapp, url: str, fields: dict, raw_next: str, status=303):
    """POST a form whose ``next`` goes on the wire exactly as ``raw_next``."""
    body = urlencode(fields) + "&next=" + raw_next
    return testapp.post(url, body, content_type="application/x-www-form-urlencoded", status=status)


def assert_carried_value_is_safe(page, raw: str) -> None:
    """The ``next`` a page carries on (hidden fields, a Continue link) stays on the site."""
    values = [field["value"] for field in page.html.find_all("input", attrs={"name": "next"})]
    # an otpauth:// link opens the authenticator app and a data: link downloads the recovery
    # codes: neither goes anywhere on the web
    values += [a["href"] for a in page.html.find_all("a", href=True)
               if urlsplit(a["href"]).scheme not in ("otpauth", "data")]
    for value in filter(None, values):
        assert_stays_on_site(urljoin("http://localhost/", value), raw)


@pytest.fixture
def user(factory):
    return factory.user(company=factory.company())


def test_login_page_next(user, testapp):
    for raw in RAW:
        testapp.reset()
        page = testapp.get(f"/login?next={raw}", status=200)  # anonymous: the form carries it
        assert_carried_value_is_safe(page, raw)
        response = post_raw(testapp, "/login", {"csrf_token": token_of(page), "email": user.email,
                                                "password": PASSWORD}, raw)
        assert_stays_on_site(response.location, raw)
        # signed in: /login sends the browser on at once
        assert_stays_on_site(testapp.get(f"/login?next={raw}", status=303).location, raw)


def test_second_factor_next(app, user, testapp, dbsession):
    secret = add_totp(app, dbsession, user)

    def fresh_code():
        dbsession.execute(update(TotpCredential).values(last_used_step=0))
        dbsession.commit()
        return code_at(secret, current_step())

    for raw in RAW:  # signing in: the next given to /login, kept through the code step
        testapp.reset()
        page = testapp.get(f"/login?next={raw}")
        post_raw(testapp, "/login", {"csrf_token": token_of(page), "email": user.email,
                                     "password": PASSWORD}, raw)
        assert_carried_value_is_safe(testapp.get(f"/login/verify?next={raw}"), raw)
        response = submit_code(testapp, fresh_code(), status=303)
        assert_stays_on_site(response.location, raw)
    for raw in RAW:  # stepping up within a session: the next posted with the code
        page = testapp.get(f"/login/verify?next={raw}")
        assert_carried_value_is_safe(page, raw)
        response = post_raw(testapp, "/login/verify",
                            {"csrf_token": token_of(page), "code": fresh_code()}, raw)
        assert_stays_on_site(response.location, raw)


def test_re_authentication_next(user, signed_in, testapp):
    signed_in(user)
    for raw in RAW:
        page = testapp.get(f"/account/confirm?next={raw}")
        assert_carried_value_is_safe(page, raw)
        response = post_raw(testapp, "/account/confirm",
                            {"csrf_token": token_of(page), "password": PASSWORD}, raw)
        assert_stays_on_site(response.location, raw)


def test_language_switcher_next(user, testapp, signed_in):
    for who in ("anonymous", "signed in"):
        if who == "signed in":
            signed_in(user)
        for raw in RAW:
            token = token_of(testapp.get("/login" if who == "anonymous" else "/account"))
            response = post_raw(testapp, "/locale", {"csrf_token": token, "locale": "en"}, raw)
            assert_stays_on_site(response.location, (who, raw))


def test_two_factor_enrolment_next(user, signed_in, testapp):
    import pyotp

    signed_in(user)
    for raw in RAW:
        page = testapp.get(f"/account/two-factor?next={raw}")
        assert_carried_value_is_safe(page, raw)
        response = post_raw(testapp, "/account/two-factor",
                            {"csrf_token": token_of(page), "action": "begin"}, raw)
        assert_stays_on_site(response.location, raw)
        page = response.follow()
        assert_carried_value_is_safe(page, raw)
        secret = page.html.find(id="totp-secret").text.strip()
        done = post_raw(testapp, "/account/two-factor",
                        {"csrf_token": token_of(page), "action": "confirm",
                         "code": pyotp.TOTP(secret).now()}, raw, status=200)
        assert_carried_value_is_safe(done, raw)  # the Continue link after the recovery codes
        # start over for the next trick
        token = token_of(testapp.get("/account/two-factor"))
        testapp.post("/account/two-factor", {"csrf_token": token, "action": "disable"}, status=303)


def test_the_tricks_are_sent_as_meant():
    assert "//evil.example" not in RAW and "%2F%2Fevil.example" in RAW
    assert quote("%2F%2Fevil.example", safe="") in RAW  # arrives as the literal text
