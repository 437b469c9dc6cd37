"""Several workers share one database and never run the same job twice."""
import datetime as dt
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import event, select, update

from mypages.contract import PeriodicJob, QueuedJobType
from mypages.db import utcnow
from mypages.jobs import Worker
from mypages.jobs.models import PeriodicJobState, QueuedJob

WORKERS = 4


class Executions:
    """What a test job did, written from whichever worker thread ran it."""

    def __init__(self, sleep: float = 0.0):
        self.sleep = sleep
        self.payloads = []
        self._lock = threading.Lock()

    def __call__(self, job):
        with self._lock:
            self.payloads.append(job.payload)
        time.sleep(self.sleep)  # long enough for the other workers to try to take it too

    def __len__(self):
        return len(self.payloads)


def in_concurrent_workers(app, call):
    """Run ``call(worker)`` on WORKERS workers at the same moment; returns their results."""
    start = threading.Barrier(WORKERS)

    def run(index):
        worker = Worker(app.registry, name=f"test-worker-{index}")
        start.wait()
        return call(worker)

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(run, range(WORKERS)))


def past(**delta):
    return utcnow() - dt.timedelta(**delta)


# -- periodic ------------------------------------------------------------------

def test_due_periodic_job_runs_once_among_concurrent_workers(app, register_job, dbsession):
    runs = Executions(sleep=0.3)
    register_job(PeriodicJob("test.report", runs, every=dt.timedelta(hours=1)))

    results = in_concurrent_workers(app, lambda worker: worker.run_periodic(due_only=True))

    assert len(runs) == 1
    assert sum(ran.count("test.report") for ran in results) == 1
    state = dbsession.get(PeriodicJobState, "test.report")
    assert state.runs == 1 and state.lease_owner is None and state.last_error is None
    assert state.next_run_at > utcnow() + dt.timedelta(minutes=59)

    # Due again: again exactly one of them runs it.
    dbsession.execute(update(PeriodicJobState).where(PeriodicJobState.name == "test.report")
                      .values(next_run_at=past(seconds=1)))
    dbsession.commit()
    in_concurrent_workers(app, lambda worker: worker.run_periodic(due_only=True))
    assert len(runs) == 2


def test_periodic_job_that_is_not_due_waits(app, register_job, dbsession):
    runs = Executions()
    register_job(PeriodicJob("test.report", runs, every=dt.timedelta(hours=1)))
    worker = Worker(app.registry)
    assert "test.report" in worker.run_periodic(due_only=True)

    assert "test.report" not in worker.run_periodic(due_only=True)
    assert len(runs) == 1


def test_failing_periodic_job_records_its_error_and_keeps_its_schedule(app, register_job, dbsession):
    def broken(job):
        raise ValueError("feed unreachable")

    register_job(PeriodicJob("test.broken", broken, every=dt.timedelta(minutes=10)))
    Worker(app.registry).run_periodic(due_only=True)

    state = dbsession.get(PeriodicJobState, "test.broken")
    assert "feed unreachable" in state.last_error
    assert state.lease_owner is None and state.lease_until is None
    assert state.next_run_at > utcnow() + dt.timedelta(minutes=9)


def test_periodic_lease_of_a_dead_worker_is_taken_over(app, register_job, dbsession):
    runs = Executions()
    register_job(PeriodicJob("test.report", runs, every=dt.timedelta(hours=1)))
    dbsession.add(PeriodicJobState(name="test.report", next_run_at=past(minutes=10), runs=0,
                                   lease_owner="dead-worker", lease_until=past(seconds=1)))
    dbsession.commit()

    Worker(app.registry).run_periodic(due_only=True)

    assert len(runs) == 1
    dbsession.expire_all()
    state = dbsession.get(PeriodicJobState, "test.report")
    assert state.runs == 1 and state.lease_owner is None


def test_periodic_lease_of_a_live_worker_is_respected(app, register_job, dbsession):
    runs = Executions()
    register_job(PeriodicJob("test.report", runs, every=dt.timedelta(hours=1)))
    lease_until = utcnow() + dt.timedelta(minutes=4)
    dbsession.add(PeriodicJobState(name="test.report", next_run_at=past(minutes=10), runs=0,
                                   lease_owner="busy-worker", lease_until=lease_until))
    dbsession.commit()

    assert "test.report" not in Worker(app.registry).run_periodic(due_only=False)

    assert len(runs) == 0
    dbsession.expire_all()
    assert dbsession.get(PeriodicJobState, "test.report").lease_owner == "busy-worker"


def test_a_long_job_keeps_its_lease_so_no_other_worker_starts_it(app, register_job, dbsession,
                                                                  monkeypatch):
    import mypages.jobs

    monkeypatch.setattr(mypages.jobs, "LEASE", dt.timedelta(seconds=0.6))
    started = threading.Event()
    runs = []

    def slow(job):
        runs.append(1)
        started.set()
        time.sleep(2.0)  # more than three times the lease: only renewal keeps it

    register_job(PeriodicJob("test.slow", slow, every=dt.timedelta(hours=1)))
    first = threading.Thread(target=Worker(app.registry).run_periodic, kwargs={"due_only": False})
    first.start()
    assert started.wait(10)
    time.sleep(1.0)  # the first lease would have run out by now without renewal
    assert "test.slow" not in Worker(app.registry).run_periodic(due_only=False)
    first.join(10)
    assert len(runs) == 1


# -- queued --------------------------------------------------------------------

def enqueue(dbsession, name, payloads, **kw):
    jobs = [QueuedJob(name=name, payload=payload, **kw) for payload in payloads]
    dbsession.add_all(jobs)
    dbsession.commit()
    return jobs


def test_queued_jobs_run_once_each_among_concurrent_workers(app, register_job, dbsession):
    runs = Executions(sleep=0.02)
    register_job(QueuedJobType("test.send", runs))
    enqueue(dbsession, "test.send", [{"n": n} for n in range(50)])

    done = in_concurrent_workers(app, lambda worker: worker.run_queued())

    assert sum(done) == 50
    assert Counter(p["n"] for p in runs.payloads) == Counter(range(50))
    rows = dbsession.scalars(select(QueuedJob)).all()
    assert all(row.finished_at is not None and row.last_error is None for row in rows)
    assert all(row.attempts == 1 and row.lease_owner is None for row in rows)


@contextmanager
def after_first_lookup(engine, action):
    """Run ``action`` right after this thread has looked up a queued job to claim, before
    it claims it: the moment another worker may take the same job."""
    worker_thread = threading.current_thread()
    done = []

    def interleave(conn, cursor, statement, *args):
        if (threading.current_thread() is worker_thread and not done
                and statement.startswith("SELECT queued_jobs.id")):
            done.append(True)
            other = threading.Thread(target=action)
            other.start()
            other.join()

    event.listen(engine, "after_cursor_execute", interleave)
    try:
        yield done
    finally:
        event.remove(engine, "after_cursor_execute", interleave)


def test_worker_that_loses_the_race_for_a_job_takes_the_next(app, register_job, dbsession):
    runs = Executions()
    register_job(QueuedJobType("test.send", runs))
    enqueue(dbsession, "test.send", [{"n": 1}, {"n": 2}])
    other_done = []

    def other_worker():
        other_done.append(Worker(app.registry, name="other").run_queued(limit=1))

    with after_first_lookup(app.registry["db.engine"], other_worker) as interleaved:
        done = Worker(app.registry, name="slow").run_queued()

    assert interleaved and other_done == [1]
    assert done == 1  # it went on to the job the other worker left
    assert Counter(p["n"] for p in runs.payloads) == Counter([1, 2])
    rows = dbsession.scalars(select(QueuedJob)).all()
    assert [(row.attempts, row.finished_at is not None) for row in rows] == [(1, True), (1, True)]


def test_failing_queued_job_is_retried_with_backoff_then_given_up(app, register_job, dbsession):
    attempts = []

    def always_fails(job):
        attempts.append(job.payload)
        raise RuntimeError("the bank said no")

    register_job(QueuedJobType("test.flaky", always_fails, max_attempts=3))
    [job] = enqueue(dbsession, "test.flaky", [{"invoice": 7}])
    worker = Worker(app.registry)

    for attempt in (1, 2, 3):
        before = utcnow()
        assert worker.run_queued() == 1
        after = utcnow()
        dbsession.refresh(job)
        assert job.attempts == attempt
        assert "the bank said no" in job.last_error
        assert job.lease_owner is None
        if attempt == 3:
            break
        assert job.finished_at is None
        backoff = dt.timedelta(seconds=30 * 2 ** attempt)  # 60 s, then 120 s
        assert before + backoff <= job.run_after <= after + backoff
        assert worker.run_queued() == 0  # not yet: it is backing off
        dbsession.execute(update(QueuedJob).where(QueuedJob.id == job.id)
                          .values(run_after=past(seconds=1)))  # the back-off time has passed
        dbsession.commit()

    assert job.finished_at is not None  # given up, with the last error kept
    dbsession.execute(update(QueuedJob).where(QueuedJob.id == job.id).values(run_after=past(seconds=1)))
    dbsession.commit()
    assert worker.run_queued() == 0
    assert attempts == [{"invoice": 7}] * 3


def test_queued_job_that_succeeds_on_retry_clears_its_error(app, register_job, dbsession):
    outcomes = iter([RuntimeError("timeout"), None])

    def flaky(job):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    register_job(QueuedJobType("test.flaky", flaky, max_attempts=3))
    [job] = enqueue(dbsession, "test.flaky", [{}])
    worker = Worker(app.registry)
    worker.run_queued()
    dbsession.execute(update(QueuedJob).values(run_after=past(seconds=1)))
    dbsession.commit()

    worker.run_queued()

    dbsession.refresh(job)
    assert (job.attempts, job.last_error) == (2, None)
    assert job.finished_at is not None


def test_queued_lease_of_a_dead_worker_is_taken_over(app, register_job, dbsession):
    runs = Executions()
    register_job(QueuedJobType("test.send", runs))
    [abandoned] = enqueue(dbsession, "test.send", [{"n": 1}], attempts=1,
                          lease_owner="dead-worker", lease_until=past(seconds=1))
    [in_progress] = enqueue(dbsession, "test.send", [{"n": 2}], attempts=1, lease_owner="busy-worker",
                            lease_until=utcnow() + dt.timedelta(minutes=4))

    assert Worker(app.registry).run_queued() == 1

    assert runs.payloads == [{"n": 1}]
    dbsession.refresh(abandoned)
    dbsession.refresh(in_progress)
    assert abandoned.finished_at is not None and abandoned.attempts == 2
    assert abandoned.lease_owner is None
    assert in_progress.finished_at is None and in_progress.lease_owner == "busy-worker"


def test_queued_jobs_of_unknown_types_are_left_alone(app, dbsession):
    """A job enqueued by a plugin that is not installed on this worker waits for one that is."""
    [job] = enqueue(dbsession, "uninstalled.plugin_job", [{}])

    assert Worker(app.registry).run_queued() == 0

    dbsession.refresh(job)
    assert job.attempts == 0 and job.finished_at is None
