"""Fake rate feeds: the Riksbank's SWEA and SWESTR, the ECB's SDMX API and Fixer, in one WSGI
application that answers in each provider's wire format (see the plugin's docs), with
generated history (:mod:`mypages_rates.fakes.data`).

Mounted under ``/_dev/rates/`` in development (``make run``) and served over HTTP on
loopback by the tests::

    /swea/v1/...            https://api.riksbank.se/swea/v1/...
    /swestr/v1/...          https://api.riksbank.se/swestr/v1/...
    /ecb/service/data/...   https://data-api.ecb.europa.eu/service/data/...
    /fixer/api/...          https://data.fixer.io/api/...

Misbehaviour on demand, for the next matching calls: ``fake.misbehave("swea", "429",
retry_after=30)``; kinds ``429``, ``500``, ``malformed``, ``empty``, ``404``, ``error-body``
(Fixer's HTTP 200 with ``success: false``), ``hang`` (answers after ``delay`` seconds). And
``fake.republish("SWESTR", day, value)`` changes a published value, as a republication does.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter, deque
from decimal import Decimal

from webob import Request, Response

from mypages_rates.fakes.data import CLOSED, History
from mypages_rates.sources.ecb import series_key
from mypages_rates.sources.riksbank import SWEA_SERIES

FIXER_KEYS = frozenset({"fixer-demo-key"})
SERVICES = ("swea", "swestr", "ecb", "fixer")


def _number(value: Decimal):
    """A JSON number with exactly the published digits."""
    return float(value)


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json",
                        charset="utf-8")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _range(values: dict, start: dt.date, end: dt.date) -> list[tuple[dt.date, Decimal]]:
    return [(day, values[day]) for day in sorted(values) if start <= day <= end]


class FakeFeeds:
    """The WSGI application of every fake feed. ``today`` fixes the last day of history
    (default: the real date each time); ``calls`` counts requests per service."""

    def __init__(self, today: dt.date | None = None):
        self._today = today
        self._histories: dict[dt.date, History] = {}
        self._lock = threading.Lock()
        self._trouble: dict[str, deque] = {name: deque() for name in SERVICES}
        self._republished: dict[tuple[str, dt.date], Decimal] = {}
        self.calls: Counter = Counter()
        self.requests: list[str] = []
        self.fixer_keys = set(FIXER_KEYS)

    # -- control ---------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        return self._today or dt.date.today()

    @today.setter
    def today(self, value: dt.date) -> None:
        self._today = value

    @property
    def history(self) -> History:
        with self._lock:
            today = self.today
            if today not in self._histories:
                self._histories = {today: History(today)}
            return self._histories[today]

    def misbehave(self, service: str, kind: str, times: int = 1, **details) -> None:
        assert service in SERVICES, service
        for _ in range(times):
            self._trouble[service].append((kind, details))

    def republish(self, code: str, day: dt.date, value: Decimal) -> None:
        self._republished[(code, day)] = Decimal(value)

    def reset(self) -> None:
        for queue in self._trouble.values():
            queue.clear()
        self._republished.clear()
        self.calls.clear()
        self.requests.clear()
        self.fixer_keys = set(FIXER_KEYS)

    def values(self, code: str) -> dict[dt.date, Decimal]:
        """A Riksbank series with any republications."""
        values = dict(self.history.series(code))
        for (republished, day), value in self._republished.items():
            if republished == code:
                values[day] = value
        return values

    # -- WSGI ----------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        service, _, rest = request.path_info.lstrip("/").partition("/")
        if service not in SERVICES:
            return Response(status=404)(environ, start_response)
        self.calls[service] += 1
        self.requests.append(request.path_qs)
        trouble = self._trouble[service].popleft() if self._trouble[service] else None
        response = self._trouble_answer(service, *trouble) if trouble else None
        if response is None:
            try:
                response = getattr(self, f"_{service}")(request, "/" + rest)
            except (KeyError, ValueError):
                response = self._not_found(service)
        return response(environ, start_response)

    def _trouble_answer(self, service: str, kind: str, details: dict) -> Response | None:
        if kind == "hang":
            time.sleep(details.get("delay", 1.0))  # a slow provider, for time-out tests
            return None
        if kind == "429":
            seconds = details.get("retry_after", 60)
            body = {"statusCode": 429,
                    "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}
            return _json(body, 429, {"Retry-After": str(seconds)})
        if kind == "500":
            return Response("<html><body>Service unavailable</body></html>", status=503,
                            content_type="text/html")
        if kind == "malformed":
            return Response(b'[{"date": "2026-01-02", "value": ', content_type="application/json")
        if kind == "empty":
            return Response(b"", content_type="text/csv" if service == "ecb"
                            else "application/json")
        if kind == "404":
            return self._not_found(service)
        if kind == "error-body":
            code = details.get("code", 105)
            kinds = {101: "invalid_access_key", 104: "usage_limit_reached",
                     105: "base_currency_access_restricted", 201: "invalid_base_currency",
                     202: "invalid_currency_codes"}
            return _json({"success": False, "error": {
                "code": code, "type": kinds.get(code, "error"),
                "info": "Access restricted for the current subscription plan."}})
        raise ValueError(kind)

    def _not_found(self, service: str) -> Response:
        if service == "ecb":
            return Response("No results found.", status=404, content_type="text/plain")
        if service == "fixer":
            return _json({"success": False, "error": {"code": 103, "type": "invalid_api_function"}})
        return _json({"statusCode": 404, "message": "Resource not found"}, 404)

    # -- Riksbank SWEA ------------------------------------------------------------------

    def _swea(self, request, path):
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            raise KeyError(path)
        parts = parts[1:]
        if parts == ["Series"]:
            return _json([self._series_row(spec.code) for spec in SWEA_SERIES])
        if parts == ["Groups"]:
            return _json({"groupId": 1, "name": "Riksbank", "description": "", "childGroups": [
                {"groupId": 2, "name": "Riksbank key interest rates", "childGroups": []},
                {"groupId": 5, "name": "STIBOR", "childGroups": []},
                {"groupId": 130, "name": "Currencies against Swedish kronor", "childGroups": []},
            ]})
        if parts[:2] == ["Observations", "Latest"] and len(parts) == 3:
            values = self.values(parts[2])
            if not values:
                raise KeyError(parts[2])
            day = max(values)
            return _json({"date": day.isoformat(), "value": _number(values[day])})
        if parts[:1] == ["Observations"] and len(parts) in (3, 4):
            values = self.values(parts[1])
            start = dt.date.fromisoformat(parts[2])
            end = dt.date.fromisoformat(parts[3]) if len(parts) == 4 else self.today
            return _json([{"date": day.isoformat(), "value": _number(value)}
                          for day, value in _range(values, start, end)])
        if parts[:1] == ["CrossRates"] and len(parts) in (4, 5):
            start = dt.date.fromisoformat(parts[3])
            end = dt.date.fromisoformat(parts[4]) if len(parts) == 5 else self.today
            first, second = (self._sek(parts[1]), self._sek(parts[2]))
            return _json([{"date": day.isoformat(),
                           "value": _number((first[day] / second[day]).quantize(Decimal("0.0001")))}
                          for day in sorted(set(first) & set(second)) if start <= day <= end])
        if parts[:1] == ["CalendarDays"]:
            start = dt.date.fromisoformat(parts[1])
            end = dt.date.fromisoformat(parts[2]) if len(parts) == 3 else start
            bank_days = set(self.history.bank_days)
            rows, day = [], start
            while day <= end:
                rows.append({"calendarDate": day.isoformat(), "swedishBankday": day in bank_days})
                day += dt.timedelta(days=1)
            return _json(rows)
        raise KeyError(path)

    def _sek(self, code: str) -> dict:
        if code == "SEKETT":
            return {day: Decimal(1) for day in self.history.bank_days}
        return self.values(code)

    def _series_row(self, code: str) -> dict:
        values = self.history.series(code)
        spec = next(spec for spec in SWEA_SERIES if spec.code == code)
        return {"seriesId": code, "source": "Riksbank", "shortDescription": str(spec.title),
                "midDescription": str(spec.title), "longDescription": str(spec.title),
                "groupId": 130 if spec.kind == "fx" else (5 if "STIBOR" in code else 2),
                "observationMinDate": min(values).isoformat(),
                "observationMaxDate": max(values).isoformat(),
                "seriesClosed": code in CLOSED}

    # -- Riksbank SWESTR -------------------------------------------------------------------

    def _swestr_row(self, code: str, day: dt.date, value: Decimal) -> dict:
        published = dt.datetime.combine(self._next_bank_day(day), dt.time(7, 0),
                                        tzinfo=dt.timezone.utc)
        republished = (code, day) in self._republished
        if code == "SWESTRINDEX":
            return {"value": _number(value), "date": day.isoformat(),
                    "publicationTime": published.isoformat().replace("+00:00", "Z"),
                    "republication": republished}
        row = {"rate": _number(value), "date": day.isoformat(),
               "publicationTime": published.isoformat().replace("+00:00", "Z"),
               "republication": republished}
        if code == "SWESTR":
            row.update({"pctl12_5": _number(value - Decimal("0.05")),
                        "pctl87_5": _number(value + Decimal("0.02")),
                        "volume": 60000 + (day.toordinal() * 7919) % 30000,
                        "numberOfTransactions": 200 + day.toordinal() % 90,
                        "numberOfAgents": 6, "alternativeCalculation": False,
                        "alternativeCalculationReason": None})
        elif code.startswith("SWESTRAVG"):
            row["startDate"] = (day - dt.timedelta(days=30)).isoformat()
        return row

    def _next_bank_day(self, day: dt.date) -> dt.date:
        day += dt.timedelta(days=1)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return day

    def _swestr(self, request, path):
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["v1"]:
            raise KeyError(path)
        parts = parts[1:]
        latest = "latest" in parts
        code = parts[-1]
        if parts[0] not in ("latest", "all", "avg", "index") or not code.startswith("SWESTR"):
            raise KeyError(path)
        values = self.values(code)
        if latest:
            day = max(values)
            return _json(self._swestr_row(code, day, values[day]))
        start = dt.date.fromisoformat(request.GET.get("fromDate", "2021-09-01"))
        end = dt.date.fromisoformat(request.GET.get("toDate", self.today.isoformat()))
        return _json([self._swestr_row(code, day, value)
                      for day, value in _range(values, start, end)])

    # -- ECB SDMX --------------------------------------------------------------------------

    def _ecb(self, request, path):
        prefix = "/service/data/EXR/"
        if not path.startswith(prefix):
            raise KeyError(path)
        key = path[len(prefix):]
        parts = key.split(".")
        if len(parts) != 5 or series_key(parts[1]) != key:
            raise KeyError(key)
        currency = parts[1]
        values = self.history.ecb(currency)
        start = dt.date.fromisoformat(request.GET.get("startPeriod", "1999-01-04"))
        end = dt.date.fromisoformat(request.GET.get("endPeriod", self.today.isoformat()))
        rows = _range(values, start, end)
        if "lastNObservations" in request.GET:
            rows = rows[-int(request.GET["lastNObservations"]):]
        if not rows:
            return Response(b"", content_type="text/csv")  # the API's answer since 2024
        if request.GET.get("format") == "jsondata":
            return self._ecb_json(key, currency, rows)
        lines = ["KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE"]
        lines += [f"EXR.{key},D,{currency},EUR,SP00,A,{day.isoformat()},{value}"
                  for day, value in rows]
        return Response("\r\n".join(lines) + "\r\n", content_type="text/csv")

    def _ecb_json(self, key, currency, rows):
        return _json({
            "header": {"id": "fake", "prepared": dt.datetime.now(dt.timezone.utc).isoformat()},
            "dataSets": [{"action": "Replace", "series": {"0:0:0:0:0": {
                "observations": {str(i): [_number(value)] for i, (_, value) in enumerate(rows)}}}}],
            "structure": {"dimensions": {
                "series": [{"id": "FREQ", "values": [{"id": "D"}]},
                           {"id": "CURRENCY", "values": [{"id": currency}]},
                           {"id": "CURRENCY_DENOM", "values": [{"id": "EUR"}]},
                           {"id": "EXR_TYPE", "values": [{"id": "SP00"}]},
                           {"id": "EXR_SUFFIX", "values": [{"id": "A"}]}],
                "observation": [{"id": "TIME_PERIOD",
                                 "values": [{"id": day.isoformat()} for day, _ in rows]}]}}})

    # -- Fixer -------------------------------------------------------------------------------

    def _fixer(self, request, path):
        parts = [p for p in path.split("/") if p]
        if parts[:1] != ["api"] or len(parts) != 2:
            raise KeyError(path)
        if request.GET.get("access_key") not in self.fixer_keys:
            return _json({"success": False, "error": {
                "code": 101, "type": "invalid_access_key",
                "info": "You have not supplied a valid API Access Key."}})
        base = request.GET.get("base", "EUR")
        if base != "EUR":
            return _json({"success": False, "error": {
                "code": 105, "type": "base_currency_access_restricted"}})
        symbols = [s for s in request.GET.get("symbols", "SEK,USD,GBP,NOK,DKK,CHF").split(",") if s]
        try:
            tables = {symbol: self.history.fixer(symbol) for symbol in symbols}
        except KeyError:
            return _json({"success": False, "error": {
                "code": 202, "type": "invalid_currency_codes",
                "info": "You have provided one or more invalid Currency Codes."}})
        action = parts[1]
        if action == "timeseries":
            start = dt.date.fromisoformat(request.GET["start_date"])
            end = min(dt.date.fromisoformat(request.GET["end_date"]), self.today)
            if (end - start).days > 365:
                return _json({"success": False, "error": {"code": 505,
                                                          "type": "invalid_time_frame"}})
            rates, day = {}, start
            while day <= end:
                rates[day.isoformat()] = {s: _number(t[day]) for s, t in tables.items() if day in t}
                day += dt.timedelta(days=1)
            return _json({"success": True, "timeseries": True, "start_date": start.isoformat(),
                          "end_date": end.isoformat(), "base": "EUR", "rates": rates})
        day = self.today if action == "latest" else dt.date.fromisoformat(action)
        body = {"success": True, "timestamp": int(dt.datetime.combine(
                    day, dt.time(16), tzinfo=dt.timezone.utc).timestamp()),
                "base": "EUR", "date": day.isoformat(),
                "rates": {s: _number(t[day]) for s, t in tables.items() if day in t}}
        if action != "latest":
            body["historical"] = True
        return _json(body)
