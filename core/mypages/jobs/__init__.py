"""Periodic and queued jobs, run by workers that share nothing but the database.

A worker claims a job with a conditional UPDATE on its lease (and ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL for the queue), so several workers on
several machines never run the same job at the same time.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid

import transaction
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from mypages.contract import JobContext, PeriodicJob, QueuedJobType
from mypages.db import session_in_transaction, utcnow
from mypages.jobs.models import PeriodicJobState, QueuedJob
from mypages.plugins import PluginError
from mypages.services import JobQueue, clock, job_queue, settings_of

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
_LOST_RACE = object()


class JobRegistry:
    def __init__(self, jobs):
        self.periodic = {job.name: job for job in jobs if isinstance(job, PeriodicJob)}
        self.queued = {job.name: job for job in jobs if isinstance(job, QueuedJobType)}


def build_on_ready(registry) -> None:
    jobs = []
    pm = registry["plugins.manager"]
    names = set()
    for impl in reversed(pm.hook.mypages_jobs.get_hookimpls()):
        for job in impl.function() or []:
            if job.name in names:
                raise PluginError(impl.plugin_name, f"job {job.name!r} is registered twice")
            names.add(job.name)
            jobs.append(job)
    registry["jobs"] = JobRegistry(jobs)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs due jobs; ``run_once`` for ``mypages jobs run``, ``run_forever`` for a worker."""

    def __init__(self, registry, name: str | None = None):
        self.registry = registry
        self.name = name or worker_id()
        self.session_factory = registry["db.session_factory"]
        self.jobs: JobRegistry = registry["jobs"]
        self.stopping = threading.Event()

    def now(self) -> dt.datetime:
        return clock(self.registry).now()

    def _transaction(self):
        tm = transaction.TransactionManager(explicit=True)
        return tm, session_in_transaction(self.session_factory, tm)

    # -- periodic --------------------------------------------------------------

    def _ensure_schedule(self) -> None:
        tm, dbsession = self._transaction()
        try:
            with tm:
                known = set(dbsession.scalars(select(PeriodicJobState.name)))
                for name in self.jobs.periodic.keys() - known:
                    dbsession.add(PeriodicJobState(name=name, next_run_at=self.now()))
        except IntegrityError:
            pass  # another worker inserted the same rows at the same moment

    def _claim_periodic(self, name: str, now: dt.datetime, due_only: bool) -> bool:
        tm, dbsession = self._transaction()
        with tm:
            conditions = [PeriodicJobState.name == name,
                          or_(PeriodicJobState.lease_until.is_(None),
                              PeriodicJobState.lease_until < now)]
            if due_only:
                conditions.append(PeriodicJobState.next_run_at <= now)
            result = dbsession.execute(
                update(PeriodicJobState).where(*conditions)
                .values(lease_owner=self.name, lease_until=now + LEASE, last_started_at=now)
                .execution_options(synchronize_session=False))
            return result.rowcount == 1

    def _finish_periodic(self, job: PeriodicJob, error: str | None) -> None:
        now = self.now()
        tm, dbsession = self._transaction()
        with tm:
            dbsession.execute(
                update(PeriodicJobState)
                .where(PeriodicJobState.name == job.name, PeriodicJobState.lease_owner == self.name)
                .values(lease_owner=None, lease_until=None, last_finished_at=now,
                        next_run_at=now + job.every, last_error=error,
                        runs=PeriodicJobState.runs + 1)
                .execution_options(synchronize_session=False))

    def _run(self, func, payload: dict, renew_lease) -> str | None:
        """Run ``func`` in its own transaction, renewing the lease while it runs."""
        done = threading.Event()

        def keep_leasing():
            while not done.wait(LEASE.total_seconds() / 3):
                try:
                    renew_lease()
                except Exception:
                    log.exception("renewing a job lease failed; retrying")

        renewer = threading.Thread(target=keep_leasing, name="mypages-lease", daemon=True)
        renewer.start()
        tm, dbsession = self._transaction()
        try:
            with tm:
                func(JobContext(dbsession=dbsession, registry=self.registry, now=self.now(),
                                payload=payload))
        except Exception as exc:
            log.exception("job failed")
            return repr(exc)[:2000]
        finally:
            done.set()
            renewer.join()
        return None

    def _renew(self, model, key_column, key) -> None:
        tm, dbsession = self._transaction()
        with tm:
            dbsession.execute(update(model).where(key_column == key, model.lease_owner == self.name)
                              .values(lease_until=self.now() + LEASE)
                              .execution_options(synchronize_session=False))

    def run_periodic(self, due_only: bool = True) -> list[str]:
        """Run the periodic jobs that are due (or all of them); returns the names run."""
        self._ensure_schedule()
        ran = []
        for name, job in sorted(self.jobs.periodic.items()):
            if self._claim_periodic(name, self.now(), due_only):
                error = self._run(job.func, {}, lambda: self._renew(
                    PeriodicJobState, PeriodicJobState.name, name))
                self._finish_periodic(job, error)
                ran.append(name)
        return ran

    # -- queued ----------------------------------------------------------------

    def _claim_queued(self) -> QueuedJob | None:
        while (job := self._try_claim_queued()) is _LOST_RACE:
            pass  # another worker took that job, which says nothing about the rest: go on
        return job

    def _try_claim_queued(self):
        """A claimed job, ``None`` when nothing is due, or ``_LOST_RACE``."""
        now = self.now()
        tm, dbsession = self._transaction()
        claimable = (QueuedJob.finished_at.is_(None), QueuedJob.run_after <= now,
                     or_(QueuedJob.lease_until.is_(None), QueuedJob.lease_until < now))
        with tm:
            candidate = dbsession.scalars(
                select(QueuedJob.id)
                .where(QueuedJob.name.in_(self.jobs.queued), *claimable)
                .order_by(QueuedJob.id).limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if candidate is None:
                return None
            # Checked again: without row locks (SQLite) another worker may have run and
            # finished the candidate since, which leaves its lease empty.
            result = dbsession.execute(
                update(QueuedJob)
                .where(QueuedJob.id == candidate, *claimable)
                .values(lease_owner=self.name, lease_until=now + LEASE,
                        attempts=QueuedJob.attempts + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                return _LOST_RACE
            return dbsession.get(QueuedJob, candidate)

    def run_queued(self, limit: int | None = None) -> int:
        done = 0
        while limit is None or done < limit:
            job = self._claim_queued()
            if job is None:
                break
            job_type = self.jobs.queued[job.name]
            error = self._run(job_type.func, job.payload, lambda: self._renew(
                QueuedJob, QueuedJob.id, job.id))
            now = self.now()
            tm, dbsession = self._transaction()
            with tm:
                values = dict(lease_owner=None, lease_until=None, last_error=error)
                if error is None or job.attempts >= job_type.max_attempts:
                    values["finished_at"] = now
                else:  # try again later, backing off
                    values["run_after"] = now + dt.timedelta(seconds=30 * 2 ** job.attempts)
                dbsession.execute(update(QueuedJob)
                                  .where(QueuedJob.id == job.id, QueuedJob.lease_owner == self.name)
                                  .values(**values).execution_options(synchronize_session=False))
            done += 1
        return done

    def run_once(self, due_only: bool = False) -> dict:
        return {"periodic": self.run_periodic(due_only=due_only), "queued": self.run_queued()}

    def run_forever(self, poll_seconds: float = 5.0) -> None:
        log.info("job worker %s started", self.name)
        while not self.stopping.is_set():
            try:
                self.run_periodic(due_only=True)
                self.run_queued()
            except Exception:
                log.exception("job worker loop failed; retrying")
            self.stopping.wait(poll_seconds)


def enqueue_in(dbsession, name: str, payload: dict | None = None,
               run_after: dt.datetime | None = None) -> QueuedJob:
    """Queue a job in ``dbsession``'s transaction: it exists only if that commits."""
    job = QueuedJob(name=name, payload=payload or {}, run_after=run_after or utcnow())
    dbsession.add(job)
    return job


class DatabaseJobQueue(JobQueue):
    """Jobs as rows of ``queued_jobs``, for the workers to claim."""

    def __init__(self, registry):
        self.registry = registry

    def enqueue(self, dbsession, name: str, payload: dict | None = None,
                run_after: dt.datetime | None = None) -> QueuedJob:
        if name not in self.registry["jobs"].queued:
            raise KeyError(f"no queued job type {name!r}")
        return enqueue_in(dbsession, name, payload, run_after or clock(self.registry).now())


def enqueue(request, name: str, payload: dict | None = None,
            run_after: dt.datetime | None = None) -> QueuedJob:
    """Queue a job in the request's transaction: it exists only if the request commits."""
    return job_queue(request).enqueue(request.dbsession, name, payload, run_after)


def start_in_process_worker(registry) -> Worker:
    """For ``make run``: a worker thread beside the web server."""
    worker = Worker(registry)
    threading.Thread(target=worker.run_forever, name="mypages-jobs", daemon=True).start()
    return worker


def includeme(config):
    config.register_service(DatabaseJobQueue(config.registry), JobQueue)
    config.on_plugins_ready(build_on_ready)
    config.add_request_method(enqueue, "enqueue")
    if settings_of(config).jobs_in_process:
        # once the whole configuration is committed, not before
        config.action(("mypages", "in-process-worker"),
                      lambda: start_in_process_worker(config.registry), order=10_000)
