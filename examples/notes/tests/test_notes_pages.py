"""The Notes pages, for the people of a company that has the module."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.testing.web import csrf_token
from mypages_example_notes.models import Note


def test_members_add_notes_to_their_own_company(factory, modules, signed_in, dbsession):
    company = factory.company()
    member = factory.user(company=company)
    modules.activate(company, "notes")
    browser = signed_in(member)

    token = csrf_token(browser, f"/c/{company.id}/notes")
    browser.post(f"/c/{company.id}/notes", {"csrf_token": token, "text": "Hej!"}, status=303)

    note = dbsession.scalars(select(Note)).one()
    assert (note.company_id, note.author_id, note.text) == (company.id, member.id, "Hej!")
    assert "Hej!" in browser.get(f"/c/{company.id}/notes").text


def test_an_empty_or_over_long_note_is_refused_and_changes_nothing(factory, modules, signed_in,
                                                                   dbsession):
    company = factory.company()
    modules.activate(company, "notes")
    browser = signed_in(factory.user(company=company, locale="en"))
    token = csrf_token(browser, f"/c/{company.id}/notes")

    for text in ("", "x" * 2001):
        page = browser.post(f"/c/{company.id}/notes", {"csrf_token": token, "text": text},
                            status=400)
        assert "Write a note of 1 to 2000 characters." in page.text
    assert dbsession.scalars(select(Note)).all() == []


def test_the_heading_survives_deactivation_and_a_new_purchase(factory, modules, signed_in):
    company = factory.company()
    admin = factory.user(company=company, role="admin", locale="en")
    modules.activate(company, "notes")
    browser = signed_in(admin)
    token = csrf_token(browser, f"/c/{company.id}/settings/notes")
    browser.post(f"/c/{company.id}/settings/notes", {"csrf_token": token, "heading": "Our board"},
                 status=303)

    modules.deactivate(company, "notes")
    browser.get(f"/c/{company.id}/notes", status=404)
    modules.buy(company, "notes")

    assert "<h1>Our board</h1>" in browser.get(f"/c/{company.id}/notes").text


def test_members_cannot_change_the_settings(factory, modules, signed_in):
    company = factory.company()
    modules.activate(company, "notes")
    browser = signed_in(factory.user(company=company))

    token = csrf_token(browser, f"/c/{company.id}/notes")
    browser.post(f"/c/{company.id}/settings/notes", {"csrf_token": token, "heading": "X"},
                 status=403)


@pytest.mark.parametrize("language, one, two", [
    ("sv", "1 anteckning", "2 anteckningar"),
    ("en", "1 note", "2 notes"),
])
def test_the_dashboard_card_counts_notes_in_the_readers_plural_form(
        factory, modules, signed_in, dbsession, language, one, two):
    company = factory.company()
    member = factory.user(company=company, locale=language)
    modules.activate(company, "notes")
    browser = signed_in(member)

    def card() -> str:
        page = browser.get(f"/c/{company.id}/")
        [notes] = [card for card in page.html.select("section.card")
                   if card.find("a", href=f"/c/{company.id}/notes")]
        return notes.get_text(" ", strip=True)

    for shown, total in ((one, 1), (two, 2)):
        while len(dbsession.scalars(select(Note)).all()) < total:
            dbsession.add(Note(company_id=company.id, author_id=member.id, text="Hej!"))
            dbsession.commit()
        assert shown in card()
