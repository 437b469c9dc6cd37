"""Storing what a source published: once per (source, series, day), exactly, idempotently.

A value already stored unchanged writes nothing; a changed one (a republication) keeps
the earlier value in ``rates_revisions``. The caller gives the transaction (a job's chunk),
so a fetch is stored whole or not at all.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select, update

from mypages_rates.models import Observation, Revision, Series
from mypages_rates.sources import Observation as Published
from mypages_rates.sources import SeriesSpec


@dataclass
class Stored:
    added: int = 0
    republished: int = 0
    unchanged: int = 0

    def __iadd__(self, other: "Stored") -> "Stored":
        self.added += other.added
        self.republished += other.republished
        self.unchanged += other.unchanged
        return self


def ensure_series(dbsession, source_key: str, specs: list[SeriesSpec]) -> dict[str, Series]:
    """The rows of a source's series, made for those not stored yet; by code."""
    rows = {row.code: row for row in dbsession.scalars(
        select(Series).where(Series.source == source_key))}
    for spec in specs:
        row = rows.get(spec.code)
        if row is None:
            row = rows[spec.code] = Series(source=source_key, code=spec.code, closed=False)
            dbsession.add(row)
        row.kind, row.precision, row.base, row.quote = (spec.kind, spec.precision, spec.base,
                                                        spec.quote)
    dbsession.flush()
    return rows


def store(dbsession, series_id: int, published: list[Published], fetched_at: dt.datetime) -> Stored:
    """Store ``published`` for the series; returns what it did."""
    result = Stored()
    if not published:
        return result
    by_day: dict[dt.date, Published] = {}
    for observation in published:
        by_day[observation.day] = observation  # the last word on a day, should it repeat
    existing = {day: (row_id, value, fetched, revision) for row_id, day, value, fetched, revision
                in dbsession.execute(
                    select(Observation.id, Observation.day, Observation.value,
                           Observation.fetched_at, Observation.revision)
                    .where(Observation.series_id == series_id,
                           Observation.day >= min(by_day), Observation.day <= max(by_day)))}
    new = []
    for day, observation in sorted(by_day.items()):
        known = existing.get(day)
        if known is None:
            new.append({"series_id": series_id, "day": day, "value": observation.value,
                        "fetched_at": fetched_at, "published_at": observation.published_at,
                        "revision": 0})
        elif known[1] == observation.value:
            result.unchanged += 1
        else:
            row_id, value, fetched, revision = known
            dbsession.execute(insert(Revision).values(
                observation_id=row_id, value=value, fetched_at=fetched, replaced_at=fetched_at))
            dbsession.execute(update(Observation).where(Observation.id == row_id).values(
                value=observation.value, fetched_at=fetched_at,
                published_at=observation.published_at, revision=revision + 1))
            result.republished += 1
    if new:
        dbsession.execute(insert(Observation), new)
        result.added = len(new)
    return result
