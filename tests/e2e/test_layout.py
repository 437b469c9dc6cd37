"""Layout, language, keyboard and network behaviour that only a real browser shows."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypages.db import utcnow
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.factories import make_company, make_user

from tests.e2e.steps import (PHONE, choose_language, focused, has_horizontal_scroll, html_lang,
                             open_sign_in_and_sign_in)

pytestmark = pytest.mark.e2e

LANGUAGES = ("sv", "en", "da", "nb", "fi", "lt", "lv", "et")


def test_phone_sign_in_page_does_not_scroll_sideways_in_any_language(make_context, shot):
    page = make_context(viewport=PHONE).new_page()
    page.goto("/login")
    for code in LANGUAGES:
        # Long Finnish or Baltic words are the ones that push a phone layout wide.
        choose_language(page, code)
        assert html_lang(page) == code
        assert not has_horizontal_scroll(page), f"the sign-in page scrolls sideways in {code}"
        shot(page, f"sign-in-{code}")


def test_phone_company_pages_do_not_scroll_sideways(live_server, make_context, shot):
    seeded = live_server.seeded
    page = make_context(viewport=PHONE).new_page()
    open_sign_in_and_sign_in(page, seeded.admin_email)
    expect(page.get_by_role("heading", level=1)).to_have_text(seeded.company_name)
    assert not has_horizontal_scroll(page), "the dashboard scrolls sideways"
    shot(page, "dashboard")

    page.goto(f"/c/{seeded.company_id}/settings/modules")
    expect(page.locator("#module-notes")).to_be_visible()
    assert not has_horizontal_scroll(page), "the modules page scrolls sideways"
    shot(page, "modules")


@pytest.fixture
def company_with_notes(live_server):
    """A company of its own, with a long name, on a trial of notes, and its admin: the top
    bar at its fullest, without touching the seeded company's modules."""
    engine = create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            company = make_company(session, "Pohjoismainen Kirjanpitotoimisto ja Tilintarkastus Oy")
            admin = make_user(session, f"phone-{time.time_ns()}@acme.example",
                              password=live_server.seeded.password, company=company,
                              role="admin", display_name="Pirkko Puhelinkäyttäjä")
            now = utcnow()
            session.add(ModuleActivation(company_id=company.id, module_key="notes",
                                         state=ModuleState.trial, trial_started_at=now,
                                         trial_ends_at=now + dt.timedelta(days=10),
                                         updated_at=now))
            session.commit()
            return company.id, admin.email
    finally:
        engine.dispose()


def test_phone_top_bar_with_a_modules_link_wraps_in_every_language(company_with_notes,
                                                                    make_context, shot):
    company_id, email = company_with_notes
    page = make_context(viewport=PHONE).new_page()
    open_sign_in_and_sign_in(page, email)
    # the top bar's name is translated too
    notes_link = page.locator(f'header nav a[href="/c/{company_id}/notes"]')
    for code in LANGUAGES:
        choose_language(page, code)
        page.goto(f"/c/{company_id}/notes")
        expect(notes_link).to_be_visible()
        expect(notes_link).to_have_attribute("aria-current", "page")
        assert not has_horizontal_scroll(page), f"the notes page scrolls sideways in {code}"
        page.goto(f"/c/{company_id}/settings/company?change=1")
        expect(page.locator("#information-form")).to_be_visible()
        expect(notes_link).not_to_have_attribute("aria-current", "page")
        assert not has_horizontal_scroll(page), f"the Company tab scrolls sideways in {code}"
        shot(page, f"company-tab-{code}")


def test_language_switcher_sets_the_page_language_and_remembers_it(page, shot):
    page.goto("/login")
    assert html_lang(page) == "sv"
    switcher = page.locator("form.language").get_by_role("combobox")
    # The select has a label, so a screen reader announces what it is for.
    expect(switcher).to_have_accessible_name(re.compile(r"\S"))
    expect(switcher.locator("option")).to_have_count(len(LANGUAGES))

    for code in ("en", "fi", "sv"):
        choose_language(page, code)
        expect(page).to_have_url(re.compile(r"/login$"))
        assert html_lang(page) == code
        expect(switcher).to_have_value(code)
    shot(page, "after-switching")

    choose_language(page, "lt")
    page.goto("/login")
    assert html_lang(page) == "lt", "the choice is not remembered on the next visit"
    shot(page, "lithuanian-remembered")


def test_browser_language_is_used_until_the_visitor_chooses(make_context):
    page = make_context(locale="fi-FI").new_page()
    page.goto("/login")
    assert html_lang(page) == "fi"


def test_sign_in_focus_goes_email_continue_then_password_sign_in(page):
    page.goto("/login")
    # The e-mail field takes the focus itself, so typing can start at once.
    assert focused(page) == {"tag": "input", "id": "email", "type": "email", "form": "login-form"}
    page.keyboard.press("Tab")
    assert focused(page) == {"tag": "button", "id": "", "type": "submit", "form": "login-form"}
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("nobody@acme.example")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The password step: the password field has the focus, the address is not to be typed again.
    assert focused(page) == {"tag": "input", "id": "password", "type": "password", "form": "login-form"}
    page.keyboard.press("Tab")
    assert focused(page) == {"tag": "button", "id": "", "type": "submit", "form": "login-form"}
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert focused(page)["id"] == "another-address"


def test_pages_load_nothing_from_other_hosts(live_server, make_context, shot):
    seeded = live_server.seeded
    context = make_context()
    page = context.new_page()
    problems = []
    # The site has no favicon yet; the browser's own request for one is not what this test is about.
    page.on("console", lambda message: message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico")
            and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    open_sign_in_and_sign_in(page, seeded.admin_email)
    shot(page, "dashboard")
    for path in ("/settings/modules", "/settings/"):
        page.goto(f"/c/{seeded.company_id}{path}")
        shot(page, path.strip("/").replace("/", "-"))
    page.goto("/account")
    shot(page, "account")

    assert any("/static/" in url for url in context.requested), "the stylesheet was never requested"
    assert context.foreign_requests() == []
    # A Content-Security-Policy violation shows up as a console error.
    assert problems == []
