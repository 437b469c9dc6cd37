"""A refused form in a real browser: the focus goes to the first field in error, which a
screen reader then reads with its error."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import focused, open_sign_in_and_sign_in

pytestmark = pytest.mark.e2e


def test_a_refused_password_change_puts_the_focus_on_the_field_in_error(live_server, page):
    open_sign_in_and_sign_in(page, live_server.seeded.member_email)
    page.goto("/account/password")
    page.get_by_label("Current password").fill("not my password at all")
    page.get_by_label("New password", exact=True).fill("violet tractor juggles forty lanterns")
    page.get_by_label("New password again").fill("violet tractor juggles forty lanterns")
    with page.expect_navigation():
        page.get_by_role("button", name="Change password").click()
    assert focused(page)["id"] == "current"
    current = page.get_by_label("Current password")
    expect(current).to_have_attribute("aria-invalid", "true")
    expect(current).to_have_accessible_description("The current password is wrong.")
