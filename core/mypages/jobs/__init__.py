"""Periodic and queued jobs, run by workers that share nothing but the database.

A worker claims a job with a conditional UPDATE on its lease (and ``FOR
UPDATE SKIP LOCKED`` on PostgreSQL for the queue), so several workers on
several machines never run the same job at the same time. A job's work and
the mark that it is done are committed in one transaction, and only while
the worker still holds the lease: a job is never committed twice.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable

import transaction
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from mypages.contract import JobContext, PeriodicJob, QueuedJobType, RetryAt
from mypages.db import session_in_transaction, utcnow
from mypages.jobs.models import PeriodicJobState, QueuedJob
from mypages.plugins import PluginError
from mypages.services import JobQueue, clock, job_queue, settings_of

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
DEFAULT_QUEUE = "default"
_LOST_RACE = object()


class JobRegistry:
    def __init__(self, jobs):
        self.periodic = {job.name: job for job in jobs if isinstance(job, PeriodicJob)}
        self.queued = {job.name: job for job in jobs if isinstance(job, QueuedJobType)}

    def queues(self) -> set[str]:
        return {job.queue for job in [*self.periodic.values(), *self.queued.values()]}


def build_on_ready(registry) -> None:
    jobs = []
    pm = registry["plugins.manager"]
    owners: dict[str, str] = {}
    for impl in reversed(pm.hook.mypages_jobs.get_hookimpls()):
        for job in impl.function() or []:
            if job.name in owners:
                raise PluginError(impl.plugin_name, f"job {job.name!r} is already registered "
                                                    f"by {owners[job.name]!r}")
            owners[job.name] = impl.plugin_name
            jobs.append(job)
    registry["jobs"] = JobRegistry(jobs)


def next_run(job: PeriodicJob, after: dt.datetime, time_zone) -> dt.datetime:
    """When ``job`` runs next after a run that ended at ``after`` (aware, UTC).

    A time of day is that wall-clock time in ``time_zone``, once a day: on the day
    the clocks go forward an hour a time that does not exist (02:30 in Stockholm)
    is the moment an hour later by the new time (03:30), and on the day they go
    back a time that comes twice runs the first time only."""
    if job.every is not None:
        return after + job.every
    day = after.astimezone(time_zone).date()
    while True:
        # compared in UTC: aware times of one zone compare by their wall clocks
        candidate = dt.datetime.combine(day, job.at, tzinfo=time_zone).astimezone(dt.timezone.utc)
        if candidate > after:
            return candidate
        day += dt.timedelta(days=1)


def describe_schedule(job: PeriodicJob, time_zone) -> str:
    if job.every is not None:
        return f"every {job.every}"
    return f"daily at {job.at.strftime('%H:%M')} {time_zone.key}"


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _LeaseLost(Exception):
    """The lease ran out and another worker took the job over: this run commits nothing."""


class Worker:
    """Runs due jobs of its queues (every queue when none are given): ``run_once`` for
    ``mypages jobs run``, ``run_forever`` for ``mypages jobs worker``."""

    def __init__(self, registry, name: str | None = None, queues: Iterable[str] | None = None):
        self.registry = registry
        self.name = name or worker_id()
        self.queues = frozenset(queues) if queues else None
        self.session_factory = registry["db.session_factory"]
        self.jobs: JobRegistry = registry["jobs"]
        self.stopping = threading.Event()
        #: names of the jobs that failed since the worker was made (or ``failed`` was cleared)
        self.failed: list[str] = []
        self._next_periodic_at: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return clock(self.registry).now()

    def _transaction(self):
        tm = transaction.TransactionManager(explicit=True)
        return tm, session_in_transaction(self.session_factory, tm)

    def _mine(self, job) -> bool:
        return self.queues is None or job.queue in self.queues

    def _periodic(self) -> dict[str, PeriodicJob]:
        return {name: job for name, job in self.jobs.periodic.items() if self._mine(job)}

    def _queued(self) -> dict[str, QueuedJobType]:
        return {name: job for name, job in self.jobs.queued.items() if self._mine(job)}

    def _run(self, name: str, func, renew_lease, finish, *, payload: dict, key: str = ""):
        """Run ``func`` in a transaction that ``finish(dbsession)`` marks the job done in,
        renewing the lease meanwhile. Returns ``None`` when it was committed, else the
        :class:`RetryAt` or exception that stopped it, or :class:`_LeaseLost`."""
        done = threading.Event()

        def keep_leasing():
            while not done.wait(LEASE.total_seconds() / 3):
                try:
                    renew_lease()
                except Exception:
                    log.exception("renewing the lease of job %s failed; retrying", name)

        renewer = threading.Thread(target=keep_leasing, name="mypages-lease", daemon=True)
        renewer.start()
        tm, dbsession = self._transaction()
        try:
            with tm:
                func(JobContext(dbsession=dbsession, registry=self.registry, now=self.now(),
                                payload=payload, name=name, key=key))
                if not finish(dbsession):
                    raise _LeaseLost(name)
        except _LeaseLost as lost:
            log.warning("job %s outlived its lease and was taken over; its work was dropped", name)
            return lost
        except RetryAt as retry:
            log.info("job %s asked to run again at %s %s", name, retry.due(self.now()),
                     retry.reason)
            return retry
        except Exception as exc:
            log.exception("job %s failed", name)
            self.failed.append(name)
            return exc
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

    # -- periodic --------------------------------------------------------------

    def _ensure_schedule(self, jobs: dict[str, PeriodicJob]) -> None:
        now, time_zone = self.now(), settings_of(self.registry).time_zone
        tm, dbsession = self._transaction()
        try:
            with tm:
                known = set(dbsession.scalars(select(PeriodicJobState.name)))
                for name in jobs.keys() - known:
                    job = jobs[name]
                    # every so long: at once; at a time of day: at the next such time
                    first = now if job.every is not None else next_run(job, now, time_zone)
                    dbsession.add(PeriodicJobState(name=name, next_run_at=first))
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

    def _close_periodic(self, dbsession, job: PeriodicJob, **values) -> bool:
        now = self.now()
        values.setdefault("next_run_at", next_run(job, now, settings_of(self.registry).time_zone))
        result = dbsession.execute(
            update(PeriodicJobState)
            .where(PeriodicJobState.name == job.name, PeriodicJobState.lease_owner == self.name)
            .values(lease_owner=None, lease_until=None, last_finished_at=now,
                    runs=PeriodicJobState.runs + 1, **values)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    def _after_periodic(self, job: PeriodicJob, outcome) -> None:
        """A run that did not commit: record its error, or when it asked to run again."""
        if isinstance(outcome, _LeaseLost):
            return
        tm, dbsession = self._transaction()
        with tm:
            if isinstance(outcome, RetryAt):
                self._close_periodic(dbsession, job, next_run_at=outcome.due(self.now()))
            else:
                self._close_periodic(dbsession, job, last_error=repr(outcome)[:2000],
                                     last_error_at=self.now())

    def run_periodic(self, due_only: bool = True) -> list[str]:
        """Run the periodic jobs of this worker's queues that are due (or all of them);
        returns the names run."""
        jobs = self._periodic()
        self._ensure_schedule(jobs)
        ran = []
        for name, job in sorted(jobs.items()):
            if self._claim_periodic(name, self.now(), due_only):
                outcome = self._run(
                    name, job.func,
                    lambda: self._renew(PeriodicJobState, PeriodicJobState.name, name),
                    lambda dbsession: self._close_periodic(dbsession, job,
                                                           last_success_at=self.now()),
                    payload={})
                if outcome is not None:
                    self._after_periodic(job, outcome)
                ran.append(name)
        self._next_periodic_at = self._earliest_periodic(jobs)
        return ran

    def _earliest_periodic(self, jobs) -> dt.datetime | None:
        """When the next of ``jobs`` falls due that no other worker holds."""
        now = self.now()
        tm, dbsession = self._transaction()
        with tm:
            return dbsession.scalar(
                select(func.min(PeriodicJobState.next_run_at))
                .where(PeriodicJobState.name.in_(jobs),
                       or_(PeriodicJobState.lease_until.is_(None),
                           PeriodicJobState.lease_until < now)))

    def periodic_due(self) -> bool:
        """Whether one of this worker's periodic jobs has fallen due since it last ran them."""
        return self._next_periodic_at is not None and self._next_periodic_at <= self.now()

    # -- queued ----------------------------------------------------------------

    def _claim_queued(self, names) -> QueuedJob | None:
        while (job := self._try_claim_queued(names)) is _LOST_RACE:
            pass  # another worker took that job, which says nothing about the rest: go on
        return job

    def _try_claim_queued(self, names):
        """A claimed job, ``None`` when nothing is due, or ``_LOST_RACE``."""
        now = self.now()
        tm, dbsession = self._transaction()
        claimable = (QueuedJob.finished_at.is_(None), QueuedJob.run_after <= now,
                     or_(QueuedJob.lease_until.is_(None), QueuedJob.lease_until < now))
        with tm:
            candidate = dbsession.scalars(
                select(QueuedJob.id)
                .where(QueuedJob.name.in_(names), *claimable)
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

    def _close_queued(self, dbsession, job_id: int, **values) -> bool:
        result = dbsession.execute(
            update(QueuedJob).where(QueuedJob.id == job_id, QueuedJob.lease_owner == self.name)
            .values(lease_owner=None, lease_until=None, **values)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    def _after_queued(self, job: QueuedJob, job_type: QueuedJobType, outcome) -> None:
        if isinstance(outcome, _LeaseLost):
            return
        now = self.now()
        tm, dbsession = self._transaction()
        with tm:
            if isinstance(outcome, RetryAt):  # not a failed attempt
                self._close_queued(dbsession, job.id, run_after=outcome.due(now),
                                   attempts=QueuedJob.attempts - 1)
            elif job.attempts >= job_type.max_attempts:
                self._close_queued(dbsession, job.id, finished_at=now,
                                   last_error=repr(outcome)[:2000])
            else:  # try again later, backing off
                self._close_queued(dbsession, job.id, last_error=repr(outcome)[:2000],
                                   run_after=now + dt.timedelta(seconds=30 * 2 ** job.attempts))

    def run_queued(self, limit: int | None = None, until=None) -> int:
        """Run due queued jobs of this worker's queues, one after the other, until none is
        left, ``limit`` have run or ``until()`` says so; returns how many ran."""
        done = 0
        while limit is None or done < limit:
            if until is not None and until():
                break
            types = self._queued()
            job = self._claim_queued(list(types))
            if job is None:
                break
            job_type = types[job.name]
            outcome = self._run(
                job.name, job_type.func,
                lambda: self._renew(QueuedJob, QueuedJob.id, job.id),
                lambda dbsession: self._close_queued(dbsession, job.id, finished_at=self.now(),
                                                     last_error=None),
                payload=job.payload,
                # rows queued before jobs had keys
                key=job.key or f"{job.id}:{job.created_at.isoformat()}")
            if outcome is not None:
                self._after_queued(job, job_type, outcome)
            done += 1
        return done

    def run_pending(self) -> None:
        """One round of a worker: the due periodic jobs, then queued jobs until none is left
        or a periodic job falls due, so a backlog never delays the periodic jobs."""
        self.run_periodic(due_only=True)
        self.run_queued(until=self.periodic_due)

    def run_once(self, due_only: bool = False) -> dict:
        """Every periodic job (only the due ones with ``due_only``), then the queue until it
        is empty; ``failed`` names the jobs that failed."""
        self.failed = []
        return {"periodic": self.run_periodic(due_only=due_only), "queued": self.run_queued(),
                "failed": list(self.failed)}

    def run_forever(self, poll_seconds: float = 5.0) -> None:
        log.info("job worker %s started (queues: %s)", self.name,
                 ", ".join(sorted(self.queues)) if self.queues else "all")
        while not self.stopping.is_set():
            try:
                self.run_pending()
            except Exception:
                log.exception("job worker loop failed; retrying")
            self.failed.clear()
            self.stopping.wait(poll_seconds)


# -- enqueueing ----------------------------------------------------------------

def _insert_unless_queued(dbsession, name: str, payload: dict, run_after: dt.datetime,
                          dedupe_key: str, now: dt.datetime) -> QueuedJob:
    """Insert the job unless one of that name and key is unfinished; either way return the
    unfinished one. ON CONFLICT DO NOTHING waits for a concurrent insert of the same key to
    commit or roll back, so two transactions never both add one."""
    dialect = postgresql if dbsession.get_bind().dialect.name == "postgresql" else sqlite
    inserted = dbsession.execute(
        dialect.insert(QueuedJob)
        .values(name=name, payload=payload, run_after=run_after, dedupe_key=dedupe_key,
                created_at=now, attempts=0)
        .on_conflict_do_nothing(index_elements=["name", "dedupe_key"],
                                index_where=QueuedJob.finished_at.is_(None))
        .returning(QueuedJob.id)).scalar()
    if inserted is not None:
        return dbsession.get(QueuedJob, inserted)
    return dbsession.scalars(select(QueuedJob).where(
        QueuedJob.name == name, QueuedJob.dedupe_key == dedupe_key,
        QueuedJob.finished_at.is_(None))).one()


def enqueue_in(dbsession, name: str, payload: dict | None = None,
               run_after: dt.datetime | None = None, dedupe_key: str | None = None,
               now: dt.datetime | None = None) -> QueuedJob:
    """Queue a job in ``dbsession``'s transaction: it exists only if that commits."""
    now = now or utcnow()
    run_after = run_after or now
    if dedupe_key is not None:
        return _insert_unless_queued(dbsession, name, payload or {}, run_after, dedupe_key, now)
    job = QueuedJob(name=name, payload=payload or {}, run_after=run_after, created_at=now)
    dbsession.add(job)
    return job


class DatabaseJobQueue(JobQueue):
    """Jobs as rows of ``queued_jobs``, for the workers to claim."""

    def __init__(self, registry):
        self.registry = registry

    def enqueue(self, dbsession, name: str, payload: dict | None = None,
                run_after: dt.datetime | None = None, *,
                dedupe_key: str | None = None) -> QueuedJob:
        if name not in self.registry["jobs"].queued:
            raise KeyError(f"no queued job type {name!r}")
        now = clock(self.registry).now()
        return enqueue_in(dbsession, name, payload, run_after or now, dedupe_key, now)


def enqueue(request, name: str, payload: dict | None = None,
            run_after: dt.datetime | None = None, *, dedupe_key: str | None = None) -> QueuedJob:
    """Queue a job in the request's transaction: it exists only if the request commits."""
    return job_queue(request).enqueue(request.dbsession, name, payload, run_after,
                                      dedupe_key=dedupe_key)


# -- what operators see ----------------------------------------------------------

def overview(registry) -> list[dict]:
    """Every job: its kind, queue, schedule, last success and error, and backlog (queued
    jobs not finished; for a periodic job 1 when it is due)."""
    jobs: JobRegistry = registry["jobs"]
    time_zone = settings_of(registry).time_zone
    now = clock(registry).now()
    tm = transaction.TransactionManager(explicit=True)
    rows = []
    with tm:
        dbsession = session_in_transaction(registry["db.session_factory"], tm)
        states = {state.name: state for state in dbsession.scalars(select(PeriodicJobState))}
        for name, job in sorted(jobs.periodic.items()):
            state = states.get(name)
            rows.append({
                "name": name, "kind": "periodic", "queue": job.queue,
                "schedule": describe_schedule(job, time_zone),
                "next_run_at": state.next_run_at if state else None,
                "last_success_at": state.last_success_at if state else None,
                "last_error_at": state.last_error_at if state else None,
                "last_error": state.last_error if state else None,
                "backlog": int(state is None or state.next_run_at <= now)})
        unfinished = QueuedJob.finished_at.is_(None)
        backlog = dict(dbsession.execute(select(QueuedJob.name, func.count())
                                         .where(unfinished).group_by(QueuedJob.name)).all())
        succeeded = dict(dbsession.execute(
            select(QueuedJob.name, func.max(QueuedJob.finished_at))
            .where(QueuedJob.finished_at.is_not(None), QueuedJob.last_error.is_(None))
            .group_by(QueuedJob.name)).all())
        for name in sorted(jobs.queued.keys() | backlog.keys()):
            job = jobs.queued.get(name)
            # the time of a job's error is known once it is given up
            error = dbsession.execute(
                select(QueuedJob.last_error, QueuedJob.finished_at)
                .where(QueuedJob.name == name, QueuedJob.last_error.is_not(None))
                .order_by(QueuedJob.id.desc()).limit(1)).first()
            rows.append({
                "name": name, "kind": "queued", "queue": job.queue if job else None,
                "schedule": "queued" if job else "queued, no installed job type",
                "next_run_at": None, "last_success_at": succeeded.get(name),
                "last_error_at": error[1] if error else None,
                "last_error": error[0] if error else None,
                "backlog": backlog.get(name, 0)})
    return rows


def start_in_process_worker(registry) -> Worker:
    """For ``make run``: a worker thread beside the web server."""
    worker = Worker(registry)
    threading.Thread(target=worker.run_forever, name="mypages-jobs", daemon=True).start()
    return worker


def includeme(config):
    config.register_service(DatabaseJobQueue(config.registry), JobQueue)
    config.on_plugins_ready(build_on_ready)
    config.add_request_method(enqueue, "enqueue")
    config.include(".purge")
    if settings_of(config).jobs_in_process:
        # once the whole configuration is committed, not before
        config.action(("mypages", "in-process-worker"),
                      lambda: start_in_process_worker(config.registry), order=10_000)
