"""Due jobs run in the test, on the test's database: the ``run_jobs`` fixture.

It runs the application's own :class:`~mypages.jobs.Worker` once, as ``mypages jobs run
--due-only`` does: the periodic jobs that are due by the application's clock (move it with
the ``clock`` fixture), then every queued job that is due, and those the run queued in
turn. A job that failed fails the test, with its error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import transaction
from sqlalchemy import select

from mypages.db import session_in_transaction
from mypages.jobs import Worker
from mypages.jobs.models import PeriodicJobState, QueuedJob


@dataclass(frozen=True)
class JobsRun:
    """What one run ran: the names of the periodic jobs, and of the queued jobs (once per
    job run, in the order they finished), and of those that failed (with
    ``raise_on_failure=False``; else :class:`JobsFailed` is raised)."""

    periodic: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class JobsFailed(AssertionError):
    """Jobs of the run failed; ``errors`` maps each one's name to its error."""

    def __init__(self, errors: dict[str, str], ran: JobsRun):
        self.errors, self.ran = errors, ran
        super().__init__("jobs failed: " + "; ".join(f"{name}: {error}"
                                                     for name, error in errors.items()))


class JobRunner:
    """``run_jobs(queues=None, raise_on_failure=True)`` runs the due jobs of ``queues`` (all
    of them when ``None``) and returns a :class:`JobsRun`."""

    def __init__(self, app):
        self.registry = app.registry

    def on(self, app) -> "JobRunner":
        """The same for ``app``, an application of other settings on the same database (one
        with your plugin, built by your conftest): its jobs, its worker."""
        return JobRunner(app)

    def _finished_ids(self) -> set[int]:
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            return set(dbsession.scalars(select(QueuedJob.id)
                                         .where(QueuedJob.finished_at.is_not(None))))

    def _errors(self, failed: list[str], finished_before: set[int]) -> dict[str, str]:
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            errors = {}
            for name in failed:
                error = dbsession.scalar(select(PeriodicJobState.last_error)
                                         .where(PeriodicJobState.name == name))
                if error is None:
                    error = dbsession.scalar(
                        select(QueuedJob.last_error).where(QueuedJob.name == name,
                                                           QueuedJob.id.not_in(finished_before),
                                                           QueuedJob.last_error.is_not(None))
                        .order_by(QueuedJob.id.desc()).limit(1))
                errors[name] = error or "(see the log)"
            return errors

    def __call__(self, queues=None, raise_on_failure: bool = True) -> JobsRun:
        if isinstance(queues, str):
            queues = [queues]
        before = self._finished_ids()
        worker = Worker(self.registry, name="test-run-jobs", queues=queues)
        outcome = worker.run_once(due_only=True)
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
            rows = dbsession.execute(select(QueuedJob.id, QueuedJob.name)
                                     .where(QueuedJob.finished_at.is_not(None))
                                     .order_by(QueuedJob.finished_at, QueuedJob.id)).all()
        ran = JobsRun(periodic=outcome["periodic"],
                      queued=[name for job_id, name in rows if job_id not in before],
                      failed=list(outcome["failed"]))
        if outcome["failed"] and raise_on_failure:
            raise JobsFailed(self._errors(outcome["failed"], before), ran)
        return ran
