"""Storing what a source published: once per (source, series, day), exactly, idempotently.

A value already stored unchanged writes nothing; a changed one (a republication) keeps
the earlier value in ``rates_revisions``. The caller gives the transaction (a job's chunk),
so a fetch is stored whole or not at all.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import insert, select, type_coerce, update
from sqlalchemy.types import NullType

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
    # what is stored already, read as the driver gives it (SQLite: ISO days and exact text;
    # PostgreSQL: dates and decimals) without the ORM's or the types' conversions: every
    # daily run looks a week back, and a backfill re-run reads years that changed nothing
    existing = {(day if isinstance(day, dt.date) else dt.date.fromisoformat(day)): value
                for day, value in dbsession.connection().execute(
                    select(type_coerce(Observation.day, NullType()),
                           type_coerce(Observation.value, NullType()))
                    .where(Observation.series_id == series_id,
                           Observation.day >= min(by_day), Observation.day <= max(by_day)))}
    new = []
    for day, observation in sorted(by_day.items()):
        stored = existing.get(day)
        if stored is None:
            new.append(observation)
        elif (stored if isinstance(stored, Decimal) else Decimal(stored)) == observation.value:
            result.unchanged += 1
        else:
            _republish(dbsession, series_id, observation, fetched_at)
            result.republished += 1
    if new:
        _insert(dbsession, series_id, new, fetched_at)
        result.added = len(new)
    if result.added or result.republished:
        dbsession.execute(update(Series).where(Series.id == series_id)
                          .values(stamp=uuid.uuid4().hex)
                          .execution_options(synchronize_session=False))
    return result


def _republish(dbsession, series_id: int, observation: Published, fetched_at: dt.datetime) -> None:
    """The new value of a day, the one it replaces kept as a revision."""
    row_id, value, fetched, revision = dbsession.execute(
        select(Observation.id, Observation.value, Observation.fetched_at, Observation.revision)
        .where(Observation.series_id == series_id, Observation.day == observation.day)).one()
    dbsession.execute(insert(Revision).values(
        observation_id=row_id, value=value, fetched_at=fetched, replaced_at=fetched_at))
    dbsession.execute(update(Observation).where(Observation.id == row_id).values(
        value=observation.value, fetched_at=fetched_at, published_at=observation.published_at,
        revision=revision + 1))


class _Converters:
    """A day, a value and a time as the columns' own types give them to the database driver
    (text on SQLite, for instance), each converter found once per call."""

    def __init__(self, dialect):
        columns = Observation.__table__.c

        def converter(name):
            kind = columns[name].type.dialect_impl(dialect)
            return kind.bind_processor(dialect) or (lambda value: value)

        self.dialect = dialect
        self.day, self.value, self.time = (converter("day"), converter("value"),
                                           converter("fetched_at"))


_COLUMNS = ("series_id", "day", "value", "fetched_at", "published_at", "revision")
#: a positional placeholder in each DB-API paramstyle SQLAlchemy's dialects use
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":{}"}


def _insert(dbsession, series_id: int, new: list[Published], fetched_at: dt.datetime) -> None:
    """One executemany of the new rows, straight to the driver, converted once per column
    rather than by the ORM once per row and column (a backfill is thousands of rows a
    call)."""
    as_stored = _Converters(dbsession.connection().dialect)
    placeholder = _PLACEHOLDER[as_stored.dialect.paramstyle]
    statement = (f"INSERT INTO {Observation.__tablename__} ({', '.join(_COLUMNS)}) VALUES ("
                 + ", ".join(placeholder.format(n + 1) for n in range(len(_COLUMNS))) + ")")
    day, value, when = as_stored.day, as_stored.value, as_stored.time
    fetched = when(fetched_at)
    dbsession.connection().exec_driver_sql(statement, [
        (series_id, day(observation.day), value(observation.value), fetched,
         None if observation.published_at is None else when(observation.published_at), 0)
        for observation in new])
