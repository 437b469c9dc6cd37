"""The jobs that fetch: one periodic job per source, at a time of day after it publishes, that
queues one paced call at a time for what the companies follow.

Every write goes through a chunk of its own (the job's own session writes nothing), so a
call's observations and the source's state are committed together or not at all, and the
pacing row is seen by every worker at once.

* A call waits its turn: ``rates_source_states.next_call_at`` is moved on by one interval
  with a conditional UPDATE; a worker that finds it in the future asks to run then
  (:class:`RetryAt`). A 429 moves it to the provider's ``Retry-After``.
* A failure (malformed answer, time-out, outage, an error body) is recorded on the source
  and raised, so the queue retries it with growing delays; nothing of it is stored.
* A series followed for the first time is backfilled, one window a call (a year for Fixer),
  each window queueing the next.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from mypages.toolkit import (PeriodicJob, QueuedJobType, RetryAt, clock, entitled_companies,
                             portal_timezone, today)

from mypages_rates.config import rates_config, sources
from mypages_rates.models import CompanyKey, Follow, Observation, Series, SourceState
from mypages_rates.sources import FeedError, SeriesStatus, Source
from mypages_rates.sources.builtin import BUILT_IN_KEYS
from mypages_rates.store import Stored, ensure_series, store

log = logging.getLogger(__name__)

MODULE_KEY = "rates"
FETCH = "rates.fetch_series"
ALERTS = "rates.check_alerts"
#: a daily fetch looks this far back again, to see republications
LOOK_BACK = dt.timedelta(days=7)


class FetchFailed(Exception):
    """A call that gave no data; the queue retries the job. Its text is safe to log."""


# -- the source's state ------------------------------------------------------------------

def ensure_state(dbsession, source_key: str) -> None:
    dialect = postgresql if dbsession.bind.dialect.name == "postgresql" else sqlite
    dbsession.execute(dialect.insert(SourceState).values(
        source=source_key, failures=0, republications=0).on_conflict_do_nothing())


def take_turn(job, source: Source, key: str | None) -> None:
    """Claim the next call to the source's provider for this worker, or ask to run again
    when it is another's turn."""
    interval = dt.timedelta(seconds=rates_config(job).pace(source, key))
    now = clock(job).now()
    with job.chunk() as chunk:
        ensure_state(chunk.dbsession, source.key)
        claimed = chunk.dbsession.execute(
            update(SourceState)
            .where(SourceState.source == source.key,
                   or_(SourceState.next_call_at.is_(None), SourceState.next_call_at <= now))
            .values(next_call_at=now + interval)
            .execution_options(synchronize_session=False)).rowcount
        turn = None if claimed else chunk.dbsession.scalar(
            select(SourceState.next_call_at).where(SourceState.source == source.key))
    if turn is not None:
        raise RetryAt(turn, f"pacing calls to {source.key}")


def record_failure(job, source_key: str, error: FeedError) -> None:
    now = clock(job).now()
    with job.chunk() as chunk:
        ensure_state(chunk.dbsession, source_key)
        values = dict(last_error_at=now, last_error=error.kind,
                      last_error_detail=(error.detail or "")[:200],
                      failures=SourceState.failures + 1)
        if error.kind == "rate-limited":
            wait = dt.timedelta(seconds=error.retry_after or 60)
            values["next_call_at"] = now + wait
        chunk.dbsession.execute(update(SourceState).where(SourceState.source == source_key)
                                .values(**values).execution_options(synchronize_session=False))
    log.warning("rates: %s failed: %s", source_key, error)


def _record_success(dbsession, source_key: str, now: dt.datetime, stored: Stored) -> None:
    values = dict(last_success_at=now, failures=0)
    if stored.republished:
        values.update(republications=SourceState.republications + stored.republished,
                      last_republication_at=now)
    dbsession.execute(update(SourceState).where(SourceState.source == source_key)
                      .values(**values).execution_options(synchronize_session=False))


# -- what to fetch -------------------------------------------------------------------------

def followed(dbsession, source_key: str, company_ids: list[int]) -> list[Series]:
    if not company_ids:
        return []
    return list(dbsession.scalars(
        select(Series).where(Series.source == source_key, Series.closed.is_(False),
                             Series.id.in_(select(Follow.series_id)
                                           .where(Follow.company_id.in_(company_ids))))
        .order_by(Series.id)))


def _start(dbsession, series: Series, first_day: dt.date) -> dt.date:
    last = dbsession.scalar(select(func.max(Observation.day))
                            .where(Observation.series_id == series.id))
    return first_day if last is None else max(first_day, last - LOOK_BACK)


def _apply_statuses(dbsession, source_key: str, statuses: list[SeriesStatus], now) -> None:
    by_code = {status.code: status for status in statuses}
    for series in dbsession.scalars(select(Series).where(Series.source == source_key)):
        status = by_code.get(series.code)
        if status is not None:
            series.closed, series.last_day, series.checked_at = (status.closed, status.last_day,
                                                                 now)


def fetch_source(job, source_key: str) -> None:
    """The daily job of one source: its metadata, then a paced call per followed series."""
    source = sources(job)[source_key]
    config = rates_config(job)
    with job.chunk() as chunk:
        ensure_series(chunk.dbsession, source.key, source.series())
        ensure_state(chunk.dbsession, source.key)
        chunk.dbsession.execute(update(SourceState).where(SourceState.source == source.key)
                                .values(last_run_on=today(job))
                                .execution_options(synchronize_session=False))
        companies = entitled_companies(chunk.dbsession, MODULE_KEY, clock(job).now())
        wanted = followed(chunk.dbsession, source.key, companies)
    if not wanted:
        return
    if type(source).statuses is not Source.statuses:
        key = config.platform_key(source.key)
        take_turn(job, source, key)
        try:
            statuses = source.statuses(config.context(job, source, key))
        except FeedError as error:  # the metadata is advice: the data is still fetched
            record_failure(job, source.key, error)
        else:
            with job.chunk() as chunk:
                _apply_statuses(chunk.dbsession, source.key, statuses, clock(job).now())
    with job.chunk() as chunk:
        queue_fetches(job, chunk.dbsession, chunk.enqueue, source, companies)


def queue_fetches(where, dbsession, enqueue, source: Source, companies: list[int]) -> int:
    """Queue the calls that bring the followed series of ``source`` up to date, with
    ``enqueue`` in the transaction of ``dbsession`` (a job's chunk, or a request); returns
    how many were queued."""
    config = rates_config(where)
    end = today(where)
    first_day = end.replace(year=end.year - config.backfill_years)
    if source.needs_key and config.platform_key(source.key) is None:
        # no key of the platform's: each company that gave its own fetches what it follows
        keyed = list(dbsession.scalars(
            select(CompanyKey.company_id).where(CompanyKey.source == source.key,
                                                CompanyKey.company_id.in_(companies))))
        groups = [(company_id, followed(dbsession, source.key, [company_id]))
                  for company_id in keyed]
    else:
        groups = [(None, followed(dbsession, source.key, companies))]
    queued = 0
    for company_id, series in groups:
        batches = [series] if hasattr(source, "fetch_many") else [[s] for s in series]
        for batch in batches:
            if not batch:
                continue
            start = min(_start(dbsession, s, first_day) for s in batch)
            payload = {"source": source.key, "series": [s.id for s in batch],
                       "start": start.isoformat(), "end": end.isoformat(),
                       "company_id": company_id}
            enqueue(FETCH, payload, dedupe_key=_dedupe(payload))
            queued += 1
    return queued


def _dedupe(payload: dict) -> str:
    ids = ",".join(str(i) for i in payload["series"])
    return f"{payload['source']}:{payload['company_id'] or ''}:{ids}:{payload['start']}"[:200]


def fetch_others(job) -> None:
    """Sources of other plugins: each once a day, after its ``fetch_at``."""
    now = clock(job).now().astimezone(portal_timezone(job))
    for key, source in sources(job).items():
        if key in BUILT_IN_KEYS or now.time() < source.fetch_at:
            continue
        with job.chunk() as chunk:
            ran = chunk.dbsession.scalar(select(SourceState.last_run_on)
                                         .where(SourceState.source == key))
        if ran != now.date():
            fetch_source(job, key)


def fetch_series(job) -> None:
    """One paced call: a window of a series (or of several, for a source that gives many in
    one call), stored whole with the source's state."""
    payload = job.payload
    source = sources(job)[payload["source"]]
    config = rates_config(job)
    start, end = dt.date.fromisoformat(payload["start"]), dt.date.fromisoformat(payload["end"])
    window_end = min(end, start + dt.timedelta(days=source.max_days_per_call - 1))
    with job.chunk() as chunk:
        rows = list(chunk.dbsession.scalars(select(Series).where(Series.id.in_(payload["series"]))))
        key = config.platform_key(source.key)
        if payload.get("company_id"):
            key = chunk.dbsession.scalar(select(CompanyKey.key).where(
                CompanyKey.company_id == payload["company_id"], CompanyKey.source == source.key))
    codes = [row.code for row in rows]
    if not codes:
        return
    take_turn(job, source, key)
    context = config.context(job, source, key)
    try:
        if len(codes) > 1:
            found = source.fetch_many(context, codes, start, window_end)
        else:
            found = {codes[0]: source.fetch(context, codes[0], start, window_end)}
    except FeedError as error:
        record_failure(job, source.key, error)
        if error.kind == "rate-limited":
            raise RetryAt(dt.timedelta(seconds=error.retry_after or 60), "HTTP 429") from None
        raise FetchFailed(f"{source.key}: {error}") from None
    now = clock(job).now()
    with job.chunk() as chunk:
        total = Stored()
        for row in rows:
            stored = store(chunk.dbsession, row.id, found.get(row.code, []), now)
            total += stored
            if stored.added or stored.republished:
                chunk.enqueue(ALERTS, {"series_id": row.id}, dedupe_key=f"series-{row.id}")
        _record_success(chunk.dbsession, source.key, now, total)
        if window_end < end:
            following = dict(payload, start=(window_end + dt.timedelta(days=1)).isoformat())
            chunk.enqueue(FETCH, following, dedupe_key=_dedupe(following))
    if total.republished:
        log.warning("rates: %s republished %d values", source.key, total.republished)


def next_run(where, source: Source, now: dt.datetime | None = None) -> dt.datetime:
    """When the source's daily job runs next after ``now`` (the clock's time unless given),
    aware, in the portal's time zone."""
    zone = portal_timezone(where)
    now = (now or clock(where).now()).astimezone(zone)
    candidate = dt.datetime.combine(now.date(), source.fetch_at, tzinfo=zone)
    return candidate if candidate > now else dt.datetime.combine(
        now.date() + dt.timedelta(days=1), source.fetch_at, tzinfo=zone)


# -- the jobs ----------------------------------------------------------------------------

def jobs(built_in: list[Source], check_alerts) -> list:
    return [
        *[PeriodicJob(f"rates.fetch.{source.key}", functools.partial(fetch_source,
                                                                     source_key=source.key),
                      at=source.fetch_at) for source in built_in],
        PeriodicJob("rates.fetch.others", fetch_others, every=dt.timedelta(minutes=30)),
        QueuedJobType(FETCH, fetch_series, max_attempts=8),
        QueuedJobType(ALERTS, check_alerts),
    ]
