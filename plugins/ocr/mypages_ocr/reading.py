"""Reading a document: the job of the ``ocr`` queue, never run in a request.

A document is queued with its own de-duplication key, so it is never read twice at once.
The job marks it ``processing`` (committed at once, so the company sees it), reads it with
the configured engine and keeps the pages, the key fields and ``done`` in the job's own
transaction. A failure that another try may mend (the engine's service busy, a worker
stopped) goes back to ``queued`` with its reason and is retried by the job queue with
back-off; after :data:`MAX_ATTEMPTS`, or at once for a document no engine can read, it is
``failed`` with a reason the company can read. A worker killed mid-document stops renewing
its lease: another worker takes the job over when the lease runs out.
"""
from __future__ import annotations

import logging

from sqlalchemy import delete, select

from mypages.toolkit import QueuedJobType, blob_store

from mypages_ocr.engines import OcrFailed, Source
from mypages_ocr.fields import extract_fields
from mypages_ocr.files import display_png, page_images
from mypages_ocr.i18n import _
from mypages_ocr.models import DONE, FAILED, PROCESSING, QUEUED, Document, Field, Page

log = logging.getLogger(__name__)

JOB = "ocr.read_document"
QUEUE = "ocr"
MAX_ATTEMPTS = 4
ENGINE_KEY = "mypages_ocr.engine"
SETTINGS_KEY = "mypages_ocr.settings"

#: why a document failed or waits for another try, as the company reads it
REASONS = {
    "retrying": _("Reading did not work this time; it will be tried again shortly."),
    "engine-error": _("The document could not be read after several tries. Delete it and "
                      "upload it again, or ask your administrator."),
    "engine-missing": _("The OCR engine is not installed on the server. Ask your "
                        "administrator."),
    "unreadable": _("The file could not be opened for reading: it may be damaged."),
    "unsupported": _("The reading service does not accept this file. Save it as PDF or "
                     "PNG and upload it again."),
    "too-large": _("The document is larger than the reading service accepts."),
    "service-refused": _("The reading service refused the document. Ask your administrator."),
}


def reason_text(code: str | None):
    return REASONS.get(code or "", REASONS["engine-error"]) if code else None


def dedupe_key(document_id: int) -> str:
    return f"document-{document_id}"


def enqueue_reading(request, document: Document) -> None:
    request.enqueue(JOB, {"document_id": document.id}, dedupe_key=dedupe_key(document.id))


def _start(job, document_id: int):
    """Mark the document ``processing`` and count the attempt, committed at once."""
    with job.chunk() as chunk:
        document = chunk.dbsession.get(Document, document_id)
        if document is None:
            return None
        document.status, document.reason = PROCESSING, None
        document.attempts += 1
        return (document.company_id, document.content_type, document.page_count,
                document.kind, document.attempts, document.blob_key)


def _back_to_queue(job, document_id: int, reason: str) -> None:
    with job.chunk() as chunk:
        document = chunk.dbsession.get(Document, document_id)
        if document is not None:
            document.status, document.reason = QUEUED, reason


def read_document(job) -> None:
    document_id = job.payload["document_id"]
    started = _start(job, document_id)
    if started is None:
        return  # deleted meanwhile
    company_id, content_type, page_count, kind, attempt, blob_key = started
    settings = job.registry[SETTINGS_KEY]
    engine = job.registry[ENGINE_KEY]
    store = blob_store(job, company_id)
    shown: dict[int, tuple[int, int]] = {}

    def images():
        return page_images(data, content_type, settings.dpi)

    def keep(number, image):
        # the page image the document view shows
        if number not in shown:
            store.put(f"documents/{document_id}/page-{number}.png", display_png(image),
                      "image/png")
            shown[number] = image.size

    try:
        _info, data = store.get(blob_key)
        reading = engine.read(Source(data, content_type, page_count, kind, images, keep))
        if len(shown) < page_count:  # an engine that reads the original, not the images
            for number, image in enumerate(images(), start=1):
                keep(number, image)
    except OcrFailed as failed:
        log.warning("document %s cannot be read (%s): %s", document_id, failed.reason,
                    failed.detail)
        _finish_failed(job, document_id, failed.reason)
        return
    except Exception:
        if attempt >= MAX_ATTEMPTS:
            log.exception("document %s could not be read after %s attempts", document_id,
                          attempt)
            _finish_failed(job, document_id, "engine-error")
            return
        _back_to_queue(job, document_id, "retrying")
        raise  # the job queue tries again, backing off
    _keep(job, document_id, company_id, engine.name, reading, shown)


def _finish_failed(job, document_id: int, reason: str) -> None:
    document = job.dbsession.get(Document, document_id)
    if document is not None:
        document.status, document.reason, document.failed_at = FAILED, reason, job.now
        job.audit("ocr.document_failed", company_id=document.company_id,
                  target=f"document:{document_id}", reason=reason)


def _keep(job, document_id: int, company_id: int, engine: str, reading, sizes) -> None:
    dbsession = job.dbsession
    document = dbsession.get(Document, document_id)
    if document is None:
        blob_store(job, company_id).delete_prefix(f"documents/{document_id}/")
        return
    dbsession.execute(delete(Page).where(Page.document_id == document_id))
    for page in reading.pages:
        width, height = sizes.get(page.number, (1000, 1414))
        dbsession.add(Page(document_id=document_id, company_id=company_id, number=page.number,
                           width=width, height=height, text=page.text,
                           confidence=page.confidence, lines=page.as_json()))
    confidences = [page.confidence for page in reading.pages if page.confidence is not None]
    document.confidence = sum(confidences) / len(confidences) if confidences else None
    _keep_fields(dbsession, document, reading)
    document.status, document.reason, document.engine = DONE, None, engine
    document.failed_at = None
    document.read_at = job.now
    job.audit("ocr.document_read", company_id=company_id, target=f"document:{document_id}",
              engine=engine, pages=len(reading.pages))


def _keep_fields(dbsession, document: Document, reading) -> None:
    """The fields read now, except those a person corrected: the correction wins."""
    corrected = set(dbsession.scalars(select(Field.name).where(
        Field.document_id == document.id, Field.source == "person")))
    dbsession.execute(delete(Field).where(Field.document_id == document.id,
                                          Field.source != "person"))
    for found in extract_fields(reading, document.kind):
        if found.name not in corrected:
            dbsession.add(Field(document_id=document.id, company_id=document.company_id,
                                name=found.name, value=found.value[:500],
                                confidence=round(found.confidence, 1), page=found.page,
                                source=found.source))


def jobs():
    return [QueuedJobType(JOB, read_document, max_attempts=MAX_ATTEMPTS, queue=QUEUE)]
