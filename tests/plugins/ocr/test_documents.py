"""Uploading, listing, filtering, viewing, downloading and deleting documents; one company
never reaches another's documents by any id."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select, text

from mypages.storage import root_store
from mypages.testing.plugin import audit_actions, csrf_token, sign_in
from mypages.jobs.models import QueuedJob
from mypages_ocr.models import Document, Field, Page

from tests.plugins.ocr.conftest import Member, upload
from tests.plugins.ocr.documents import SWEDISH, Page as DrawnPage, document


def only_document(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(Document)).one()


@pytest.mark.parametrize("kind,content_type", [("pdf", "application/pdf"), ("png", "image/png"),
                                               ("jpeg", "image/jpeg"), ("tiff", "image/tiff")])
def test_an_upload_is_kept_in_the_companys_blobs_and_queued_for_reading(
        app, testapp, member, dbsession, kind, content_type):
    data = document([DrawnPage(SWEDISH[:2], size=16, width=500)], kind)
    # the name says nothing: the type is read from the content
    upload(testapp, member, data, filename="skannat.dat")

    stored = only_document(dbsession)
    assert (stored.company_id, stored.content_type, stored.page_count, stored.status,
            stored.size, stored.kind) == (member.company.id, content_type, 1, "queued",
                                          len(data), "contract")
    info, kept = root_store(app).get(f"companies/{member.company.id}/documents/{stored.id}/original")
    assert kept == data and info.content_type == content_type
    job = dbsession.scalars(select(QueuedJob)).one()
    assert (job.name, job.payload, job.dedupe_key) == (
        "ocr.read_document", {"document_id": stored.id}, f"document-{stored.id}")
    events = audit_actions(dbsession)
    assert "ocr.document_uploaded" in events


def refused(testapp, member, data, filename="fil.pdf"):
    page = upload(testapp, member, data, filename=filename, status=400)
    return page.html.find(id="upload-error").text


def test_what_is_no_accepted_file_is_refused_before_anything_is_stored(
        app, testapp, member, dbsession):
    only = "Bara PDF-, PNG-, JPEG- och TIFF-filer kan läsas."
    assert only in refused(testapp, member, b"%!PS-Adobe-3.0\nnot a pdf " * 20, "avtal.pdf")
    assert only in refused(testapp, member, b"GIF89a" + b"\0" * 100, "bild.png")
    assert "skyddad med lösenord" in refused(testapp, member, b"%PDF-1.7\n" + b"garbage" * 50)
    assert dbsession.scalar(select(func.count()).select_from(Document)) == 0
    assert list(root_store(app).list("companies/")) == []


def test_too_large_files_and_too_many_pages_are_refused_with_the_limits(
        app, testapp, member, dbsession, monkeypatch):
    settings = app.registry["mypages_ocr.settings"]
    monkeypatch.setitem(app.registry, "mypages_ocr.settings",
                        replace(settings, max_file_size=100 * 1024))
    big = document([DrawnPage(SWEDISH)], "png") + b"\0" * 100 * 1024
    assert "Filen är för stor: högst 0,1 MB." in refused(testapp, member, big)
    monkeypatch.setitem(app.registry, "mypages_ocr.settings",
                        replace(settings, max_pages=1))
    two = document([DrawnPage(SWEDISH[:1]), DrawnPage(SWEDISH[1:2])], "pdf")
    assert "Dokumentet har 2 sidor; högst 1 kan läsas." in refused(testapp, member, two)
    assert dbsession.scalar(select(func.count()).select_from(Document)) == 0
    assert list(root_store(app).list("companies/")) == []


def read_document(testapp, member, ocr_worker, dbsession, data, **kw):
    upload(testapp, member, data, **kw)
    ocr_worker()
    return only_document(dbsession)


def test_a_read_document_is_listed_viewed_with_its_pages_and_downloaded(
        app, testapp, member, dbsession, ocr_worker, two_page_pdf):
    stored = read_document(testapp, member, ocr_worker, dbsession, two_page_pdf)
    assert stored.status == "done"
    row = testapp.get(member.base).html.find("tr", attrs={"data-document": str(stored.id)})
    assert row.find(class_="ocr-status")["data-status"] == "done"
    assert not row.find(class_="ocr-status").has_attr("data-status-url")

    view = testapp.get(f"{member.base}/{stored.id}?q=utrustningen")
    svg_pages = view.html.select("section.ocr-page svg")
    assert len(svg_pages) == 2
    words = [word.text for word in svg_pages[1].select("text.ocr-word")]
    assert "Utrustningen" in words
    assert len(svg_pages[1].select("rect.ocr-mark")) == 1  # the word searched for, marked
    image = testapp.get(svg_pages[0].find("image")["href"])
    assert image.content_type == "image/png" and image.body.startswith(b"\x89PNG")

    download = testapp.get(view.html.find(id="download")["href"])
    assert download.body == two_page_pdf
    assert download.content_type == "application/pdf"
    assert download.headers["Content-Disposition"] == 'attachment; filename="avtal.pdf"'
    actions = audit_actions(dbsession)
    assert {"ocr.document_viewed", "ocr.document_downloaded"} <= set(actions)


def test_the_list_is_filtered_by_kind_status_and_date(app, testapp, member, dbsession):
    small = document([DrawnPage(SWEDISH[:1], size=16, width=400)], "png")
    upload(testapp, member, small, filename="faktura.png", kind="invoice")
    upload(testapp, member, small, filename="avtal.png", kind="contract")

    def listed(query):
        page = testapp.get(member.base + query)
        return sorted(a.text for a in page.html.select("#documents tbody a"))

    assert listed("") == ["avtal.png", "faktura.png"]
    assert listed("?kind=invoice") == ["faktura.png"]
    assert listed("?status=done") == []
    assert listed("?status=queued&kind=contract") == ["avtal.png"]
    assert listed("?until=2000-01-01") == []
    assert listed("?since=2000-01-01&kind=nonsense") == ["avtal.png", "faktura.png"]


def test_deleting_removes_the_blobs_the_rows_and_the_search_entries(
        app, testapp, member, dbsession, ocr_worker, two_page_pdf):
    stored = read_document(testapp, member, ocr_worker, dbsession, two_page_pdf)
    prefix = f"companies/{member.company.id}/documents/{stored.id}/"
    assert len(list(root_store(app).list(prefix))) == 3  # the original and two page images
    assert testapp.get(f"/c/{member.company.id}/documents/search?q=utrustningen").html.select(
        "#results li[data-document]")
    view = testapp.get(f"{member.base}/{stored.id}")
    view.forms["delete-form"].submit(status=303)

    dbsession.expire_all()
    for model in (Document, Page, Field):
        assert dbsession.scalar(select(func.count()).select_from(model)) == 0
    assert list(root_store(app).list(prefix)) == []
    assert not testapp.get(f"/c/{member.company.id}/documents/search?q=utrustningen").html.select(
        "#results li[data-document]")
    if dbsession.get_bind().dialect.name == "sqlite":
        assert dbsession.execute(text(
            "SELECT count(*) FROM ocr_pages_fts WHERE ocr_pages_fts MATCH 'utrustningen'"
        )).scalar() == 0
    assert "ocr.document_deleted" in audit_actions(dbsession)


def test_another_companys_document_is_not_found_by_any_route(
        app, testapp, member, dbsession, factory, in_ocr_trial, ocr_worker, two_page_pdf):
    other = in_ocr_trial(factory.company(name="Annan AB"))
    theirs = factory.user(company=other)
    their_app = type(testapp)(app, extra_environ={"REMOTE_ADDR": "127.0.0.2",
                                                  "HTTP_HOST": "localhost"})
    sign_in(their_app, theirs.email)
    upload(their_app, Member(other, theirs), two_page_pdf)
    ocr_worker()
    document_id = only_document(dbsession).id

    base = f"{member.base}/{document_id}"
    token = csrf_token(testapp, member.base)
    def main(page):
        return str(page.html.find("main"))

    not_found = main(testapp.get(f"{member.base}/999999", status=404))
    for path in ("", "/status", "/download", "/pages/1.png"):
        assert main(testapp.get(base + path, status=404)) == not_found
    for path in ("/fields/total", "/read-again", "/delete"):
        testapp.post(base + path, {"csrf_token": token, "value": "1"}, status=404)
    assert not testapp.get(f"/c/{member.company.id}/documents/search?q=utrustningen").html.select(
        "#results li[data-document]")
    # and their company's pages are not ours to open at all
    testapp.get(f"/c/{other.id}/documents/{document_id}", status=404)
    dbsession.expire_all()
    stored = only_document(dbsession)
    assert (stored.status, stored.company_id) == ("done", other.id)
    assert dbsession.scalar(select(func.count()).select_from(Field).where(
        Field.source == "person")) == 0
    assert len(list(root_store(app).list(f"companies/{other.id}/"))) == 3


def test_a_company_without_the_module_has_no_document_pages(app, testapp, factory):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    testapp.get(f"/c/{company.id}/documents", status=404)


def test_counts_of_documents_and_pages_take_the_readers_plural_form(testapp, member, dbsession,
                                                                    two_page_pdf):
    def card() -> str:
        page = testapp.get(f"/c/{member.company.id}/")
        [documents] = [card for card in page.html.select("section.card")
                       if card.find("a", href=member.base)]
        return documents.get_text(" ", strip=True)

    def pages_line(document_id) -> str:
        return " ".join(testapp.get(f"{member.base}/{document_id}").html.find("main").get_text(
            " ").split())

    one_page = document([DrawnPage(SWEDISH[:1], size=16, width=400)], "png")
    upload(testapp, member, one_page, "kvitto.png")
    first = only_document(dbsession)
    assert "1 dokument uppladdat" in card()  # the member writes Swedish
    assert "· 1 sida ·" in pages_line(first.id)
    upload(testapp, member, two_page_pdf)
    assert "2 dokument uppladdade" in card()
    second = dbsession.scalars(select(Document).where(Document.id != first.id)).one()
    assert "· 2 sidor ·" in pages_line(second.id)
