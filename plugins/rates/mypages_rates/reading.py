"""Reading stored rates for pages, cards, CSV and JSON: the followed series with their latest
value and its changes, a series' history over a range, and cross rates computed through SEK
(the Riksbank's rates) or EUR (the ECB's)."""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, TypeVar

from sqlalchemy import bindparam, func, select

from mypages.toolkit import PreparedRead, read_all

from mypages_rates.config import sources
from mypages_rates.models import Follow, Observation, Series
from mypages_rates.sources import SeriesSpec

T = TypeVar("T")
RANGES = {"1m": 31, "3m": 92, "1y": 366, "5y": 366 * 5 + 1, "10y": 366 * 10 + 3}
DEFAULT_RANGE = "1y"
CURRENCIES = ("SEK", "EUR", "USD", "GBP", "NOK", "DKK", "CHF")
CROSS_PRECISION = 4


@dataclass
class Shown:
    """A series as pages show it."""

    row: Series
    spec: SeriesSpec | None
    source_title: object
    latest: tuple[dt.date, Decimal] | None = None
    previous: Decimal | None = None
    month_ago: Decimal | None = None
    year_ago: Decimal | None = None

    @property
    def id(self):
        return self.row.id

    @property
    def title(self):
        return self.spec.title if self.spec else self.row.code

    @property
    def precision(self):
        return self.row.precision

    def change(self, earlier: Decimal | None) -> Decimal | None:
        if self.latest is None or earlier is None:
            return None
        return self.latest[1] - earlier


def specs(where) -> dict[tuple[str, str], tuple[SeriesSpec, object]]:
    return {(source.key, spec.code): (spec, source.title)
            for source in sources(where).values() for spec in source.series()}


def shown(where, rows: list) -> list[Shown]:
    known = specs(where)
    found = []
    for row in rows:
        spec, source_title = known.get((row.source, row.code), (None, row.source))
        found.append(Shown(row, spec, source_title))
    return found


#: the series a company follows (``company_id``), as rows of their columns; read on every
#: Rates page
FOLLOWED = PreparedRead(select(*Series.__table__.columns)
                        .join(Follow, Follow.series_id == Series.id)
                        .where(Follow.company_id == bindparam("company_id"))
                        .order_by(Series.source, Series.id))


def followed_rows(dbsession, company_id: int) -> list:
    """The series a company follows, as rows of their columns."""
    return list(dbsession.execute(FOLLOWED.statement, {"company_id": company_id}))


def followed_on_page(request, company_id: int) -> list:
    """:func:`followed_rows` for a page that only reads, without opening the request's ORM
    session."""
    return read_all(request, FOLLOWED, {"company_id": company_id})


def _value_on_or_before(dbsession, series_id: int, day: dt.date) -> Decimal | None:
    return dbsession.scalar(select(Observation.value).where(
        Observation.series_id == series_id, Observation.day <= day)
        .order_by(Observation.day.desc()).limit(1))


# -- what is read from a series' values, kept until they change --------------------------

#: entries kept per process (a chart of 800 points is about 30 kB)
KEEP = 512
_kept: OrderedDict = OrderedDict()
_kept_lock = threading.Lock()


def remembered(stamp: str | None, key: tuple, make: Callable[[], T]) -> T:
    """``make()``, kept under the series' ``stamp`` and ``key`` until the series is stored
    again (its stamp changes, in every process at once since it is read with the series)."""
    if stamp is None:
        return make()
    full = (stamp, *key)
    with _kept_lock:
        if full in _kept:
            _kept.move_to_end(full)
            return _kept[full]
    value = make()
    with _kept_lock:
        _kept[full] = value
        while len(_kept) > KEEP:
            _kept.popitem(last=False)
    return value


def _changes(dbsession, series_id: int):
    last_two = list(dbsession.execute(
        select(Observation.day, Observation.value).where(Observation.series_id == series_id)
        .order_by(Observation.day.desc()).limit(2)))
    if not last_two:
        return None, None, None, None
    latest = tuple(last_two[0])
    previous = last_two[1][1] if len(last_two) > 1 else None
    return (latest, previous,
            _value_on_or_before(dbsession, series_id, _months_before(latest[0], 1)),
            _value_on_or_before(dbsession, series_id, _months_before(latest[0], 12)))


def with_changes(session_of: Callable[[], object], items: list[Shown]) -> list[Shown]:
    """The latest value of each, the one before it, and those a month and a year before;
    ``session_of()`` gives the database session, asked only for what is not remembered yet
    (a page that finds everything remembered opens none)."""
    for item in items:
        item.latest, item.previous, item.month_ago, item.year_ago = remembered(
            item.row.stamp, ("changes", item.id), lambda: _changes(session_of(), item.id))
    return items


def start_of(item: Shown, name: str) -> dt.date | None:
    """The first day of the range ``name`` counted back from the item's latest value."""
    return None if item.latest is None else item.latest[0] - dt.timedelta(days=RANGES[name])


def _months_before(day: dt.date, months: int) -> dt.date:
    month = day.month - months
    year = day.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def history(dbsession, series_id: int, start: dt.date | None = None,
            end: dt.date | None = None, limit: int | None = None) -> list[tuple[dt.date, Decimal]]:
    query = select(Observation.day, Observation.value).where(Observation.series_id == series_id)
    if start is not None:
        query = query.where(Observation.day >= start)
    if end is not None:
        query = query.where(Observation.day <= end)
    return [tuple(row) for row in dbsession.execute(query.order_by(Observation.day).limit(limit))]


def range_start(dbsession, series_ids: list[int], name: str) -> dt.date | None:
    """The first day of the range ``name`` counted back from the latest observation."""
    last = dbsession.scalar(select(func.max(Observation.day))
                            .where(Observation.series_id.in_(series_ids)))
    if last is None:
        return None
    return last - dt.timedelta(days=RANGES[name])


# -- cross rates ---------------------------------------------------------------------------

VIA = {"SEK": ("riksbank_swea", lambda currency: f"SEK{currency}PMI"),
       "EUR": ("ecb", lambda currency: currency)}


def cross_legs(dbsession, via: str, base: str, quote: str) -> dict[str, Series | None]:
    """The stored series the cross rate of ``base`` in ``quote`` is made of."""
    source, code = VIA[via]
    legs = {}
    for currency in (base, quote):
        if currency == via:
            legs[currency] = None
            continue
        legs[currency] = dbsession.scalar(select(Series).where(Series.source == source,
                                                               Series.code == code(currency)))
    return legs


def cross_rate(dbsession, via: str, base: str, quote: str,
               start: dt.date | None = None) -> list[tuple[dt.date, Decimal]]:
    """Units of ``quote`` for one ``base``, on the days both legs were published: through SEK
    from the Riksbank's SEK per unit, through EUR from the ECB's units per euro."""
    legs = cross_legs(dbsession, via, base, quote)
    if any(currency != via and leg is None for currency, leg in legs.items()):
        return []
    tables = {currency: (None if leg is None else dict(history(dbsession, leg.id, start)))
              for currency, leg in legs.items()}
    days = None
    for table in tables.values():
        if table is not None:
            days = set(table) if days is None else days & set(table)
    quantum = Decimal(1).scaleb(-CROSS_PRECISION)
    found = []
    for day in sorted(days or ()):
        def leg(currency):
            return Decimal(1) if tables[currency] is None else tables[currency][day]
        if via == "SEK":  # SEK per unit: base in quote = SEK per base / SEK per quote
            value = leg(base) / leg(quote)
        else:  # units per euro: base in quote = quote per euro / base per euro
            value = leg(quote) / leg(base)
        found.append((day, value.quantize(quantum)))
    return found
