"""The ECB's euro reference rates, from its SDMX data API (CSV).

Units of a currency per 1 EUR, published around 16:00 CET on TARGET days. A
range with no fixing answers 200 with an empty body (before 2024: 404 "No
results found"); both mean "nothing published", not a failure.
"""
from __future__ import annotations

import csv
import datetime as dt
import io

from mypages_rates.sources import (FeedError, Observation, SeriesSpec, Source, get, parse_day,
                                   parse_value)
from mypages_rates.translations import EURO_CURRENCIES, _


GROUP = _("Euro reference rates (ECB)")
CURRENCIES = EURO_CURRENCIES
HEADER = ["KEY", "FREQ", "CURRENCY", "CURRENCY_DENOM", "EXR_TYPE", "EXR_SUFFIX", "TIME_PERIOD",
          "OBS_VALUE"]


def series_key(currency: str) -> str:
    return f"D.{currency}.EUR.SP00.A"


class Ecb(Source):
    key = "ecb"
    title = _("European Central Bank")
    fetch_at = dt.time(16, 45)  # after the 16:00 CET fixing
    calls_per_minute = 30.0
    url_setting = "ecb_url"
    default_url = "https://data-api.ecb.europa.eu/service"

    def series(self):
        return [SeriesSpec(currency, title, kind="fx", precision=4, base="EUR", quote=currency,
                           group=GROUP) for currency, title in CURRENCIES]

    def fetch(self, context, code, start, end):
        answer = get(context, f"/data/EXR/{series_key(code)}",
                     params={"startPeriod": start.isoformat(), "endPeriod": end.isoformat(),
                             "format": "csvdata", "detail": "dataonly"})
        if answer.status_code == 404 or not answer.content.strip():
            return []
        try:
            rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            raise FeedError("malformed", "not CSV") from None
        if not rows or [name.strip().upper() for name in rows[0]][:len(HEADER)] != HEADER:
            raise FeedError("malformed", "an unexpected CSV header")
        found = []
        for row in rows[1:]:
            if not row:
                continue
            if len(row) < len(HEADER) or row[2] != code or row[3] != "EUR":
                raise FeedError("malformed", "a row of another series")
            if row[7].strip() in ("", "NaN"):
                continue
            found.append(Observation(parse_day(row[6]), parse_value(row[7])))
        return found
