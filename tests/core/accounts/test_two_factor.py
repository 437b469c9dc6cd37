"""TOTP two-factor authentication: enrolment, sign-in, reuse, drift, recovery codes."""
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from mypages.accounts.models import RecoveryCode, TotpCredential, UserSession
from mypages.testing.plugin import csrf_token, sign_in


def enrol(testapp):
    """Enrol through the pages; returns (secret, recovery codes)."""
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"}, status=303)
    page = testapp.get("/account/two-factor")
    secret = page.html.find(id="totp-secret").text.strip()
    qr = testapp.get("/account/two-factor/qr.svg")
    assert qr.content_type == "image/svg+xml" and b"<svg" in qr.body
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(secret).now()
    done = form.submit(status=200)
    codes = [li.text.strip() for li in done.html.find(id="recovery-codes").find_all("li")]
    return secret, codes


def code_for_step(secret, step):
    return pyotp.TOTP(secret).at(step * 30)


@pytest.fixture
def user_with_2fa(factory, testapp, signed_in):
    company = factory.company()
    user = factory.user(company=company)
    signed_in(user)
    secret, codes = enrol(testapp)
    testapp.reset()
    return user, secret, codes, company


def test_enrolment_needs_a_confirmed_code_and_stores_the_secret_encrypted(factory, testapp,
                                                                         signed_in, dbsession):
    user = factory.user()
    signed_in(user)
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"})
    page = testapp.get("/account/two-factor")
    secret = page.html.find(id="totp-secret").text.strip()
    credential = dbsession.get(TotpCredential, user.id)
    assert credential.confirmed_at is None
    assert secret not in credential.secret_encrypted  # encrypted at rest
    form = page.forms["confirm-form"]
    form["code"] = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    form.submit(status=400)
    dbsession.expire_all()
    assert dbsession.get(TotpCredential, user.id).confirmed_at is None
    form["code"] = pyotp.TOTP(secret).now()
    done = form.submit(status=200)
    assert len(done.html.find(id="recovery-codes").find_all("li")) == 10
    dbsession.expire_all()
    assert dbsession.get(TotpCredential, user.id).confirmed_at is not None
    stored = dbsession.scalars(select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not any("-" in h for h in stored)  # hashed, not the codes
    # the QR code is never served again once confirmed
    testapp.get("/account/two-factor/qr.svg", status=404)


def test_sign_in_asks_for_the_code_and_refuses_a_reused_one(user_with_2fa, testapp, dbsession):
    user, secret, _codes, company = user_with_2fa
    sessions_before = len(dbsession.scalars(select(UserSession)).all())
    response = sign_in(testapp, user.email)
    assert response.location.endswith("/login/verify")
    assert len(dbsession.scalars(select(UserSession)).all()) == sessions_before
    testapp.get(f"/c/{company.id}/", status=303)  # not signed in yet
    step = int(time.time() // 30) + 1  # the next step: never used by enrolment
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = code_for_step(secret, step)
    form.submit(status=303)
    testapp.get(f"/c/{company.id}/", status=200)
    testapp.reset()
    sign_in(testapp, user.email)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = code_for_step(secret, step)  # the same code again
    form.submit(status=400)
    testapp.get(f"/c/{company.id}/", status=303)


def test_one_step_of_drift_is_accepted_two_are_not(user_with_2fa, testapp):
    user, secret, _codes, company = user_with_2fa
    now_step = int(time.time() // 30)
    sign_in(testapp, user.email)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = code_for_step(secret, now_step + 3)
    form.submit(status=400)
    form["code"] = code_for_step(secret, now_step - 2)
    form.submit(status=400)
    form["code"] = code_for_step(secret, now_step + 1)
    form.submit(status=303)


def test_recovery_code_works_once(user_with_2fa, testapp):
    user, _secret, codes, company = user_with_2fa
    sign_in(testapp, user.email)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = codes[0].upper()
    form.submit(status=303)
    testapp.reset()
    sign_in(testapp, user.email)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = codes[0]
    form.submit(status=400)


def test_turning_off_and_new_codes_ask_for_reauthentication(user_with_2fa, testapp, dbsession,
                                                            monkeypatch):
    from mypages.accounts import methods as policy

    user, secret, codes, _company = user_with_2fa
    sign_in(testapp, user.email)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = codes[1]
    form.submit(status=303)
    monkeypatch.setattr(policy, "REAUTH_WINDOW", policy.dt.timedelta(seconds=0))
    token = csrf_token(testapp, "/account/two-factor")
    response = testapp.post("/account/two-factor", {"csrf_token": token, "action": "disable"})
    assert "/account/confirm" in response.location
    response = testapp.post("/account/two-factor/recovery-codes", {"csrf_token": token})
    assert "/account/confirm" in response.location
    assert dbsession.get(TotpCredential, user.id) is not None


def begin_enrolment(testapp):
    token = csrf_token(testapp, "/account/two-factor")
    testapp.post("/account/two-factor", {"csrf_token": token, "action": "begin"}, status=303)
    return testapp.get("/account/two-factor")


def test_the_key_is_grouped_for_reading_and_a_phone_can_open_it_in_its_app(factory, testapp,
                                                                          signed_in):
    user = factory.user(email="grace@example.se")
    signed_in(user)
    page = begin_enrolment(testapp)
    key = page.html.find(id="totp-secret")
    groups = [span.text for span in key.find_all("span")]
    assert len(groups) > 1 and all(len(group) == 4 for group in groups[:-1])
    secret = "".join(groups)
    assert key.text == secret  # copied, it is the key itself, without spaces
    link = urlsplit(page.html.find(id="otpauth-link")["href"])
    assert (link.scheme, link.netloc) == ("otpauth", "totp")
    assert parse_qs(link.query)["secret"] == [secret]
    assert "grace@example.se" in unquote(link.path)


def test_turning_on_says_so_and_the_codes_can_be_downloaded_copied_and_printed(factory, testapp,
                                                                              signed_in):
    user = factory.user()
    signed_in(user)
    page = begin_enrolment(testapp)
    form = page.forms["confirm-form"]
    form["code"] = pyotp.TOTP(page.html.find(id="totp-secret").text).now()
    done = form.submit(status=200)
    assert done.html.find(id="two-factor-on")["role"] == "status"
    codes = [li.text.strip() for li in done.html.find(id="recovery-codes").find_all("li")]
    download = done.html.find(id="download-codes")
    assert download["download"].endswith(".txt")
    scheme, _, data = download["href"].partition(",")
    assert scheme == "data:text/plain;charset=utf-8"
    assert [line for line in unquote(data).splitlines() if line in codes] == codes
    # copying and printing need the page's script, which shows them
    assert done.html.find(attrs={"data-copy": "recovery-codes"}).has_attr("hidden")
    assert done.html.find(attrs={"data-print": True}).has_attr("hidden")
    # new codes later: the same ways to keep them, but nothing was just turned on
    renewed = testapp.post("/account/two-factor/recovery-codes",
                           {"csrf_token": csrf_token(testapp, "/account/two-factor")})
    assert renewed.html.find(id="two-factor-on") is None
    assert renewed.html.find(id="download-codes") is not None


def test_the_sign_in_code_field_takes_a_recovery_code_on_a_phone(user_with_2fa, testapp):
    """A numeric keyboard has no letters and dashes: the field may not ask for one."""
    user, _secret, _codes, _company = user_with_2fa
    sign_in(testapp, user.email)
    field = testapp.get("/login/verify").html.find(id="code")
    assert field.get("inputmode") in (None, "text")
    assert field["autocomplete"] == "one-time-code"
