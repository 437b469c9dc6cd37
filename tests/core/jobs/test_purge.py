"""The nightly purge deletes what nobody needs any more, in batches of short transactions."""
import dataclasses
import datetime as dt

import pytest
from sqlalchemy import event, select

from mypages.accounts.models import EmailToken, LoginThrottle, UserSession
from mypages.accounts.throttle import FORGET_AFTER
from mypages.jobs import Worker
from mypages.jobs.models import QueuedJob
from mypages.services import settings_of
from mypages.settings import InvalidSetting, PurgeSettings, parse

DAY = dt.timedelta(days=1)


def now():
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture
def small_batches(app, change_settings):
    change_settings(purge=dataclasses.replace(settings_of(app).purge, batch_size=2))


def test_the_purge_runs_every_night_in_the_portals_time_zone(app):
    job = app.registry["jobs"].periodic["jobs.purge"]
    assert (job.at, job.every) == (dt.time(3, 30), None)


def test_finished_jobs_ended_sessions_used_links_and_old_counters_go_in_batches(
        app, factory, dbsession, small_batches):
    user = factory.user()
    t = now()
    old, recent = t - 31 * DAY, t - 29 * DAY
    dbsession.add_all(
        [QueuedJob(name="x.done", payload={}, created_at=old, run_after=old, finished_at=old)
         for _ in range(5)]
        + [QueuedJob(name="x.done", payload={}, created_at=old, run_after=old, finished_at=recent),
           QueuedJob(name="x.waiting", payload={}, created_at=old, run_after=old)]
        + [UserSession(id=f"ended-{n}", user_id=user.id, created_at=old, last_seen_at=old,
                       ended_at=old) for n in range(3)]
        + [UserSession(id="ended-lately", user_id=user.id, created_at=old, last_seen_at=recent,
                       ended_at=recent),
           UserSession(id="idle-long-ago", user_id=user.id, created_at=old - DAY,
                       last_seen_at=old - DAY),
           UserSession(id="open", user_id=user.id, created_at=t, last_seen_at=t)]
        + [EmailToken(token_hash="used", purpose="reset", user_id=user.id, expires_at=t - 8 * DAY,
                      used_at=t - 8 * DAY),
           EmailToken(token_hash="expired", purpose="invite", expires_at=t - 8 * DAY),
           EmailToken(token_hash="used-lately", purpose="reset", user_id=user.id,
                      expires_at=t - 6 * DAY, used_at=t - 6 * DAY),
           EmailToken(token_hash="unused", purpose="reset", user_id=user.id, expires_at=t + DAY)]
        + [LoginThrottle(key="old", failures=3, last_failure_at=t - FORGET_AFTER - DAY,
                         blocked_until=t - FORGET_AFTER),
           LoginThrottle(key="fresh", failures=3, last_failure_at=t, blocked_until=t + DAY)])
    dbsession.commit()
    deletes = []
    engine = app.registry["db.engine"]

    def count_deletes(conn, cursor, statement, *args):
        if statement.startswith("DELETE"):
            deletes.append(statement.split()[2])

    event.listen(engine, "after_cursor_execute", count_deletes)
    try:
        result = Worker(app.registry).run_once()
    finally:
        event.remove(engine, "after_cursor_execute", count_deletes)

    assert "jobs.purge" in result["periodic"] and result["failed"] == []
    dbsession.expire_all()
    assert sorted(j.name for j in dbsession.scalars(select(QueuedJob))) == ["x.done", "x.waiting"]
    assert sorted(dbsession.scalars(select(UserSession.id))) == ["ended-lately", "open"]
    assert sorted(dbsession.scalars(select(EmailToken.token_hash))) == ["unused", "used-lately"]
    assert list(dbsession.scalars(select(LoginThrottle.key))) == ["fresh"]
    # two rows per transaction: 5 jobs in 3 batches, 4 sessions in 2, 2 links in 1, 1 counter
    assert deletes.count("queued_jobs") == 3
    assert deletes.count("user_sessions") == 2
    assert deletes.count("email_tokens") == 1
    assert deletes.count("login_throttles") == 1


def test_retention_is_set_in_days(mypages_settings):
    assert parse(mypages_settings).purge == PurgeSettings()
    purge = parse(dict(mypages_settings, **{"mypages.purge.finished_jobs_days": "90",
                                            "mypages.purge.ended_sessions_days": "14",
                                            "mypages.purge.used_tokens_days": "1",
                                            "mypages.purge.batch_size": "500"})).purge
    assert purge == PurgeSettings(finished_jobs=90 * DAY, ended_sessions=14 * DAY,
                                  used_tokens=DAY, batch_size=500)
    with pytest.raises(InvalidSetting, match="mypages.purge.finished_jobs_days"):
        parse(dict(mypages_settings, **{"mypages.purge.finished_jobs_days": "0"}))
