"""Fetching: the daily job of a source queues paced calls for what entitled companies follow,
stores each observation once as an exact decimal with its fetch time, keeps republications as
history, writes nothing of a failed call, obeys 429 and shares its pace through the database."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from mypages_rates.fetch import FETCH
from mypages_rates.models import Observation, Revision, Series, SourceState
from mypages_rates.store import store
from mypages_rates.sources import Observation as Published
from tests.plugins.rates.conftest import NOW, TODAY

STOCKHOLM = ZoneInfo("Europe/Stockholm")  # the portal's time zone unless set


def observations(dbsession, series):
    dbsession.expire_all()
    return {row.day: row for row in dbsession.scalars(
        select(Observation).where(Observation.series_id == series.id))}


def state(dbsession, key):
    dbsession.expire_all()
    return dbsession.get(SourceState, key)


def test_a_followed_series_is_backfilled_then_kept_up_to_date(run_jobs, rates_company, follow,
                                                              feeds, dbsession, now):
    [policy] = follow(rates_company, "riksbank_swea", "SECBREPOEFF")

    summary = run_jobs()

    assert summary["failed"] == []
    stored = observations(dbsession, policy)
    expected = {day: value for day, value in feeds.values("SECBREPOEFF").items()
                if day >= dt.date(2024, 6, 5)}
    assert {day: row.value for day, row in stored.items()} == expected
    assert all(row.fetched_at == NOW for row in stored.values())
    assert all(isinstance(row.value, Decimal) for row in stored.values())
    assert state(dbsession, "riksbank_swea").last_success_at == NOW
    # the metadata call, then one call for two years of the series
    assert [r.split("?")[0] for r in feeds.requests] == [
        "/swea/v1/Series", "/swea/v1/Observations/SECBREPOEFF/2024-06-05/2026-06-05"]


def test_a_second_run_changes_nothing(run_jobs, rates_company, follow, feeds, dbsession, now):
    [policy] = follow(rates_company, "riksbank_swea", "SECBREPOEFF")
    run_jobs()
    before = {day: (row.id, row.value, row.fetched_at) for day, row in
              observations(dbsession, policy).items()}
    now.advance(days=1)

    run_jobs()

    after = {day: (row.id, row.value, row.fetched_at) for day, row in
             observations(dbsession, policy).items()}
    assert after == before  # a week looked at again, nothing rewritten
    assert dbsession.scalar(select(func.count()).select_from(Revision)) == 0
    assert feeds.requests[-1].endswith("/2026-05-29/2026-06-06")


def test_a_republication_is_stored_with_its_history(run_jobs, rates_company, follow, feeds,
                                                    dbsession, now):
    [swestr] = follow(rates_company, "riksbank_swestr", "SWESTR")
    run_jobs()
    day = dt.date(2026, 6, 3)
    first = observations(dbsession, swestr)[day].value
    feeds.republish("SWESTR", day, first + Decimal("0.011"))
    now.advance(hours=20)

    run_jobs()

    again = observations(dbsession, swestr)[day]
    assert again.value == first + Decimal("0.011") and again.revision == 1
    [old] = dbsession.scalars(select(Revision).where(Revision.observation_id == again.id))
    assert old.value == first and old.fetched_at == NOW
    assert state(dbsession, "riksbank_swestr").republications == 1


def test_store_is_idempotent_and_exact(rates_app, dbsession, follow, rates_company):
    [series] = follow(rates_company, "ecb", "SEK")
    published = [Published(dt.date(2026, 6, 4), Decimal("11.1325")),
                 Published(dt.date(2026, 6, 5), Decimal("-0.00012345"))]
    assert store(dbsession, series.id, published, NOW).added == 2
    assert store(dbsession, series.id, published, NOW).unchanged == 2
    dbsession.commit()
    assert {row.value for row in observations(dbsession, series).values()} == {
        Decimal("11.1325"), Decimal("-0.00012345")}


def test_only_companies_entitled_to_the_module_are_fetched_for(run_jobs, factory, follow, feeds):
    follow(factory.company(), "riksbank_swea", "SECBREPOEFF")  # no Rates module
    run_jobs()
    assert feeds.calls["swea"] == 0


@pytest.mark.parametrize("trouble", ["500", "malformed"])
def test_a_failed_call_stores_nothing_is_reported_and_retried(run_jobs, rates_company, follow,
                                                              feeds, dbsession, now, trouble):
    [policy] = follow(rates_company, "riksbank_swea", "SECBREPOEFF")
    feeds.misbehave("swea", trouble, times=2)  # the metadata call, and the data call
    summary = run_jobs()

    assert FETCH in summary["failed"]
    assert observations(dbsession, policy) == {}
    failed = state(dbsession, "riksbank_swea")
    assert failed.last_error == ("outage" if trouble == "500" else "malformed")
    assert failed.last_success_at is None and failed.failures == 2

    now.advance(minutes=5)  # the queue's retry
    assert run_jobs(queued_only=True)["failed"] == []
    assert len(observations(dbsession, policy)) > 400
    assert state(dbsession, "riksbank_swea").failures == 0


def test_fixers_error_body_is_never_stored(run_jobs, rates_company, follow, feeds, dbsession):
    [sek] = follow(rates_company, "fixer", "SEK")
    feeds.misbehave("fixer", "error-body", code=104)
    assert FETCH in run_jobs()["failed"]
    assert observations(dbsession, sek) == {}
    assert state(dbsession, "fixer").last_error == "refused"


def test_a_429_moves_the_next_call_for_every_worker(run_jobs, rates_company, follow, feeds,
                                                    dbsession, now):
    [policy] = follow(rates_company, "riksbank_swea", "SECBREPOEFF")
    feeds.misbehave("swea", "429", retry_after=90)  # the first call, for the metadata

    run_jobs()

    assert observations(dbsession, policy) == {}
    assert state(dbsession, "riksbank_swea").next_call_at == NOW + dt.timedelta(seconds=90)
    assert state(dbsession, "riksbank_swea").last_error == "rate-limited"
    assert feeds.calls["swea"] == 1
    now.advance(seconds=89)
    run_jobs(queued_only=True)
    assert feeds.calls["swea"] == 1  # nobody called before the provider said
    now.advance(seconds=2)
    run_jobs(queued_only=True)
    assert feeds.calls["swea"] == 2
    assert len(observations(dbsession, policy)) > 400


def test_calls_are_paced_through_the_database(run_jobs, rates_company, follow, feeds, dbsession,
                                              now, rates_app):
    from mypages_rates.config import rates_config
    rates_config(rates_app).calls_per_minute["riksbank_swea"] = 4  # the anonymous limit
    follow(rates_company, "riksbank_swea", "SECBREPOEFF", "SECBDEPOEFF", "SEKEURPMI")

    run_jobs()

    assert feeds.calls["swea"] == 1  # the metadata; the rest wait their turn
    assert state(dbsession, "riksbank_swea").next_call_at == NOW + dt.timedelta(seconds=15)
    times = []
    for _ in range(3):
        now.advance(seconds=15)
        run_jobs(queued_only=True)
        times.append(feeds.calls["swea"])
    assert times == [2, 3, 4]  # one call every 15 seconds, not a burst


def test_closed_series_are_marked_from_the_metadata_and_not_fetched(run_jobs, rates_company,
                                                                    follow, feeds, dbsession):
    [litas] = follow(rates_company, "riksbank_swea", "SEKLTLPMI")
    run_jobs()  # the metadata closes it before its data is asked for
    dbsession.expire_all()
    row = dbsession.get(Series, litas.id)
    assert row.closed and row.last_day == dt.date(2014, 12, 30)
    assert not any("SEKLTLPMI" in r for r in feeds.requests)


def _readyz(testapp) -> dict:
    answer = testapp.get("/readyz?format=json", headers={"Accept-Language": "en"})
    return {check["name"]: check for check in answer.json["checks"]}


def test_readyz_tells_operators_of_a_failing_source(testapp, run_jobs, rates_company, follow,
                                                    feeds, dbsession, now):
    follow(rates_company, "ecb", "SEK")
    follow(rates_company, "riksbank_swea", "SECBREPOEFF")
    feeds.misbehave("ecb", "500")
    run_jobs()

    found = _readyz(testapp)
    ecb, swea = found["rates-ecb"], found["rates-riksbank_swea"]
    assert ecb["status"] == "warn" and "failed (outage)" in ecb["detail"]
    assert ecb["data"]["failures"] == 1 and ecb["data"]["last_error"] == "outage"
    assert ecb["data"]["last_error_at"] == NOW.isoformat()
    assert swea["status"] == "ok" and swea["data"]["last_success_at"] == NOW.isoformat()
    # after 16:45 in Stockholm on NOW's day: the exchange rates' next run is tomorrow's
    assert swea["data"]["next_run_at"] == "2026-06-06T16:45:00+02:00"

    # read from the database, as it is now: the retry that succeeds clears the warning
    now.advance(seconds=3600)
    run_jobs(queued_only=True)
    assert _readyz(testapp)["rates-ecb"]["status"] == "ok"


def test_readyz_warns_of_a_source_not_heard_from_for_days(testapp, run_jobs, rates_company,
                                                           follow, dbsession, now):
    follow(rates_company, "ecb", "SEK")
    run_jobs()
    now.advance(seconds=5 * 86400)
    check = _readyz(testapp)["rates-ecb"]
    fetched = dt.datetime.fromisoformat(check["data"]["last_success_at"])
    assert check["status"] == "warn"
    # the day of the last success in the portal's time zone: no count, so no plural to get wrong
    assert check["detail"] == ("Nothing has been fetched from European Central Bank since "
                               f"{fetched.astimezone(STOCKHOLM).date()}.")
