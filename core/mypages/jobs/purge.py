"""The nightly purge: rows nobody needs any more, deleted in batches, a short transaction each.

Each domain names its own rows at start-up (``config.add_purge_rule``), so the jobs
domain deletes what it does not know: finished queued jobs are its own; ended
sessions, used e-mail links and old throttling counters are the accounts domain's.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import delete, inspect, select

from mypages.contract import JobContext, PeriodicJob
from mypages.hookspecs import hookimpl
from mypages.jobs.models import QueuedJob
from mypages.services import settings_of

log = logging.getLogger(__name__)

#: at night in the portal's time zone, when the portal is quiet
PURGE_AT = dt.time(3, 30)
RULES_KEY = "jobs.purge_rules"


@dataclass(frozen=True)
class PurgeRule:
    """``where(now, settings)`` is the condition of the rows of ``model`` to delete."""

    name: str
    model: type
    where: Callable


def add_purge_rule(config, name: str, model: type, where: Callable) -> None:
    """Directive: the purge deletes the rows of ``model`` that ``where(now, settings)``
    selects (the settings are :class:`mypages.settings.Settings`)."""
    config.registry.setdefault(RULES_KEY, []).append(PurgeRule(name, model, where))


def purge(job: JobContext) -> dict[str, int]:
    """Delete what every rule selects, ``mypages.purge.batch_size`` rows per transaction;
    returns how many rows of each rule went."""
    settings = settings_of(job)
    size = settings.purge.batch_size
    counts = {}
    for rule in job.registry.get(RULES_KEY, []):
        [key] = inspect(rule.model).primary_key
        condition = rule.where(job.now, settings)
        counts[rule.name] = 0
        while True:
            with job.chunk() as chunk:
                batch = chunk.dbsession.scalars(select(key).where(condition).limit(size)).all()
                if batch:
                    chunk.dbsession.execute(delete(rule.model).where(key.in_(batch))
                                            .execution_options(synchronize_session=False))
            counts[rule.name] += len(batch)
            if len(batch) < size:
                break
        log.info("purged %d %s", counts[rule.name], rule.name)
    return counts


def finished_jobs(now: dt.datetime, settings):
    return QueuedJob.finished_at < now - settings.purge.finished_jobs


@hookimpl
def mypages_jobs():
    return [PeriodicJob("jobs.purge", purge, at=PURGE_AT)]


def includeme(config):
    config.add_directive("add_purge_rule", add_purge_rule)
    config.add_purge_rule("finished queued jobs", QueuedJob, finished_jobs)
    config.register_core_hooks("core.jobs", "mypages.jobs.purge")
