"""The OCR module's readiness findings (``/readyz``, ``mypages health``): the backlog of the
``ocr`` queue, documents that failed for want of the engine in the last day, and whether the
engine can read at all. Each is at worst ``warn``: the portal still serves, its documents
wait. Two indexed queries on the documents' status; the engine says what it lacks from what
it found at start-up or a few minutes ago."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from mypages.toolkit import HealthCheck

from mypages_ocr.i18n import _
from mypages_ocr.models import FAILED, PROCESSING, QUEUED, Document
from mypages_ocr.reading import ENGINE_KEY

#: a document waiting longer than this means the ocr queue's workers do not keep up
SLOW_QUEUE = dt.timedelta(minutes=15)
#: failures the operator can mend; the others are the customer's file
ENGINE_REASONS = ("engine-error", "engine-missing", "service-refused")
DAY = dt.timedelta(days=1)


def backlog(now: dt.datetime, dbsession) -> HealthCheck:
    counts = dict(dbsession.execute(
        select(Document.status, func.count()).where(Document.status.in_((QUEUED, PROCESSING)))
        .group_by(Document.status)).all())
    oldest = dbsession.scalar(select(func.min(Document.created_at))
                              .where(Document.status == QUEUED))
    waited = int((now - oldest).total_seconds()) if oldest is not None else 0
    data = {"queued": counts.get(QUEUED, 0), "processing": counts.get(PROCESSING, 0),
            "oldest_waiting_seconds": max(waited, 0)}
    if oldest is not None and now - oldest > SLOW_QUEUE:
        return HealthCheck("ocr-backlog", HealthCheck.WARN, _(
            "Documents waiting to be read: ${count}; the oldest has waited ${minutes} min. Start "
            "more workers of the ocr queue (mypages jobs worker --queue ocr).",
            mapping={"count": data["queued"], "minutes": waited // 60}), data)
    return HealthCheck("ocr-backlog", HealthCheck.OK, _(
        "Documents waiting to be read: ${count}.", mapping={"count": data["queued"]}), data)


def failures(now: dt.datetime, dbsession) -> HealthCheck:
    rows = dict(dbsession.execute(
        select(Document.reason, func.count())
        .where(Document.status == FAILED, Document.failed_at >= now - DAY)
        .group_by(Document.reason)).all())
    data = {"failed": sum(rows.values()),
            "engine_failures": sum(count for reason, count in rows.items()
                                   if reason in ENGINE_REASONS)}
    if data["engine_failures"]:
        return HealthCheck("ocr-failures", HealthCheck.WARN, _(
            "Documents that the OCR engine or its service could not read in the last day: "
            "${count}. See the worker's log.", mapping={"count": data["engine_failures"]}),
            data)
    return HealthCheck("ocr-failures", HealthCheck.OK, _(
        "No document failed because of the OCR engine in the last day."), data)


def engine(registry) -> HealthCheck:
    reader = registry[ENGINE_KEY]
    missing = reader.missing()
    if missing:
        return HealthCheck("ocr-engine", HealthCheck.WARN, missing[0],
                           {"engine": reader.name, "problems": len(missing)})
    return HealthCheck("ocr-engine", HealthCheck.OK, _("${engine} can read documents.",
                                                       mapping={"engine": reader.name}),
                       {"engine": reader.name})


def checks(registry, now: dt.datetime, dbsession) -> list[HealthCheck]:
    return [backlog(now, dbsession), failures(now, dbsession), engine(registry)]
