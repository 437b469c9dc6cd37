"""The Notes plugin's "What's new" entry reaches a person once, at sign-in, in their
language."""
from __future__ import annotations

import datetime as dt

from mypages.testing.web import sign_in


def test_the_entry_arrives_once_in_the_bell_in_the_readers_language(factory, testapp):
    person = factory.user(locale="sv",
                          created_at=dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc))
    sign_in(testapp, person.email)
    page = testapp.get("/notifications")
    titles = [h2.get_text(strip=True) for h2 in page.html.select("ul.notifications h2")]
    assert titles.count("Oläst:Anteckningar i REST-API:et") == 1
    testapp.reset()
    sign_in(testapp, person.email)
    titles = [h2.get_text(strip=True)
              for h2 in testapp.get("/notifications").html.select("ul.notifications h2")]
    assert titles.count("Oläst:Anteckningar i REST-API:et") == 1
