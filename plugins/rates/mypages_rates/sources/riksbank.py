"""The Riksbank's two APIs: SWEA (interest and exchange rates) and SWESTR.

Anonymous callers get a few calls a minute per address, shared by every worker
of the installation; with a subscription key (``Ocp-Apim-Subscription-Key``) 200
a minute. The plugin paces its calls to that (see :mod:`mypages_rates.pacing`).
"""
from __future__ import annotations

import datetime as dt

from mypages.toolkit import TranslationStringFactory

from mypages_rates.sources import (FeedError, FetchContext, Observation, SeriesSpec,
                                   SeriesStatus, Source, get, parse_day, parse_json,
                                   parse_time, parse_value)

_ = TranslationStringFactory("mypages_rates")

POLICY = _("Policy rates")
STIBOR = _("STIBOR")
FX = _("Exchange rates (SEK)")
SWESTR_GROUP = _("SWESTR")


def _fx(currency: str, title) -> SeriesSpec:
    return SeriesSpec(f"SEK{currency}PMI", title, kind="fx", precision=4, base=currency,
                      quote="SEK", group=FX)


SWEA_SERIES = [
    SeriesSpec("SECBREPOEFF", _("Policy rate"), precision=2, group=POLICY),
    SeriesSpec("SECBDEPOEFF", _("Deposit rate"), precision=2, group=POLICY),
    SeriesSpec("SECBLENDEFF", _("Lending rate"), precision=2, group=POLICY),
    SeriesSpec("SECBREFEFF", _("Reference rate"), precision=2, group=POLICY),
    SeriesSpec("SEDPT_NSTIBORDELAYC", _("STIBOR T/N"), precision=3, group=STIBOR),
    SeriesSpec("SEDP1WSTIBORDELAYC", _("STIBOR 1 week"), precision=3, group=STIBOR),
    SeriesSpec("SEDP1MSTIBORDELAYC", _("STIBOR 1 month"), precision=3, group=STIBOR),
    SeriesSpec("SEDP2MSTIBORDELAYC", _("STIBOR 2 months"), precision=3, group=STIBOR),
    SeriesSpec("SEDP3MSTIBORDELAYC", _("STIBOR 3 months"), precision=3, group=STIBOR),
    SeriesSpec("SEDP6MSTIBORDELAYC", _("STIBOR 6 months"), precision=3, group=STIBOR),
    _fx("EUR", _("Euro (EUR)")),
    _fx("USD", _("US dollar (USD)")),
    _fx("GBP", _("Pound sterling (GBP)")),
    _fx("NOK", _("Norwegian krone (NOK)")),
    _fx("DKK", _("Danish krone (DKK)")),
    _fx("CHF", _("Swiss franc (CHF)")),
    _fx("LTL", _("Lithuanian litas (LTL)")),
]


def _headers(context: FetchContext) -> dict:
    return {"Ocp-Apim-Subscription-Key": context.key} if context.key else {}


class RiksbankSwea(Source):
    key = "riksbank_swea"
    title = _("Riksbank (SWEA)")
    # the exchange rates are fixed around 16:15 on bank days
    fetch_at = dt.time(16, 45)
    calls_per_minute = 4.0  # anonymous: about 5 a minute per address, 1,000 a day
    url_setting = "swea_url"
    default_url = "https://api.riksbank.se/swea/v1"

    def calls_per_minute_with(self, key):
        return 150.0 if key else self.calls_per_minute

    def series(self):
        return SWEA_SERIES

    def fetch(self, context, code, start, end):
        answer = get(context, f"/Observations/{code}/{start.isoformat()}/{end.isoformat()}",
                     headers=_headers(context))
        if answer.status_code == 404 or not answer.content.strip():
            return []  # nothing published in the range: weekends, holidays
        rows = parse_json(answer)
        if not isinstance(rows, list):
            raise FeedError("malformed", "observations are not a list")
        found = []
        for row in rows:
            if not isinstance(row, dict) or "date" not in row or "value" not in row:
                raise FeedError("malformed", "an observation without date or value")
            value = parse_value(row["value"])
            if value is not None:  # a null is a day the series has no value
                found.append(Observation(parse_day(row["date"]), value))
        return found

    def statuses(self, context):
        answer = get(context, "/Series", headers=_headers(context))
        rows = parse_json(answer) if answer.status_code == 200 else []
        if not isinstance(rows, list):
            raise FeedError("malformed", "the series list is not a list")
        found = []
        for row in rows:
            if not isinstance(row, dict) or "seriesId" not in row:
                raise FeedError("malformed", "a series without an id")
            last = row.get("observationMaxDate")
            found.append(SeriesStatus(str(row["seriesId"]), bool(row.get("seriesClosed")),
                                      parse_day(last) if last else None))
        return found


SWESTR_SERIES = [
    SeriesSpec("SWESTR", _("SWESTR"), precision=3, group=SWESTR_GROUP),
    SeriesSpec("SWESTRAVG1W", _("SWESTR average, 1 week"), precision=5, group=SWESTR_GROUP),
    SeriesSpec("SWESTRAVG1M", _("SWESTR average, 1 month"), precision=5, group=SWESTR_GROUP),
    SeriesSpec("SWESTRAVG2M", _("SWESTR average, 2 months"), precision=5, group=SWESTR_GROUP),
    SeriesSpec("SWESTRAVG3M", _("SWESTR average, 3 months"), precision=5, group=SWESTR_GROUP),
    SeriesSpec("SWESTRAVG6M", _("SWESTR average, 6 months"), precision=5, group=SWESTR_GROUP),
    SeriesSpec("SWESTRINDEX", _("SWESTR index"), kind="index", precision=5, group=SWESTR_GROUP),
]


class RiksbankSwestr(Source):
    key = "riksbank_swestr"
    title = _("Riksbank (SWESTR)")
    # published at 09:00 on the bank day after the one it is for
    fetch_at = dt.time(9, 30)
    calls_per_minute = 4.0
    url_setting = "swestr_url"
    default_url = "https://api.riksbank.se/swestr/v1"

    def calls_per_minute_with(self, key):
        return 150.0 if key else self.calls_per_minute

    def series(self):
        return SWESTR_SERIES

    def _path(self, code: str) -> str:
        if code.startswith("SWESTRAVG"):
            return f"/avg/{code}"
        if code == "SWESTRINDEX":
            return f"/index/{code}"
        return f"/all/{code}"

    def fetch(self, context, code, start, end):
        answer = get(context, self._path(code),
                     params={"fromDate": start.isoformat(), "toDate": end.isoformat()},
                     headers=_headers(context))
        if answer.status_code == 404 or not answer.content.strip():
            return []
        rows = parse_json(answer)
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list):
            raise FeedError("malformed", "observations are not a list")
        field = "value" if code == "SWESTRINDEX" else "rate"
        found = []
        for row in rows:
            if not isinstance(row, dict) or "date" not in row or field not in row:
                raise FeedError("malformed", "an observation without date or value")
            value = parse_value(row[field])
            if value is None:
                continue
            found.append(Observation(parse_day(row["date"]), value,
                                     published_at=parse_time(row.get("publicationTime")),
                                     republished=bool(row.get("republication"))))
        return found
