"""The bell on a phone: its count and name, the list, marking read, in a real browser."""
from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from mypages.testing.factories import make_user

from tests.e2e.steps import PHONE, choose_language, has_horizontal_scroll, open_sign_in_and_sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def long_time_user(live_server):
    """Someone whose account is older than the What's new entries of the core and of Notes,
    so both arrive at sign-in."""
    engine = create_engine(live_server.database_url)
    try:
        with Session(engine) as session:
            user = make_user(session, f"bell-{time.time_ns()}@acme.example",
                             password=live_server.seeded.password,
                             created_at=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
            session.commit()
            return user.email
    finally:
        engine.dispose()


def test_the_bell_counts_opens_the_list_and_marking_read_empties_it_on_a_phone(
        long_time_user, make_context, shot):
    page = make_context(viewport=PHONE).new_page()
    open_sign_in_and_sign_in(page, long_time_user)
    bell = page.get_by_role("link", name="Notifications: 2 unread")
    expect(bell).to_be_visible()
    with page.expect_navigation():
        bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.locator("ul.notifications li.unread")).to_have_count(2)
    assert not has_horizontal_scroll(page), "the notifications page scrolls sideways"
    shot(page, "notifications-en")
    choose_language(page, "fi")  # long words
    assert not has_horizontal_scroll(page), "the notifications page scrolls sideways in fi"
    choose_language(page, "en")

    with page.expect_navigation():
        page.get_by_role("button", name="Mark as read").first.click()
    expect(page.get_by_role("link", name="Notifications: 1 unread")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Notifications", exact=True)).to_be_visible()
    expect(page.locator("ul.notifications li.unread")).to_have_count(0)
    shot(page, "notifications-read")
