"""The API tab in a real browser, on a phone and on a laptop: a token made, shown once,
and revoked after a confirmation."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import PHONE, has_horizontal_scroll, open_sign_in_and_sign_in

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1366"])
def test_make_and_revoke_a_token(live_server, make_context, shot, viewport):
    seeded = live_server.seeded
    page = make_context(viewport=viewport).new_page()
    open_sign_in_and_sign_in(page, seeded.admin_email)
    page.goto(f"/c/{seeded.company_id}/settings/api")
    assert not has_horizontal_scroll(page), "the API tab scrolls sideways"
    shot(page, "tokens")
    name = f"ERP export {viewport['width']}"
    page.fill("#token-name", name)
    page.check("#scope-modules-read")
    page.click("#token-form button[type=submit]")
    secret = page.locator("#token-secret")
    expect(secret).to_be_visible()
    assert secret.input_value().startswith("mp_")
    assert not has_horizontal_scroll(page), "the shown token scrolls sideways"
    shot(page, "shown-once")
    page.goto(f"/c/{seeded.company_id}/settings/api")
    expect(page.locator("#token-secret")).to_have_count(0)
    row = page.locator("#api-tokens tr", has_text=name)
    row.get_by_role("link").click()
    expect(page.locator("#confirm")).to_be_visible()
    assert not has_horizontal_scroll(page), "the confirmation scrolls sideways"
    shot(page, "confirm")
    page.click("#revoke-form button[type=submit]")
    expect(page.locator(".notice")).to_contain_text(name)
    expect(page.locator("#api-tokens tr", has_text=name)).to_have_attribute("data-state",
                                                                            "revoked")
    assert not has_horizontal_scroll(page)
    shot(page, "revoked")
