"""The audit trail's retention: the nightly job deletes the events older than
``mypages.purge.audit_events_days`` (365 unless set), a chain at a time, a batch per short
transaction, so no writer waits long; each chain's anchor moves to its first event kept, and
the chain records the purge itself (``audit.purged``), so it stays verifiable."""
from __future__ import annotations

import datetime as dt
import logging

from mypages.audit.chain import chains_with_old_events, purge_batch
from mypages.audit.models import PLATFORM_CHAIN
from mypages.contract import JobContext, PeriodicJob
from mypages.services import audit_writer, settings_of

log = logging.getLogger(__name__)

PURGE_AT = dt.time(3, 45)  # after the nightly purge of other rows (03:30)


def purge_audit_events(job: JobContext) -> dict[int, int]:
    settings = settings_of(job)
    before = job.now - settings.purge.audit_events
    size = settings.purge.batch_size
    with job.chunk() as chunk:
        chains = chains_with_old_events(chunk.dbsession, before)
    counts = {}
    for chain_id in chains:
        counts[chain_id] = 0
        while True:
            with job.chunk() as chunk:
                gone = purge_batch(chunk.dbsession, chain_id, before, size, job.now)
            counts[chain_id] += gone
            if gone < size:
                break
        with job.chunk() as chunk:
            audit_writer(chunk).record(
                chunk.dbsession, "audit.purged",
                company_id=None if chain_id == PLATFORM_CHAIN else chain_id,
                events=counts[chain_id], before=before.isoformat(), job=job.name)
    log.info("purged %d audit events of %d chains", sum(counts.values()), len(counts))
    return counts


def jobs() -> list:
    return [PeriodicJob("audit.purge", purge_audit_events, at=PURGE_AT)]
