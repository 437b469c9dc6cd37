"""What a job can do (enqueue, retry at a time, commit in chunks), de-duplication, queues, and
a job's work committed exactly once, with the mark that it is done."""
import datetime as dt
import logging
import threading
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, text, update

from mypages.audit.models import AuditEvent
from mypages.contract import PeriodicJob, QueuedJobType, RetryAt
from mypages.jobs import LEASE, Worker
from mypages.jobs.models import PeriodicJobState, QueuedJob
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import audit_writer
from mypages.testing.plugin import work_as


class Killed(BaseException):
    """The worker's process dies here: nothing after it runs, no error is recorded."""


def queued(dbsession, name=None):
    dbsession.expire_all()
    query = select(QueuedJob).order_by(QueuedJob.id)
    if name is not None:
        query = query.where(QueuedJob.name == name)
    return dbsession.scalars(query).all()


def audited(dbsession, action):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(AuditEvent)
                            .where(AuditEvent.action == action))


def enqueue(app, name, payload=None, **kw):
    with work_as(app) as (work, _):
        return work.enqueue(name, payload or {}, **kw).id


# -- a job enqueues jobs ---------------------------------------------------------

def test_a_job_enqueues_jobs_that_exist_only_if_it_commits(app, register_job, dbsession):
    ran = []
    register_job(QueuedJobType("test.child", lambda job: ran.append(job.payload)))

    def parent(job):
        job.enqueue("test.child", {"n": job.payload["n"]})
        if job.payload["n"] == 2:
            raise RuntimeError("the parent failed")

    register_job(QueuedJobType("test.parent", parent, max_attempts=1))
    enqueue(app, "test.parent", {"n": 1})
    enqueue(app, "test.parent", {"n": 2})

    Worker(app.registry).run_queued()

    assert ran == [{"n": 1}]  # the failed parent's child was never queued
    assert [job.payload for job in queued(dbsession, "test.child")] == [{"n": 1}]


# -- retry at a given time -------------------------------------------------------

def test_a_queued_job_retries_at_the_time_it_asks_without_using_up_an_attempt(
        app, register_job, dbsession, clock):
    answers = iter([RetryAt(dt.timedelta(seconds=90), "429"), None])
    ran = []

    def call_the_bank(job):
        ran.append(job.now)
        audit_writer(job).record(job.dbsession, "test.called")  # dropped with a retry
        answer = next(answers)
        if answer is not None:
            raise answer

    register_job(QueuedJobType("test.bank", call_the_bank, max_attempts=1))
    enqueue(app, "test.bank")
    worker = Worker(app.registry)

    assert worker.run_queued() == 1
    [job] = queued(dbsession)
    assert job.finished_at is None and job.attempts == 0 and job.last_error is None
    assert dt.timedelta(seconds=89) < job.run_after - ran[0] <= dt.timedelta(seconds=91)
    assert audited(dbsession, "test.called") == 0
    clock.shift(60)
    assert worker.run_queued() == 0  # not yet
    clock.shift(31)
    assert worker.run_queued() == 1

    [job] = queued(dbsession)
    assert job.finished_at is not None and job.last_error is None and job.attempts == 1
    assert audited(dbsession, "test.called") == 1


def test_a_periodic_job_that_retries_runs_again_at_that_time(app, register_job, dbsession):
    retry_at = []

    def feed(job):
        retry_at.append(job.now + dt.timedelta(minutes=3))
        job.retry_at(retry_at[-1], "Retry-After: 180")

    register_job(PeriodicJob("test.feed", feed, every=dt.timedelta(hours=1)))
    Worker(app.registry).run_periodic()

    state = dbsession.get(PeriodicJobState, "test.feed")
    assert state.next_run_at == retry_at[0]  # not in an hour
    assert state.last_error is None and state.lease_owner is None


# -- chunks ------------------------------------------------------------------------

@contextmanager
def impatient(engine):
    """A transaction on a connection that waits at most 0.2 s for SQLite's write lock."""
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA busy_timeout=200")
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite:  # the pool hands the connection to others
                connection.connection.driver_connection.execute("PRAGMA busy_timeout=10000")

def test_a_long_job_commits_in_chunks_and_holds_no_write_lock_between_them(
        app, register_job, dbsession):
    engine = app.registry["db.engine"]
    seen_by_others = []

    def long_job(job):
        for n in range(3):
            with job.chunk() as chunk:
                audit_writer(chunk).record(chunk.dbsession, "test.chunk", target=str(n))
            # meanwhile, a page writes (on SQLite it would wait for the job without chunks)
            with impatient(engine) as other:
                other.execute(update(PeriodicJobState).where(text("1 = 0")).values(runs=0))
                seen_by_others.append(other.scalar(
                    select(func.count()).select_from(AuditEvent)
                    .where(AuditEvent.action == "test.chunk")))
        raise RuntimeError("failed after three chunks")

    register_job(QueuedJobType("test.long", long_job, max_attempts=1))
    enqueue(app, "test.long")

    Worker(app.registry).run_queued()

    assert seen_by_others == [1, 2, 3]  # each chunk committed at once
    assert audited(dbsession, "test.chunk") == 3  # and kept, though the job failed later
    [job] = queued(dbsession)
    assert "failed after three chunks" in job.last_error


# -- de-duplication --------------------------------------------------------------------

def test_a_duplicate_of_a_queued_or_running_job_is_not_added(app, register_job, dbsession):
    during_run = []

    def ocr(job):
        if job.payload["document"] == 7:  # while it runs, queued again: nothing is added
            during_run.append(enqueue(app, "test.ocr", {"document": 7}, dedupe_key="doc-7"))

    register_job(QueuedJobType("test.ocr", ocr))
    first = enqueue(app, "test.ocr", {"document": 7}, dedupe_key="doc-7")
    assert enqueue(app, "test.ocr", {"document": 7}, dedupe_key="doc-7") == first
    other = enqueue(app, "test.ocr", {"document": 8}, dedupe_key="doc-8")
    assert other != first

    assert Worker(app.registry).run_queued() == 2
    assert during_run[0] == first
    # finished: the same key may be queued again
    again = enqueue(app, "test.ocr", {"document": 7}, dedupe_key="doc-7")
    assert again not in (first, other)
    assert [(job.dedupe_key, job.payload, job.finished_at is None)
            for job in queued(dbsession)] == [("doc-7", {"document": 7}, False),
                                              ("doc-8", {"document": 8}, False),
                                              ("doc-7", {"document": 7}, True)]


def test_concurrent_enqueues_of_one_key_add_one_job(app, register_job, dbsession):
    register_job(QueuedJobType("test.ocr", lambda job: None))
    inside = threading.Barrier(6)

    def enqueue_at_once(_):
        with work_as(app) as (work, _company):
            job = work.enqueue("test.ocr", {}, dedupe_key="doc-1")
            work.dbsession.flush()
            try:  # every transaction has enqueued before any commits
                inside.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass  # SQLite: the others wait for this one's write lock
            return job.id

    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(enqueue_at_once, range(6)))

    [job] = queued(dbsession)
    assert set(ids) == {job.id}


# -- queues ------------------------------------------------------------------------

def test_a_backlog_of_slow_work_never_delays_trial_expiry(app, register_job, factory, dbsession):
    started = []
    register_job(QueuedJobType("test.ocr", lambda job: started.append(job.payload["page"]),
                               queue="ocr"))
    for page in range(5):
        enqueue(app, "test.ocr", {"page": page})
    company = factory.company()
    dbsession.add(ModuleActivation(
        company_id=company.id, module_key="notes", state=ModuleState.trial,
        trial_started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=10),
        trial_ends_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)))
    dbsession.commit()

    result = Worker(app.registry, queues=["default"]).run_once(due_only=True)

    assert "modules.expire_trials" in result["periodic"] and result["queued"] == 0
    assert started == []
    dbsession.expire_all()
    assert dbsession.scalars(select(ModuleActivation.state)).one() == ModuleState.expired

    result = Worker(app.registry, queues=["ocr"]).run_once(due_only=True)
    assert result == {"periodic": [], "queued": 5, "failed": []}
    assert started == [0, 1, 2, 3, 4]


def test_a_worker_of_every_queue_runs_due_periodic_jobs_between_queued_ones(
        app, register_job, clock):
    happened = []

    def slow_page(job):
        happened.append(f"page {job.payload['page']}")
        clock.shift(120)  # two minutes of OCR

    register_job(QueuedJobType("test.ocr", slow_page, queue="ocr"))
    register_job(PeriodicJob("test.tick", lambda job: happened.append("tick"),
                             every=dt.timedelta(minutes=1)))
    for page in range(3):
        enqueue(app, "test.ocr", {"page": page})
    worker = Worker(app.registry)

    for _ in range(4):
        worker.run_pending()

    assert happened == ["tick", "page 0", "tick", "page 1", "tick", "page 2", "tick"]


# -- how runs are recorded --------------------------------------------------------------

def test_last_success_and_last_error_of_a_periodic_job(app, register_job, dbsession, clock,
                                                       caplog):
    outcomes = iter([None, ValueError("feed unreachable"), None])

    def feed(job):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    register_job(PeriodicJob("test.feed", feed, every=dt.timedelta(minutes=5)))
    worker = Worker(app.registry)
    worker.run_periodic(due_only=False)
    first_success = dbsession.get(PeriodicJobState, "test.feed").last_success_at
    assert first_success is not None

    clock.shift(60)
    with caplog.at_level(logging.ERROR, logger="mypages.jobs"):
        worker.run_periodic(due_only=False)
    dbsession.expire_all()
    state = dbsession.get(PeriodicJobState, "test.feed")
    assert state.last_success_at == first_success  # the failure kept the last success
    assert "feed unreachable" in state.last_error and state.last_error_at > first_success
    assert [r.getMessage() for r in caplog.records] == ["job test.feed failed"]
    assert "feed unreachable" in caplog.text
    assert worker.failed == ["test.feed"]

    clock.shift(60)
    worker.run_periodic(due_only=False)
    dbsession.expire_all()
    state = dbsession.get(PeriodicJobState, "test.feed")
    assert state.last_success_at > state.last_error_at  # failing no more; the error is kept


def test_a_queued_jobs_work_and_its_finish_mark_commit_together(app, register_job, dbsession,
                                                                clock, monkeypatch):
    def invite(job):
        audit_writer(job).record(job.dbsession, "test.invited")

    register_job(QueuedJobType("test.invite", invite))
    enqueue(app, "test.invite")
    close = Worker._close_queued

    def dies_before_the_commit(self, *args, **kw):
        close(self, *args, **kw)
        raise Killed

    monkeypatch.setattr(Worker, "_close_queued", dies_before_the_commit)
    with pytest.raises(Killed):
        Worker(app.registry, name="dies").run_queued()
    monkeypatch.undo()
    assert audited(dbsession, "test.invited") == 0  # nothing of the work was kept
    [job] = queued(dbsession)
    assert job.lease_owner == "dies" and job.finished_at is None

    clock.shift(LEASE.total_seconds() + 1)  # its lease runs out; another worker takes over
    assert Worker(app.registry, name="next").run_queued() == 1

    assert audited(dbsession, "test.invited") == 1
    [job] = queued(dbsession)
    assert job.finished_at is not None and job.attempts == 2


def test_a_worker_that_lost_its_lease_commits_nothing(app, register_job, dbsession):
    engine = app.registry["db.engine"]

    def slow(job):
        # meanwhile the lease ran out and another worker took the job over
        with engine.begin() as other:
            other.execute(update(QueuedJob).values(lease_owner="other"))
        audit_writer(job).record(job.dbsession, "test.done")

    register_job(QueuedJobType("test.slow", slow))
    enqueue(app, "test.slow")

    worker = Worker(app.registry)
    assert worker.run_queued() == 1

    assert audited(dbsession, "test.done") == 0
    [job] = queued(dbsession)
    assert job.finished_at is None and job.lease_owner == "other"
    assert worker.failed == []


def test_the_queued_job_index_ignores_finished_jobs(app, register_job, dbsession):
    """The partial unique index lets finished jobs share a key (PostgreSQL and SQLite)."""
    register_job(QueuedJobType("test.ocr", lambda job: None))
    for _ in range(3):
        enqueue(app, "test.ocr", dedupe_key="doc-1")
        Worker(app.registry).run_queued()
    assert len(queued(dbsession)) == 3
