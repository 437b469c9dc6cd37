"""Swedish full-text search over a company's documents, and how well Swedish pages are read."""
from __future__ import annotations

from difflib import SequenceMatcher

from sqlalchemy import select

from mypages_ocr.engines.tesseract import read_image
from mypages_ocr.models import Document

from tests.plugins.ocr.conftest import upload
from tests.plugins.ocr.documents import SECOND_PAGE, SWEDISH, Page, document, draw


def similarity(read: str, truth: str) -> float:
    return SequenceMatcher(None, " ".join(read.split()), " ".join(truth.split())).ratio()


def test_clean_swedish_pages_are_read_nearly_character_for_character():
    for page in (Page(SWEDISH), Page(SECOND_PAGE, size=18)):
        assert similarity(read_image(draw(page)).text, page.text) >= 0.98


def results(testapp, member, q, **filters):
    page = testapp.get(f"/c/{member.company.id}/documents/search", params={"q": q, **filters})
    return [(item.find("a").text, int(item["data-page"]), str(item.find(class_="snippet")))
            for item in page.html.select("#results li[data-document]")]


def test_search_finds_words_on_any_page_ranked_with_marked_snippets_and_filters(
        app, testapp, member, dbsession, ocr_worker, two_page_pdf):
    upload(testapp, member, two_page_pdf, filename="avtal.pdf", kind="contract")
    invoice = document([Page(["Faktura för försäkring", "Försäkring av utrustningen",
                              "Försäkring gäller hela året"], size=18, width=700)], "png")
    upload(testapp, member, invoice, filename="faktura.png", kind="invoice")
    ocr_worker()

    # a word of page two, found on page two, marked in the snippet
    found = results(testapp, member, "Göteborg")
    assert [(name, page) for name, page, _snippet in found] == [("avtal.pdf", 2)]
    assert "<mark>Göteborg</mark>" in found[0][2]
    # the page with the word three times first
    ranked = results(testapp, member, "försäkring")
    assert [name for name, _page, _snippet in ranked] == ["faktura.png", "avtal.pdf"]
    assert results(testapp, member, "försäkring", kind="contract")[0][:2] == ("avtal.pdf", 2)
    assert results(testapp, member, "försäkring", until="2000-01-01") == []
    # å, ä and ö are letters of their own: "gäller" is not "galler"
    assert results(testapp, member, "galler") == []
    # what a person types is words, never query syntax; markup in it is text
    assert results(testapp, member, '"OR NEAR(<b>') == []
    snippet = results(testapp, member, "utrustningen")[0][2]
    assert "<b>" not in snippet


def test_search_never_shows_another_companys_pages(
        app, testapp, member, dbsession, factory, in_ocr_trial, ocr_worker, two_page_pdf):
    upload(testapp, member, two_page_pdf)
    ocr_worker()
    other = in_ocr_trial(factory.company(name="Annan AB"))
    dbsession.expire_all()
    document_ = dbsession.scalars(select(Document)).one()
    document_.company_id = other.id  # as if another company had uploaded it
    for page in document_.pages:
        page.company_id = other.id
    dbsession.commit()
    assert results(testapp, member, "Göteborg") == []
