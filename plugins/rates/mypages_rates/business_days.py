"""Which days a source publishes on: Swedish bank days for the Riksbank, TARGET days for the
ECB. A day without a value on a weekend or holiday is expected, not a gap."""
from __future__ import annotations

import datetime as dt
import functools

import holidays


@functools.lru_cache(maxsize=64)
def _swedish_bank_holidays(year: int) -> frozenset[dt.date]:
    # "de_facto" adds Midsummer, Christmas and New Year's Eves, when Swedish banks are closed
    # ("bank" would also close the half days before holidays, which are bank days)
    return frozenset(holidays.Sweden(years=year, categories=("public", "de_facto")).keys())


@functools.lru_cache(maxsize=64)
def _target_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.financial_holidays("ECB", years=year).keys())


def swedish_bank_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _swedish_bank_holidays(day.year)


def target_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _target_holidays(day.year)


def days(start: dt.date, end: dt.date, is_open=swedish_bank_day):
    day = start
    while day <= end:
        if is_open(day):
            yield day
        day += dt.timedelta(days=1)
