"""``mypages jobs list``, ``jobs run`` and ``jobs worker`` with queues, in the test's process."""
import datetime as dt
import os
import signal

import pytest

from mypages.contract import PeriodicJob, QueuedJobType
from mypages.testing.plugin import work_as


def enqueue(app, name, payload=None):
    with work_as(app) as (work, _):
        work.enqueue(name, payload or {})


@pytest.fixture
def sigterm_restored():
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_jobs_list_shows_schedule_last_success_last_error_and_backlog(app, register_job,
                                                                     mypages_cli):
    def broken(job):
        raise ValueError("the feed is down")

    register_job(PeriodicJob("test.feed", broken, every=dt.timedelta(minutes=15)))
    register_job(QueuedJobType("test.ocr", lambda job: None, queue="ocr"))
    for page in range(3):
        enqueue(app, "test.ocr", {"page": page})
    mypages_cli("jobs", "run", "--queue", "default", status=1)

    rows = {row["name"]: row for row in mypages_cli.json("jobs", "list")}

    assert set(rows) >= {"modules.expire_trials", "jobs.purge", "test.feed", "test.ocr",
                         "companies.invitation_mail"}
    expiry = rows["modules.expire_trials"]
    assert (expiry["kind"], expiry["queue"], expiry["schedule"]) == ("periodic", "default",
                                                                     "every 0:01:00")
    assert dt.datetime.fromisoformat(expiry["last_success_at"]) is not None
    assert expiry["last_error"] is None and expiry["backlog"] == 0
    assert rows["jobs.purge"]["schedule"] == "daily at 03:30 Europe/Stockholm"
    feed = rows["test.feed"]
    assert feed["last_success_at"] is None and "the feed is down" in feed["last_error"]
    assert feed["last_error_at"] is not None
    ocr = rows["test.ocr"]
    assert (ocr["kind"], ocr["queue"], ocr["schedule"], ocr["backlog"]) == ("queued", "ocr",
                                                                            "queued", 3)

    table = mypages_cli("jobs", "list").stdout
    [feed_line] = [line for line in table.splitlines() if line.startswith("test.feed ")]
    assert "every 0:15:00" in feed_line and "ValueError('the feed is down')" in feed_line


def test_jobs_run_exits_non_zero_naming_the_failed_job(app, register_job, mypages_cli):
    def broken(job):
        raise RuntimeError("boom")

    register_job(QueuedJobType("test.broken", broken))
    enqueue(app, "test.broken")

    result = mypages_cli("jobs", "run", status=1)

    assert "test.broken" in result.stderr
    assert mypages_cli("jobs", "run").stderr == ""  # backing off: nothing failed this time


def test_jobs_run_of_one_queue_leaves_the_others(app, register_job, mypages_cli):
    ran = []
    register_job(QueuedJobType("test.ocr", lambda job: ran.append("ocr"), queue="ocr"))
    register_job(QueuedJobType("test.mail", lambda job: ran.append("mail")))
    enqueue(app, "test.ocr")
    enqueue(app, "test.mail")

    rows = mypages_cli.json("jobs", "run", "--queue", "ocr")

    assert ran == ["ocr"]
    assert rows == [{"job": "1 queued job(s)", "kind": "queued"}]  # no periodic job of "ocr"
    mypages_cli("jobs", "run", "--queue", "nope", status=2)


def test_jobs_worker_of_a_queue_runs_only_that_queue(app, register_job, mypages_cli,
                                                     sigterm_restored):
    ran = []

    def last_page(job):
        ran.append("ocr")
        os.kill(os.getpid(), signal.SIGTERM)  # the operator stops the worker

    register_job(QueuedJobType("test.ocr", last_page, queue="ocr"))
    register_job(QueuedJobType("test.mail", lambda job: ran.append("mail")))
    register_job(PeriodicJob("test.tick", lambda job: ran.append("tick"),
                             every=dt.timedelta(minutes=1)))
    enqueue(app, "test.mail")
    enqueue(app, "test.ocr")

    mypages_cli("jobs", "worker", "--queue", "ocr", "--poll", "0.01")

    assert ran == ["ocr"]
    mypages_cli("jobs", "worker", "--queue", "nope", status=2)
