"""A company admin tries the Notes module for free, in a real browser."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import choose_language, html_lang, open_sign_in_and_sign_in, sign_in

pytestmark = pytest.mark.e2e


def test_admin_starts_the_notes_trial_and_uses_notes(live_server, page, shot):
    seeded = live_server.seeded
    company_path = f"/c/{seeded.company_id}"

    # Signed out, the site sends the visitor to sign in, in Swedish by default.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login(\?|$)"))
    assert html_lang(page) == "sv"
    shot(page, "sign-in-swedish")

    # Texts may be translated any day; the test reads the English ones.
    choose_language(page, "en")
    assert html_lang(page) == "en"
    shot(page, "sign-in-english")
    sign_in(page, seeded.admin_email)

    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.company_name)
    shot(page, "dashboard-before-trial")
    # After sign-in the account's own language applies; English for the account too.
    choose_language(page, "en")
    assert html_lang(page) == "en"

    # Company settings open on the Company tab; Modules is the next one.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Company settings").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/company$"))
    tabs = page.get_by_role("navigation", name="Company settings")
    expect(tabs.get_by_role("link", name="Company")).to_have_attribute("aria-current", "page")
    tabs.get_by_role("link", name="Modules").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/modules$"))
    expect(tabs.get_by_role("link", name="Modules")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Notes")).to_have_count(0)
    notes_card = page.locator("#module-notes")
    expect(notes_card).to_have_attribute("data-state", "available")
    expect(notes_card.get_by_role("heading", name="Notes")).to_be_visible()
    shot(page, "modules-available")

    notes_card.get_by_role("button", name="Activate free trial").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/modules$"))
    expect(page.get_by_role("status")).to_have_text("The free trial has started.")
    notes_card = page.locator("#module-notes")
    expect(notes_card).to_have_attribute("data-state", "trial")
    expect(notes_card.locator(".state")).to_contain_text("10 days left")
    # One trial per company and module: the offer is gone, buying remains.
    expect(notes_card.get_by_role("button", name="Activate free trial")).to_have_count(0)
    expect(notes_card.get_by_role("link", name="Buy")).to_be_visible()
    shot(page, "modules-trial")

    # The module's own settings tab appears now that the company is entitled to it.
    tabs.get_by_role("link", name="Notes").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/settings/notes$"))
    expect(tabs.get_by_role("link", name="Notes")).to_have_attribute("aria-current", "page")
    page.get_by_label("Heading of the notes page").fill("Team notes")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Heading of the notes page")).to_have_value("Team notes")
    shot(page, "notes-settings")

    # The dashboard offers the module; its page keeps the company's notes.
    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="Dashboard").click()
    shot(page, "dashboard-with-notes")
    # the module's link in the top bar too, for every member
    expect(main_nav.get_by_role("link", name="Notes")).to_be_visible()
    page.locator(".card").get_by_role("link", name="Notes").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/notes$"))
    expect(main_nav.get_by_role("link", name="Notes")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team notes")
    expect(page.get_by_role("listitem").filter(has_text="No notes yet.")).to_be_visible()
    shot(page, "notes-empty")

    page.get_by_label("New note").fill("Call the bank about the FX limit")
    page.get_by_role("button", name="Add note").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(company_path)}/notes$"))
    expect(page.get_by_role("listitem").filter(has_text="Call the bank about the FX limit")).to_have_count(1)
    expect(page.get_by_text("No notes yet.")).to_have_count(0)
    shot(page, "notes-one-note")


def test_member_cannot_open_company_settings(live_server, page, shot):
    seeded = live_server.seeded
    open_sign_in_and_sign_in(page, seeded.member_email)
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.company_name)
    choose_language(page, "en")
    main_nav = page.get_by_role("navigation", name="Main")
    expect(main_nav.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(main_nav.get_by_role("link", name="Company settings")).to_have_count(0)
    expect(page.locator("a[href*='/settings/']")).to_have_count(0)
    shot(page, "member-dashboard")

    response = page.goto(f"/c/{seeded.company_id}/settings/modules")
    assert response.status == 403
    expect(page.locator("[data-state]")).to_have_count(0)
    shot(page, "member-modules-forbidden")
