"""Notes in a real browser: the live portal (with this plugin installed) and Chromium."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from mypages.testing.chromium import sign_in

pytestmark = pytest.mark.e2e


def test_a_member_adds_a_note_and_sees_it(live_portal, browser_page):
    seeded = live_portal.seeded
    page = browser_page
    page.goto("/login")
    sign_in(page, seeded.member_email, seeded.password)

    page.goto(f"/c/{seeded.company_id}/notes")
    page.get_by_label("New note").fill("Written in Chromium")
    with page.expect_navigation():
        page.get_by_role("button", name="Add note").click()

    expect(page.get_by_role("listitem").filter(has_text="Written in Chromium")).to_be_visible()
