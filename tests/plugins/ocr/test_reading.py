"""Reading in the ocr queue: status while it runs, retries with back-off, a killed worker's
document taken over after its lease, one reading of a document at a time."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from mypages.jobs import LEASE, Worker
from mypages.jobs.models import QueuedJob
from mypages_ocr.engines import OcrFailed
from mypages_ocr.models import Document
from mypages_ocr.reading import ENGINE_KEY, MAX_ATTEMPTS, dedupe_key

from tests.plugins.ocr.conftest import upload
from tests.plugins.ocr.documents import SWEDISH, Page, document

SMALL = document([Page(SWEDISH[:2], size=18, width=700)], "png")


def stored(dbsession) -> Document:
    dbsession.expire_all()
    return dbsession.scalars(select(Document)).one()


class Interrupted(BaseException):
    """Stands for the worker's process being killed: no handler of the job queue sees it."""


class Faulty:
    """The configured engine, with faults of ours put in front of its first readings."""

    def __init__(self, engine, *faults, during=None):
        self.engine, self.faults, self.during = engine, list(faults), during
        self.name = engine.name

    def read(self, source):
        if self.during is not None:
            self.during()
        if self.faults:
            raise self.faults.pop(0)
        return self.engine.read(source)


def test_reading_runs_only_in_the_ocr_queue_and_shows_its_status_meanwhile(
        app, testapp, member, dbsession, monkeypatch, ocr_worker):
    upload(testapp, member, SMALL, filename="a.png")
    status_url = f"{member.base}/{stored(dbsession).id}/status"
    assert testapp.get(status_url).json["status"] == "queued"
    # a worker of the other queues leaves it alone: OCR never delays them, nor they it
    assert Worker(app.registry, queues=["default"]).run_queued() == 0
    assert stored(dbsession).status == "queued"

    seen = []
    engine = app.registry[ENGINE_KEY]
    monkeypatch.setitem(app.registry, ENGINE_KEY, Faulty(
        engine, during=lambda: seen.append(testapp.get(status_url).json)))
    assert ocr_worker() == 1
    assert seen[0]["status"] == "processing" and seen[0]["title"] == "Läses" and not seen[0]["done"]
    done = testapp.get(status_url).json
    assert (done["status"], done["done"], done["reason"]) == ("done", True, "")
    assert "Leasingavtal" in stored(dbsession).pages[0].text


def test_a_failed_try_goes_back_to_the_queue_with_its_reason_and_is_retried_later(
        app, testapp, member, dbsession, monkeypatch, ocr_worker, clock):
    upload(testapp, member, SMALL, filename="a.png")
    monkeypatch.setitem(app.registry, ENGINE_KEY,
                        Faulty(app.registry[ENGINE_KEY], ConnectionError("service busy")))
    ocr_worker()
    document_ = stored(dbsession)
    assert (document_.status, document_.reason, document_.attempts) == ("queued", "retrying", 1)
    status = testapp.get(f"{member.base}/{document_.id}/status").json
    assert status["reason"].startswith("Läsningen lyckades inte den här gången")
    assert ocr_worker() == 0  # backing off: not at once
    clock.shift(61)
    assert ocr_worker() == 1
    assert (stored(dbsession).status, stored(dbsession).attempts) == ("done", 2)


def test_after_the_last_try_the_document_has_failed_with_a_reason(
        app, testapp, member, dbsession, monkeypatch, ocr_worker, clock):
    upload(testapp, member, SMALL, filename="a.png")
    monkeypatch.setitem(app.registry, ENGINE_KEY, Faulty(
        app.registry[ENGINE_KEY], *[RuntimeError("broken")] * MAX_ATTEMPTS))
    for _attempt in range(MAX_ATTEMPTS):
        ocr_worker()
        clock.shift(3600)
    document_ = stored(dbsession)
    assert (document_.status, document_.reason) == ("failed", "engine-error")
    assert document_.failed_at is not None  # the health check counts the day's failures
    job = dbsession.scalars(select(QueuedJob)).one()
    assert job.finished_at is not None and job.last_error is None  # ended by the plugin
    page = testapp.get(member.base).html.find("tr", attrs={"data-document": str(document_.id)})
    assert page.find(class_="ocr-status-reason").text.startswith("Dokumentet kunde inte läsas")


def test_a_document_no_engine_can_read_fails_at_once(
        app, testapp, member, dbsession, monkeypatch, ocr_worker):
    upload(testapp, member, SMALL, filename="a.png")
    monkeypatch.setitem(app.registry, ENGINE_KEY, Faulty(
        app.registry[ENGINE_KEY], OcrFailed("unsupported", "Textract: UnsupportedDocument")))
    ocr_worker()
    assert (stored(dbsession).status, stored(dbsession).reason) == ("failed", "unsupported")


def test_a_worker_killed_mid_document_leaves_it_to_the_next_after_its_lease(
        app, testapp, member, dbsession, monkeypatch, ocr_worker, clock):
    upload(testapp, member, SMALL, filename="a.png")
    monkeypatch.setitem(app.registry, ENGINE_KEY,
                        Faulty(app.registry[ENGINE_KEY], Interrupted()))
    try:
        Worker(app.registry, name="killed", queues=["ocr"]).run_queued()
    except Interrupted:
        pass
    assert stored(dbsession).status == "processing"
    assert ocr_worker("another") == 0  # the lease still holds it
    clock.shift(LEASE.total_seconds() + 1)
    assert ocr_worker("another") == 1
    document_ = stored(dbsession)
    assert (document_.status, document_.attempts) == ("done", 2)


def test_a_document_is_queued_once_however_often_it_is_asked_for(
        app, testapp, member, dbsession, ocr_worker):
    upload(testapp, member, SMALL, filename="a.png")
    document_ = stored(dbsession)
    ocr_worker()
    view = testapp.get(f"{member.base}/{document_.id}")
    form = view.forms["reread-form"]
    form.submit(status=303)
    testapp.post(form.action, {"csrf_token": form["csrf_token"].value}, status=303)
    jobs = dbsession.scalars(select(QueuedJob).where(QueuedJob.finished_at.is_(None))).all()
    assert [job.dedupe_key for job in jobs] == [dedupe_key(document_.id)]
    assert ocr_worker() == 1 and stored(dbsession).status == "done"
