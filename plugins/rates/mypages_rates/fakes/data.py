"""Realistic generated history for the fake feeds: deterministic (the same series always gives
the same numbers), on the days each provider publishes, with plausible levels and moves.

* Policy rate: decisions about every six weeks, in steps of 0.25, between -0.50 and 4.00;
  deposit and lending rates 0.10 either side; the reference rate set on 1 January and 1 July.
* STIBOR: the policy rate plus a term premium and day-to-day noise; SWESTR just below it.
* Exchange rates: random walks against the euro (the ECB's numbers), and the Riksbank's SEK per
  unit derived from the same walks, so cross rates agree as they do in life.
* A few business days are missing (gaps), and closed series stop where they closed.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import math
import random
from decimal import ROUND_HALF_UP, Decimal

from mypages_rates.business_days import days, swedish_bank_day, target_day

START = dt.date(2010, 1, 4)

#: closed Riksbank series, as its metadata says: the litas ended when Lithuania took the euro
CLOSED = {"SEKLTLPMI": dt.date(2014, 12, 30)}
#: units per euro on the first day, and the yearly volatility of the walk
EURO_START = {"SEK": (9.9, 0.07), "USD": (1.43, 0.08), "GBP": (0.89, 0.07),
              "NOK": (8.3, 0.07), "DKK": (7.44, 0.002), "CHF": (1.48, 0.06),
              "LTL": (3.4528, 0.0)}
STIBOR_PREMIUM = {"SEDPT_NSTIBORDELAYC": 0.02, "SEDP1WSTIBORDELAYC": 0.06,
                  "SEDP1MSTIBORDELAYC": 0.12, "SEDP2MSTIBORDELAYC": 0.16,
                  "SEDP3MSTIBORDELAYC": 0.20, "SEDP6MSTIBORDELAYC": 0.26}


def _rng(name: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big"))


def _round(value: float, places: int) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


class History:
    """Every series up to ``today``; ``series(code)`` is a dict of day to exact value."""

    def __init__(self, today: dt.date, start: dt.date = START):
        self.today = today
        self.start = start

    @functools.cached_property
    def bank_days(self) -> list[dt.date]:
        return list(days(self.start, self.today, swedish_bank_day))

    @functools.cached_property
    def target_days(self) -> list[dt.date]:
        return list(days(self.start, self.today, target_day))

    @functools.cached_property
    def policy(self) -> dict[dt.date, float]:
        rng = _rng("policy")
        rate, values, next_decision = 0.25, {}, self.start
        for day in self.bank_days:
            if day >= next_decision:
                step = rng.choice((-0.25, 0.0, 0.0, 0.0, 0.25, 0.25, -0.5))
                rate = min(4.0, max(-0.5, rate + step))
                next_decision = day + dt.timedelta(days=rng.randint(35, 60))
            values[day] = rate
        return values

    def _gaps(self, code: str, published: list[dt.date]) -> list[dt.date]:
        rng = _rng("gaps" + code)
        closed = CLOSED.get(code)
        return [day for day in published
                if rng.random() > 0.006 and (closed is None or day <= closed)]

    @functools.cached_property
    def euro(self) -> dict[str, dict[dt.date, float]]:
        walks = {}
        for currency, (level, volatility) in EURO_START.items():
            rng = _rng("euro" + currency)
            daily = volatility / math.sqrt(250)
            value, walk = level, {}
            for day in self.target_days:
                value *= math.exp(rng.gauss(0, daily) + (level / value - 1) * 0.002)
                walk[day] = value
            walks[currency] = walk
        return walks

    def _euro_on(self, currency: str, day: dt.date) -> float | None:
        walk = self.euro[currency]
        while day >= self.start:
            if day in walk:
                return walk[day]
            day -= dt.timedelta(days=1)
        return None

    @functools.lru_cache(maxsize=128)
    def series(self, code: str) -> dict[dt.date, Decimal]:
        """The Riksbank's (SWEA and SWESTR) series by their ids."""
        policy = self.policy
        if code == "SECBREPOEFF":
            return {day: _round(policy[day], 2) for day in self._gaps(code, self.bank_days)}
        if code in ("SECBDEPOEFF", "SECBLENDEFF"):
            shift = -0.10 if code == "SECBDEPOEFF" else 0.10
            return {day: _round(policy[day] + shift, 2) for day in self._gaps(code, self.bank_days)}
        if code == "SECBREFEFF":
            values, current = {}, None
            for day in self.bank_days:
                if current is None or (day.month in (1, 7) and day.day <= 7
                                       and day.month != getattr(current, "month", None)):
                    current = (day, round(policy[day] * 2) / 2)
                values[day] = _round(current[1], 2)
            return values
        if code in STIBOR_PREMIUM:
            rng = _rng(code)
            return {day: _round(max(-0.6, policy[day] + STIBOR_PREMIUM[code]
                                    + rng.gauss(0, 0.015)), 3)
                    for day in self._gaps(code, self.bank_days)}
        if code == "SWESTR":
            rng = _rng(code)
            return {day: _round(policy[day] - 0.07 + rng.gauss(0, 0.006), 3)
                    for day in self._gaps(code, self.bank_days)}
        if code.startswith("SWESTRAVG"):
            span = {"1W": 7, "1M": 30, "2M": 61, "3M": 91, "6M": 182}[code[len("SWESTRAVG"):]]
            swestr = self.series("SWESTR")
            ordered = sorted(swestr)
            values = {}
            for index, day in enumerate(ordered):
                window = [swestr[d] for d in ordered[max(0, index - span * 5 // 7):index + 1]]
                values[day] = (sum(window) / len(window)).quantize(Decimal("0.00001"))
            return values
        if code == "SWESTRINDEX":
            swestr, index, values = self.series("SWESTR"), Decimal(100), {}
            for day in sorted(swestr):
                index = (index * (1 + swestr[day] / Decimal(36000))).quantize(Decimal("0.00001"))
                values[day] = index
            return values
        if code.startswith("SEK") and code.endswith("PMI"):
            currency = code[3:-3]
            if currency not in EURO_START and currency != "EUR":
                raise KeyError(code)
            values = {}
            for day in self._gaps(code, self.bank_days):
                sek = self._euro_on("SEK", day)
                other = 1.0 if currency == "EUR" else self._euro_on(currency, day)
                if sek and other:
                    values[day] = _round(sek / other, 4)
            return values
        raise KeyError(code)

    @functools.lru_cache(maxsize=32)
    def ecb(self, currency: str) -> dict[dt.date, Decimal]:
        """Units of ``currency`` per euro, as the ECB fixes them."""
        if currency not in EURO_START or currency == "LTL":
            raise KeyError(currency)
        places = 4 if currency != "DKK" else 4
        return {day: _round(self.euro[currency][day], places) for day in self.target_days}

    @functools.lru_cache(maxsize=32)
    def fixer(self, currency: str) -> dict[dt.date, Decimal]:
        """Fixer's six decimals: the same walk, every calendar day (Fixer fills weekends)."""
        if currency == "EUR":
            return {self.start + dt.timedelta(days=n): Decimal(1)
                    for n in range((self.today - self.start).days + 1)}
        if currency not in EURO_START or currency == "LTL":
            raise KeyError(currency)
        values, day = {}, self.start
        while day <= self.today:
            values[day] = _round(self._euro_on(currency, day), 6)
            day += dt.timedelta(days=1)
        return values
