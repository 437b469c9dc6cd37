"""The OCR module's readiness findings: the ocr queue's backlog, the day's failures for want
of the engine, and whether the engine can read; at worst ``warn``."""
from __future__ import annotations

import datetime as dt

import pytest
import pytesseract

from mypages_ocr.engines.tesseract import TesseractEngine
from mypages_ocr.engines.textract import TextractEngine
from mypages_ocr.models import Document
from mypages_ocr.reading import ENGINE_KEY

from tests.plugins.ocr.documents import SWEDISH, Page as DrawnPage, document


def ocr_checks(testapp) -> dict:
    report = testapp.get("/readyz?format=json").json
    assert report["ready"] is True  # nothing of OCR is ever down
    return {check["name"]: check for check in report["checks"] if check["source"] == "ocr"}


@pytest.fixture
def auth(factory, modules):
    company = factory.company()
    modules.activate(company, "ocr")
    return {"Authorization": "Bearer " + factory.api_token(company, ["documents:write"])}


def test_a_fresh_installation_is_ok(testapp):
    checks = ocr_checks(testapp)
    assert {name: check["status"] for name, check in checks.items()} == {
        "ocr-backlog": "ok", "ocr-failures": "ok", "ocr-engine": "ok"}
    assert checks["ocr-backlog"]["data"] == {"queued": 0, "processing": 0,
                                             "oldest_waiting_seconds": 0}
    assert checks["ocr-engine"]["detail"] == "tesseract can read documents."


def test_a_backlog_that_waits_too_long_is_a_warning(testapp, auth, clock):
    small = document([DrawnPage(SWEDISH[:1], size=16, width=400)], "png")
    for _ in range(2):
        testapp.post("/api/v1/documents", upload_files=[("file", "a.png", small)],
                     headers=auth, status=201)
    assert ocr_checks(testapp)["ocr-backlog"]["status"] == "ok"
    clock.shift(20 * 60)
    backlog = ocr_checks(testapp)["ocr-backlog"]
    assert backlog["status"] == "warn"
    assert backlog["data"]["queued"] == 2 and backlog["data"]["oldest_waiting_seconds"] >= 1200
    assert "Documents waiting to be read: 2; the oldest has waited 20 min." in backlog["detail"]


def test_failures_of_the_engine_in_the_last_day_are_a_warning(testapp, auth, dbsession, clock):
    small = document([DrawnPage(SWEDISH[:1], size=16, width=400)], "png")
    ids = [testapp.post("/api/v1/documents", upload_files=[("file", "a.png", small)],
                        headers=auth, status=201).json["id"] for _ in range(2)]
    now = dt.datetime.now(dt.timezone.utc)
    # an unreadable file is the customer's, not the operator's to mend
    for document_id, reason in zip(ids, ("unreadable", "engine-error")):
        stored = dbsession.get(Document, document_id)
        stored.status, stored.reason, stored.failed_at = "failed", reason, now
    dbsession.commit()
    failures = ocr_checks(testapp)["ocr-failures"]
    assert (failures["status"], failures["data"]) == ("warn", {"failed": 2,
                                                               "engine_failures": 1})
    clock.shift(60, days=1)
    assert ocr_checks(testapp)["ocr-failures"]["status"] == "ok"


def test_an_engine_that_cannot_read_is_a_warning(app, testapp, monkeypatch):
    monkeypatch.setitem(app.registry, ENGINE_KEY, TesseractEngine("swe+eng+qaa"))
    engine = ocr_checks(testapp)["ocr-engine"]
    assert engine["status"] == "warn" and "qaa" in engine["detail"]

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    monkeypatch.setitem(app.registry, ENGINE_KEY, TesseractEngine())
    assert "not installed" in ocr_checks(testapp)["ocr-engine"]["detail"]

    textract = TextractEngine(client=None, staging_bucket=None)
    textract.has_credentials = False
    monkeypatch.setitem(app.registry, ENGINE_KEY, textract)
    engine = ocr_checks(testapp)["ocr-engine"]
    assert (engine["status"], engine["data"]) == ("warn", {"engine": "textract", "problems": 2})
