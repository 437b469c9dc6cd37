"""A member turns on two-factor authentication and signs in with it, in a real browser."""
from __future__ import annotations

import itertools
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.steps import (PASSWORD, PHONE, choose_language, has_horizontal_scroll,
                             open_sign_in_and_sign_in, sign_in, sign_out)

pytestmark = pytest.mark.e2e

_numbers = itertools.count(1)
CODE_REFUSED = "The code is wrong or has already been used. Wait for a new code and try again."


@pytest.fixture
def new_member(live_server):
    """A member of the seeded company of its own: turning on 2FA must not touch the shared users."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from mypages.companies.models import Company
    from mypages.testing.factories import make_user

    engine = create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            company = session.get(Company, live_server.seeded.company_id)
            user = make_user(session, f"totp{next(_numbers)}-{time.time_ns()}@acme.example",
                             password=PASSWORD, company=company, role="member",
                             display_name="Tove Totp")
            session.commit()
            return user.email, user.display_name
    finally:
        engine.dispose()


def open_two_factor_page(page, display_name: str, shot) -> None:
    """Header link to the account page, then its "Two-factor authentication" link."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=display_name).click()
    expect(page).to_have_url(re.compile(r"/account$"))
    shot(page, "account")
    page.get_by_role("link", name="Two-factor authentication").click()
    expect(page).to_have_url(re.compile(r"/account/two-factor(\?|$)"))


def qr_natural_width(page) -> int:
    qr = page.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible()
    handle = qr.element_handle()
    page.wait_for_function("img => img.complete", arg=handle)
    return handle.evaluate("img => img.naturalWidth")


def type_code(page, code: str) -> None:
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continue").click()


def test_member_turns_on_two_factor_and_signs_in_with_codes(live_server, new_member, page, shot):
    email, display_name = new_member
    dashboard = re.compile(rf"/c/{live_server.seeded.company_id}/$")

    page.goto("/login")
    choose_language(page, "en")
    shot(page, "sign-in")
    sign_in(page, email)
    expect(page).to_have_url(dashboard)
    shot(page, "dashboard")

    open_two_factor_page(page, display_name, shot)
    shot(page, "two-factor-off")
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator("#totp-secret")).to_be_visible()
    assert qr_natural_width(page) > 0, "the QR code image did not load"
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret), secret
    shot(page, "two-factor-set-up")

    totp = pyotp.TOTP(secret)
    page.get_by_label("Code from the app").fill(totp.now())
    page.get_by_role("button", name="Turn on").click()
    recovery_codes = page.locator("#recovery-codes").get_by_role("listitem")
    expect(recovery_codes).to_have_count(10)
    codes = [text.strip() for text in recovery_codes.all_inner_texts()]
    assert len(set(codes)) == 10
    expect(page.locator("#two-factor-on")).to_have_text(re.compile("is now on"))
    # kept by copying: the script's button puts every code on the clipboard
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").split() == codes
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    shot(page, "recovery-codes")

    # The password alone no longer signs in.
    sign_out(page)
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You have been signed out.")
    shot(page, "signed-out")
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/login/verify$"))
    shot(page, "verify")
    # The next step's code: not the one used to turn it on, and within the allowed drift.
    next_code = totp.at(time.time() + 30)
    type_code(page, next_code)
    expect(page).to_have_url(dashboard)
    shot(page, "signed-in-with-code")

    # A code is good once: the same one again is refused.
    sign_out(page)
    shot(page, "signed-out-again")
    sign_in(page, email)
    expect(page).to_have_url(re.compile(r"/login/verify$"))
    type_code(page, next_code)
    expect(page).to_have_url(re.compile(r"/login/verify$"))
    expect(page.get_by_role("alert")).to_have_text(CODE_REFUSED)
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    shot(page, "code-reused-refused")

    # A recovery code lets the member in (typed in capitals: the same code) and is spent.
    type_code(page, codes[0].upper())
    expect(page).to_have_url(dashboard)
    shot(page, "signed-in-with-recovery-code")
    open_two_factor_page(page, display_name, shot)
    expect(page.get_by_text("Two-factor authentication is on.")).to_be_visible()
    expect(page.get_by_text("9 recovery codes left.")).to_be_visible()
    shot(page, "two-factor-on")


def test_phone_two_factor_set_up_page_does_not_scroll_sideways(new_member, make_context, shot):
    email, display_name = new_member
    page = make_context(viewport=PHONE).new_page()
    open_sign_in_and_sign_in(page, email)
    shot(page, "dashboard")
    open_two_factor_page(page, display_name, shot)
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.locator("#totp-secret")).to_be_visible()
    assert qr_natural_width(page) > 0, "the QR code image did not load"
    assert not has_horizontal_scroll(page), "the two-factor set-up page scrolls sideways"
    shot(page, "two-factor-set-up")
