"""Documents through the REST API: listed, filtered, uploaded (multipart, checked as the page
checks), read (status, text per page, key fields), corrected and deleted; scopes and the
module respected; one company never reaches another's document by its id."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from mypages.testing.plugin import audit_actions
from mypages.storage import root_store
from mypages_ocr.models import Document, Field, Page

from tests.plugins.ocr.documents import SWEDISH, Page as DrawnPage, document

API = "/api/v1/documents"
EVERY_SCOPE = ["documents:read", "documents:write"]


@pytest.fixture
def ocr_company(factory, modules):
    company = factory.company("Läsarna AB")
    modules.activate(company, "ocr")
    return company


def bearer(factory, company, scopes=EVERY_SCOPE, **headers) -> dict:
    return {"Authorization": f"Bearer {factory.api_token(company, scopes)}", **headers}


def send(testapp, auth, data: bytes, filename="avtal.pdf", kind="contract", status=201):
    return testapp.post(API, {"kind": kind}, upload_files=[("file", filename, data)],
                        headers=auth, status=status)


def count(dbsession, model) -> int:
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model))


def test_a_document_is_uploaded_read_and_its_text_and_fields_given(
        app, testapp, factory, dbsession, ocr_company, run_jobs, two_page_pdf):
    auth = bearer(factory, ocr_company)
    sent = send(testapp, auth, two_page_pdf).json
    assert (sent["status"], sent["page_count"], sent["kind"], sent["content_type"],
            sent["filename"], sent["size"]) == ("queued", 2, "contract", "application/pdf",
                                                "avtal.pdf", len(two_page_pdf))
    _info, kept = root_store(app).get(
        f"companies/{ocr_company.id}/documents/{sent['id']}/original")
    assert kept == two_page_pdf

    run_jobs(queues=["ocr"])
    read = testapp.get(f"{API}/{sent['id']}", headers=auth).json
    assert read["status"] == "done" and read["engine"] == "tesseract"
    pages = testapp.get(f"{API}/{sent['id']}/pages", headers=auth).json["pages"]
    assert [page["number"] for page in pages] == [1, 2]
    assert "Utrustningen" in pages[1]["text"]
    word = pages[1]["lines"][1]["words"][0]
    assert word["text"] == "Utrustningen" and len(word["box"]) == 4

    listed = testapp.get(API, {"q": "utrustningen"}, headers=auth).json["items"]
    assert [item["id"] for item in listed] == [sent["id"]]
    assert testapp.get(API, {"q": "giraff"}, headers=auth).json["items"] == []

    corrected = testapp.put_json(f"{API}/{sent['id']}/fields/total", {"value": "12 000 SEK"},
                                 headers=auth).json
    assert (corrected["value"], corrected["source"]) == ("12 000 SEK", "person")
    fields = testapp.get(f"{API}/{sent['id']}/fields", headers=auth).json["fields"]
    assert {"name": "total", "value": "12 000 SEK"}.items() <= next(
        field for field in fields if field["name"] == "total").items()
    actions = audit_actions(dbsession)
    assert {"ocr.document_uploaded", "ocr.field_corrected"} <= set(actions)


def test_the_list_is_filtered_and_paged(testapp, factory, ocr_company):
    auth = bearer(factory, ocr_company)
    small = document([DrawnPage(SWEDISH[:1], size=16, width=400)], "png")
    first = send(testapp, auth, small, "faktura.png", kind="invoice").json
    second = send(testapp, auth, small, "avtal.png", kind="contract").json

    def ids(**query):
        return [item["id"] for item in testapp.get(API, query, headers=auth).json["items"]]

    assert ids() == [first["id"], second["id"]]
    assert ids(kind="invoice") == [first["id"]]
    assert ids(status="done") == []
    assert ids(until="2000-01-01") == []
    assert ids(since="2000-01-01", kind="contract") == [second["id"]]
    page = testapp.get(API, {"limit": 1}, headers=auth).json
    assert [item["id"] for item in page["items"]] == [first["id"]]
    assert testapp.get(API, {"limit": 1, "cursor": page["next_cursor"]},
                       headers=auth).json["items"][0]["id"] == second["id"]
    csv = testapp.get(API + ".csv", {"kind": "invoice"}, headers=auth).text
    assert "faktura.png" in csv and "avtal.png" not in csv
    testapp.get(API, {"status": "lost"}, headers=auth, status=400)


def test_what_the_page_refuses_the_api_refuses_as_a_problem_and_keeps_nothing(
        app, testapp, factory, dbsession, ocr_company, monkeypatch):
    auth = bearer(factory, ocr_company, **{"Accept-Language": "sv"})

    def problem(data, filename="fil.pdf", status=400):
        answer = send(testapp, auth, data, filename, status=status)
        assert answer.content_type == "application/problem+json"
        return answer.json

    refused = problem(b"%!PS-Adobe-3.0\n" + b"x" * 200, "fil.pdf")
    assert refused["type"] == "urn:mypages:problem:document-refused"
    assert refused["title"] == "Dokumentet kan inte tas emot"
    assert "Bara PDF-, PNG-, JPEG- och TIFF-filer kan läsas" in refused["detail"]
    settings = app.registry["mypages_ocr.settings"]
    monkeypatch.setitem(app.registry, "mypages_ocr.settings",
                        replace(settings, max_file_size=100 * 1024, max_pages=1))
    big = document([DrawnPage(SWEDISH)], "png") + b"\0" * 100 * 1024
    too_large = problem(big, "stor.png", status=413)
    assert (too_large["type"], too_large["detail"]) == (
        "urn:mypages:problem:file-too-large", "Filen är för stor: högst 0,1 MB.")
    two_pages = document([DrawnPage(SWEDISH[:1]), DrawnPage(SWEDISH[1:2])], "pdf")
    assert "2 sidor" in problem(two_pages)["detail"]
    # a file part is needed: a JSON body is another media type, a text part no file
    testapp.post_json(API, {"file": "avtal.pdf"}, headers=auth, status=415)
    assert "file" in testapp.post(API, {"file": "text", "kind": "other"}, headers=auth,
                                  content_type="multipart/form-data", status=400).json["detail"]
    testapp.post(API, {"kind": "sallad"}, upload_files=[("file", "a.pdf", two_pages)],
                 headers=auth, status=400)
    nameless = b"--b\r\nContent-Type: text/plain\r\n\r\n-238\r\n--b--\r\n"
    testapp.post(API, nameless, headers={**auth, "Content-Type": "multipart/form-data; "
                                         "boundary=b"}, status=400)

    assert count(dbsession, Document) == 0
    assert list(root_store(app).list(f"companies/{ocr_company.id}/")) == []


def test_scopes_and_the_module_are_respected(testapp, factory, dbsession, ocr_company, modules,
                                             two_page_pdf):
    reader = bearer(factory, ocr_company, ["documents:read"])
    send(testapp, reader, two_page_pdf, status=403)
    writer = bearer(factory, ocr_company, ["documents:write"])
    sent = send(testapp, writer, two_page_pdf).json
    testapp.get(f"{API}/{sent['id']}", headers=writer, status=403)
    testapp.get(f"{API}/{sent['id']}", headers=reader, status=200)

    modules.expire(ocr_company, "ocr")
    answer = testapp.get(API, headers=reader, status=403).json
    assert answer["type"] == "urn:mypages:problem:module-not-active"
    testapp.delete(f"{API}/{sent['id']}", headers=writer, status=403)
    assert count(dbsession, Document) == 1


def test_another_companys_document_is_not_found_by_its_id(
        app, testapp, factory, dbsession, ocr_company, modules, run_jobs, two_page_pdf):
    other = factory.company("Annan AB")
    modules.activate(other, "ocr")
    theirs = send(testapp, bearer(factory, other), two_page_pdf).json
    run_jobs(queues=["ocr"])
    ours = bearer(factory, ocr_company)
    not_found = testapp.get(f"{API}/999999", headers=ours, status=404).json

    base = f"{API}/{theirs['id']}"
    for path in ("", "/pages", "/fields"):
        assert testapp.get(base + path, headers=ours, status=404).json == not_found
    assert testapp.put_json(base + "/fields/total", {"value": "1"}, headers=ours,
                            status=404).json == not_found
    assert testapp.delete(base, headers=ours, status=404).json == not_found
    assert testapp.get(API, headers=ours).json["items"] == []
    assert testapp.get(API, {"q": "utrustningen"}, headers=ours).json["items"] == []

    dbsession.expire_all()
    stored = dbsession.get(Document, theirs["id"])
    assert (stored.status, stored.company_id) == ("done", other.id)
    assert count(dbsession, Page) == 2
    assert dbsession.scalar(select(func.count()).select_from(Field).where(
        Field.source == "person")) == 0
    assert len(list(root_store(app).list(f"companies/{other.id}/"))) == 3


def test_deleting_removes_the_blobs_and_every_row(app, testapp, factory, dbsession,
                                                   ocr_company, run_jobs, two_page_pdf):
    auth = bearer(factory, ocr_company)
    sent = send(testapp, auth, two_page_pdf).json
    run_jobs(queues=["ocr"])
    assert testapp.delete(f"{API}/{sent['id']}", headers=auth, status=204).body == b""
    for model in (Document, Page, Field):
        assert count(dbsession, model) == 0
    assert list(root_store(app).list(f"companies/{ocr_company.id}/")) == []
    assert testapp.get(API, {"q": "utrustningen"}, headers=auth).json["items"] == []
    testapp.get(f"{API}/{sent['id']}", headers=auth, status=404)
    assert "ocr.document_deleted" in audit_actions(dbsession)
