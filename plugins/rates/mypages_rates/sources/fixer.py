"""Fixer (apilayer): exchange rates against the euro, with an access key.

Errors come back with HTTP 200 and ``"success": false``; they are failures,
never data. The free plan allows about 100 calls a month and the euro as base
only, so the plugin asks for every currency of a range in one ``timeseries``
call and once a day.
"""
from __future__ import annotations

import datetime as dt

from mypages_rates.sources import (FeedError, Observation, SeriesSpec, Source, get, parse_day,
                                   parse_json, parse_value)
from mypages_rates.translations import EURO_CURRENCIES, _


GROUP = _("Exchange rates (Fixer)")
CURRENCIES = EURO_CURRENCIES
#: Fixer's error codes whose retry cannot help until someone changes a key or a plan
KEY_ERRORS = {"101", "102", "104", "105"}


class Fixer(Source):
    key = "fixer"
    title = _("Fixer")
    fetch_at = dt.time(17, 0)
    calls_per_minute = 2.0
    max_days_per_call = 365  # timeseries answers a year at most
    url_setting = "fixer_url"
    default_url = "https://data.fixer.io/api"
    needs_key = True

    def series(self):
        return [SeriesSpec(currency, title, kind="fx", precision=6, base="EUR", quote=currency,
                           group=GROUP) for currency, title in CURRENCIES]

    def _answer(self, context, path, params):
        if not context.key:
            raise FeedError("refused", "no access key", code="101")
        answer = get(context, path, params={"access_key": context.key, **params})
        if answer.status_code == 404:
            raise FeedError("refused", "HTTP 404")
        body = parse_json(answer)
        if not isinstance(body, dict):
            raise FeedError("malformed", "not an object")
        if body.get("success") is not True:
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            code = str(error.get("code", ""))
            kind = str(error.get("type", "")) or "error"
            # rate limits are said in the body too (104: monthly allowance used up)
            raise FeedError("refused", f"Fixer error {code} {kind}"[:200], code=code)
        return body

    def fetch(self, context, code, start, end):
        return self.fetch_many(context, [code], start, end).get(code, [])

    def fetch_many(self, context, codes, start, end) -> dict[str, list[Observation]]:
        """Every currency of ``codes`` over the range in one call."""
        body = self._answer(context, "/timeseries", {
            "start_date": start.isoformat(), "end_date": end.isoformat(), "base": "EUR",
            "symbols": ",".join(codes)})
        days = body.get("rates")
        if not isinstance(days, dict) or body.get("base", "EUR") != "EUR":
            raise FeedError("malformed", "no rates in the answer")
        found: dict[str, list[Observation]] = {code: [] for code in codes}
        for day, rates in sorted(days.items()):
            if not isinstance(rates, dict):
                raise FeedError("malformed", "a day without rates")
            when = parse_day(day)
            for code in codes:
                value = parse_value(rates.get(code))
                if value is not None:
                    found[code].append(Observation(when, value))
        return found
