"""Periodic jobs at a time of day in the portal's time zone, right across daylight saving."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from mypages.contract import PeriodicJob
from mypages.jobs import Worker, next_run
from mypages.jobs.models import PeriodicJobState
from mypages.settings import InvalidSetting, parse

STOCKHOLM = ZoneInfo("Europe/Stockholm")
UTC = dt.timezone.utc


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def nothing(job):
    pass


def at(hour, minute):
    return PeriodicJob("test.nightly", nothing, at=dt.time(hour, minute))


def test_a_time_of_day_is_the_portals_wall_clock_time():
    winter = utc(2030, 1, 15, 12, 0)  # 13:00 in Stockholm (CET, UTC+1)
    assert next_run(at(3, 30), winter, STOCKHOLM) == utc(2030, 1, 16, 2, 30)
    summer = utc(2030, 7, 15, 0, 0)  # 02:00 in Stockholm (CEST, UTC+2): later the same day
    assert next_run(at(3, 30), summer, STOCKHOLM) == utc(2030, 7, 15, 1, 30)
    # another portal's zone
    assert next_run(at(3, 30), winter, ZoneInfo("America/New_York")) == utc(2030, 1, 16, 8, 30)


def test_spring_forward_runs_once_at_the_same_wall_clock_time():
    """31 March 2030 has 23 hours in Stockholm: 02:00 CET is followed by 03:00 CEST."""
    job = at(3, 30)
    saturday = next_run(job, utc(2030, 3, 29, 12, 0), STOCKHOLM)
    sunday = next_run(job, saturday, STOCKHOLM)
    monday = next_run(job, sunday, STOCKHOLM)
    assert [t.astimezone(STOCKHOLM).strftime("%d %H:%M") for t in (saturday, sunday, monday)] \
        == ["30 03:30", "31 03:30", "01 03:30"]
    assert (sunday - saturday, monday - sunday) == (dt.timedelta(hours=23), dt.timedelta(hours=24))


def test_spring_forward_a_time_that_does_not_exist_runs_an_hour_later_by_the_new_time():
    sunday = next_run(at(2, 30), utc(2030, 3, 30, 12, 0), STOCKHOLM)
    assert sunday == utc(2030, 3, 31, 1, 30)  # 03:30 CEST; 02:30 never came that night
    assert next_run(at(2, 30), sunday, STOCKHOLM) == utc(2030, 4, 1, 0, 30)


def test_fall_back_runs_once_though_the_time_comes_twice():
    """27 October 2030 has 25 hours in Stockholm: 02:00-03:00 comes twice."""
    job = at(2, 30)
    first = next_run(job, utc(2030, 10, 26, 12, 0), STOCKHOLM)
    assert first == utc(2030, 10, 27, 0, 30)  # 02:30 CEST, the first of the two
    # run, and finished at the second 02:10 (CET): not again at the second 02:30
    assert next_run(job, utc(2030, 10, 27, 1, 10), STOCKHOLM) == utc(2030, 10, 28, 1, 30)
    daily = at(3, 30)
    saturday = next_run(daily, utc(2030, 10, 25, 12, 0), STOCKHOLM)
    sunday = next_run(daily, saturday, STOCKHOLM)
    assert sunday - saturday == dt.timedelta(hours=25)
    assert sunday.astimezone(STOCKHOLM).strftime("%H:%M") == "03:30"


def test_every_counts_from_the_end_of_the_previous_run():
    job = PeriodicJob("test.often", nothing, every=dt.timedelta(minutes=10))
    assert next_run(job, utc(2030, 3, 31, 0, 55), STOCKHOLM) == utc(2030, 3, 31, 1, 5)


@pytest.mark.parametrize("kw", [{}, {"every": dt.timedelta(hours=1), "at": dt.time(3)},
                                {"every": dt.timedelta(0)},
                                {"at": dt.time(3, tzinfo=UTC)}])
def test_a_periodic_job_has_one_valid_schedule(kw):
    with pytest.raises(ValueError):
        PeriodicJob("test.bad", nothing, **kw)


def test_the_worker_runs_a_nightly_job_at_its_time_across_the_spring_change(app, register_job,
                                                                            dbsession, clock):
    runs = []
    register_job(PeriodicJob("test.nightly", runs.append, at=dt.time(3, 30)))
    worker = Worker(app.registry)

    def ran():
        return "test.nightly" in worker.run_periodic()

    clock.move_to(utc(2030, 3, 29, 22, 0))  # Friday 23:00 in Stockholm

    assert not ran()  # a new nightly job waits for its time
    clock.move_to(utc(2030, 3, 30, 2, 29))  # Saturday 03:29
    assert not ran()
    clock.move_to(utc(2030, 3, 30, 2, 31))
    assert ran()
    assert not ran()
    clock.move_to(utc(2030, 3, 31, 1, 29))  # Sunday 03:29 CEST, 23 hours later
    assert not ran()
    clock.move_to(utc(2030, 3, 31, 1, 31))
    assert ran()

    assert len(runs) == 2
    state = dbsession.get(PeriodicJobState, "test.nightly")
    assert state.next_run_at == utc(2030, 4, 1, 1, 30)


def test_the_time_zone_is_a_setting(mypages_settings):
    assert parse(mypages_settings).time_zone == STOCKHOLM
    assert parse(dict(mypages_settings, **{"mypages.time_zone": "Europe/Helsinki"})).time_zone \
        == ZoneInfo("Europe/Helsinki")
    with pytest.raises(InvalidSetting, match="mypages.time_zone"):
        parse(dict(mypages_settings, **{"mypages.time_zone": "Europe/Gothenburg"}))
