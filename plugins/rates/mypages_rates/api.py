"""The rates in the REST API, with the scope ``rates:read`` and only while the company has
the Rates module: the series it follows with their latest values, a series' observations
over a range of dates, and a cross rate, each a list answered as JSON or CSV.

Values are exact decimals written as strings with the decimals their source publishes
(``"2.2500"`` stays ``"2.2500"``), so that nothing is lost to binary floats."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from mypages.toolkit import ApiProblem

from mypages_rates.fetch import MODULE_KEY
from mypages_rates.models import Follow, Series
from mypages_rates.reading import (CROSS_PRECISION, CURRENCIES, VIA, cross_rate, followed_rows,
                                   history, shown, with_changes)
from mypages_rates.translations import _

SCOPE = "rates:read"
TAGS = ("rates",)
DECIMAL = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
           "description": "An exact decimal, with the decimals its source publishes."}
DAY = {"type": "string", "format": "date"}

RATE_SERIES = {
    "type": "object",
    "required": ["id", "source", "code", "title", "kind", "precision", "base", "quote",
                 "closed", "latest_date", "latest_value"],
    "properties": {
        "id": {"type": "integer"},
        "source": {"type": "string"},
        "code": {"type": "string"},
        "title": {"type": "string"},
        "kind": {"type": "string",
                 "description": "``rate``: a percentage; ``fx``: units of ``quote`` for one "
                                "``base``; ``index``: an index; a source of another plugin "
                                "may have kinds of its own."},
        "precision": {"type": "integer", "minimum": 0},
        "base": {"type": ["string", "null"]},
        "quote": {"type": ["string", "null"]},
        "closed": {"type": "boolean"},
        "latest_date": {"type": ["string", "null"], "format": "date"},
        "latest_value": {"anyOf": [DECIMAL, {"type": "null"}]},
    },
}

OBSERVATION = {
    "type": "object",
    "required": ["date", "value"],
    "properties": {"date": DAY, "value": DECIMAL},
}

RANGE_PARAMETERS = [
    {"name": "from", "in": "query", "required": False, "schema": DAY,
     "description": "The first day (inclusive); the series' first observation if left out."},
    {"name": "to", "in": "query", "required": False, "schema": DAY,
     "description": "The last day (inclusive); the latest observation if left out."},
]

SERIES_ID = {"name": "series_id", "in": "path", "required": True,
             "description": "The ``id`` of a series the company follows.",
             "schema": {"type": "integer", "minimum": 1, "maximum": 2 ** 31 - 1}}

CROSS_PARAMETERS = [
    {"name": "base", "in": "query", "required": True, "schema": {"enum": list(CURRENCIES)},
     "description": "The currency priced."},
    {"name": "quote", "in": "query", "required": True, "schema": {"enum": list(CURRENCIES)},
     "description": "The currency it is priced in."},
    {"name": "via", "in": "query", "required": False,
     "schema": {"enum": list(VIA), "default": "SEK"},
     "description": "Computed through SEK (the Riksbank's rates) or EUR (the ECB's)."},
    *RANGE_PARAMETERS,
]


def _text(value: Decimal, precision: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-precision)), "f")


def _day(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _range(call) -> tuple[dt.date | None, dt.date | None]:
    start, end = _day(call.query.get("from")), _day(call.query.get("to"))
    after = _day(call.page.after)
    if after is not None:
        start = max(start or after, after + dt.timedelta(days=1))
    return start, end


def _points(points, precision: int, fetch: int) -> list[dict]:
    return [{"date": day.isoformat(), "value": _text(value, precision)}
            for day, value in points[:fetch]]


def list_series(call) -> list[dict]:
    rows = [row for row in followed_rows(call.dbsession, call.company.id)
            if call.page.after is None or row.id > call.page.after]
    rows.sort(key=lambda row: row.id)
    items = with_changes(lambda: call.dbsession, shown(call.request, rows[:call.page.fetch]))
    return [{"id": item.id, "source": item.row.source, "code": item.row.code,
             "title": call.translate(item.title), "kind": item.row.kind,
             "precision": item.precision, "base": item.row.base, "quote": item.row.quote,
             "closed": item.row.closed,
             "latest_date": item.latest[0].isoformat() if item.latest else None,
             "latest_value": _text(item.latest[1], item.precision) if item.latest else None}
            for item in items]


def list_observations(call) -> list[dict]:
    row = call.dbsession.scalar(
        select(Series).join(Follow, Follow.series_id == Series.id)
        .where(Follow.company_id == call.company.id, Series.id == int(call.path["series_id"])))
    if row is None:
        raise ApiProblem("not-found", _("The company follows no series with this id."))
    start, end = _range(call)
    return _points(history(call.dbsession, row.id, start, end, limit=call.page.fetch),
                   row.precision, call.page.fetch)


def list_cross(call) -> list[dict]:
    base, quote, via = call.query["base"], call.query["quote"], call.query.get("via") or "SEK"
    if base == quote:
        # no such rate: a 404, as the document cannot say the two must differ
        raise ApiProblem("not-found", _("Choose two different currencies for the cross "
                                        "rate."))
    start, end = _range(call)
    points = [point for point in cross_rate(call.dbsession, via, base, quote, start)
              if end is None or point[0] <= end]
    return _points(points, CROSS_PRECISION, call.page.fetch)


def add_operations(api) -> None:
    api.add_scope(SCOPE, _("Read the rates the company follows"))
    api.add_schema("RateSeries", RATE_SERIES)
    api.add_schema("RateObservation", OBSERVATION)
    api.add_list("/rates/series", list_series, operation_id="listRateSeries", scope=SCOPE,
                 module=MODULE_KEY, summary=_("The series the company follows, with their "
                                              "latest values"),
                 item="RateSeries", columns=tuple(RATE_SERIES["properties"]), tags=TAGS)
    api.add_list("/rates/series/{series_id}/observations", list_observations,
                 operation_id="listRateObservations", scope=SCOPE, module=MODULE_KEY,
                 summary=_("The observations of a followed series, oldest first"),
                 item="RateObservation", columns=("date", "value"), order_by="date",
                 parameters=[SERIES_ID, *RANGE_PARAMETERS], tags=TAGS)
    api.add_list("/rates/cross", list_cross, operation_id="listCrossRates", scope=SCOPE,
                 module=MODULE_KEY,
                 summary=_("A cross rate computed through SEK or EUR, oldest first"),
                 description=_("Units of the quote currency for one of the base currency, on "
                               "the days both legs were published, to four decimals."),
                 item="RateObservation", columns=("date", "value"), order_by="date",
                 parameters=CROSS_PARAMETERS, tags=TAGS)
