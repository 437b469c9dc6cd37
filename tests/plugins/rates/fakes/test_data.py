"""The fakes' generated history looks like the real thing: published on the providers' days,
with plausible levels, a few gaps, and closed series that stop where they closed."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from mypages_rates.business_days import swedish_bank_day
from mypages_rates.fakes.data import History

HISTORY = History(dt.date(2026, 6, 5))


def test_riksbank_series_are_on_swedish_bank_days_with_a_few_gaps():
    days = set(HISTORY.series("SEDP3MSTIBORDELAYC"))
    bank_days = set(HISTORY.bank_days)
    assert days < bank_days and all(swedish_bank_day(day) for day in days)
    assert 0 < len(bank_days - days) < len(bank_days) * 0.02  # gaps, but few
    assert dt.date(2025, 12, 24) not in bank_days and dt.date(2025, 12, 23) in bank_days


def test_levels_are_plausible_and_exact():
    policy = HISTORY.series("SECBREPOEFF")
    assert all(Decimal("-0.5") <= v <= Decimal("4") and v % Decimal("0.25") == 0
               for v in policy.values())
    assert all(Decimal("7") < v < Decimal("13") for v in HISTORY.series("SEKEURPMI").values())
    stibor, swestr = HISTORY.series("SEDP3MSTIBORDELAYC"), HISTORY.series("SWESTR")
    day = dt.date(2026, 6, 5)
    assert swestr[day] < policy[day] < stibor[day]


def test_cross_rates_agree_between_the_riksbank_and_the_ecb():
    day = dt.date(2026, 6, 5)
    through_euro = HISTORY.ecb("SEK")[day] / HISTORY.ecb("USD")[day]
    assert abs(HISTORY.series("SEKUSDPMI")[day] - through_euro) < Decimal("0.001")


def test_a_closed_series_stops_where_it_closed():
    assert max(HISTORY.series("SEKLTLPMI")) <= dt.date(2014, 12, 30)
