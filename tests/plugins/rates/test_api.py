"""The rates in the REST API: the followed series, a series' observations over a range of
days and a cross rate, as JSON or CSV, with a real token; the scope and the module are
checked, and Schemathesis finds nothing the document does not describe."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks

from mypages.testing.api import served_schema
from mypages_rates.reading import cross_rate

from .conftest import TODAY


def bearer(token, **headers):
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
def fetched(run_jobs, rates_company, follow):
    rates_company.series = follow(rates_company, "riksbank_swea", "SECBREPOEFF", "SEKEURPMI",
                                  "SEKUSDPMI")
    assert run_jobs()["failed"] == []
    return rates_company


@pytest.fixture
def token(factory, fetched):
    return factory.api_token(fetched, ["rates:read"], created_by=fetched.admin)


def test_the_followed_series_with_their_latest_values(testapp, fetched, token, feeds):
    answer = testapp.get("/api/v1/rates/series", headers=bearer(token, **{
        "Accept-Language": "sv"}))
    items = {item["code"]: item for item in answer.json["items"]}
    assert set(items) == {"SECBREPOEFF", "SEKEURPMI", "SEKUSDPMI"}
    policy = items["SECBREPOEFF"]
    assert policy["title"] == "Styrränta" and policy["kind"] == "rate"
    last_day = max(feeds.values("SECBREPOEFF"))
    assert policy["latest_date"] == last_day.isoformat()
    assert Decimal(policy["latest_value"]) == feeds.values("SECBREPOEFF")[last_day]
    # written with the decimals the source publishes
    assert len(items["SEKEURPMI"]["latest_value"].split(".")[1]) == 4


def test_observations_over_a_range_page_by_page(testapp, fetched, token, feeds):
    series_id = fetched.series[1].id  # SEK per euro
    start, end = TODAY - dt.timedelta(days=60), TODAY - dt.timedelta(days=10)
    url = f"/api/v1/rates/series/{series_id}/observations"
    query = {"from": start.isoformat(), "to": end.isoformat(), "limit": "20"}
    seen, answer = [], testapp.get(url, query, headers=bearer(token))
    while True:
        seen += answer.json["items"]
        if answer.json["next_cursor"] is None:
            break
        assert "from=" in answer.headers["Link"]  # the range is kept in the next page's link
        answer = testapp.get(url, dict(query, cursor=answer.json["next_cursor"]),
                             headers=bearer(token))
    expected = {day: value for day, value in feeds.values("SEKEURPMI").items()
                if start <= day <= end}
    assert [item["date"] for item in seen] == [day.isoformat() for day in sorted(expected)]
    assert all(Decimal(item["value"]) == expected[dt.date.fromisoformat(item["date"])]
               for item in seen)
    assert len(seen) > 20


def test_observations_as_csv(testapp, fetched, token):
    series_id = fetched.series[0].id
    as_json = testapp.get(f"/api/v1/rates/series/{series_id}/observations",
                          {"from": "2025-01-01", "limit": "200"}, headers=bearer(token)).json
    answer = testapp.get(f"/api/v1/rates/series/{series_id}/observations.csv",
                         {"from": "2025-01-01", "limit": "200"}, headers=bearer(token))
    assert answer.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["date", "value"]
    assert rows[1:] == [[item["date"], item["value"]] for item in as_json["items"]]


def test_negative_rates_stay_numbers_in_csv(testapp, rates_company, follow, feeds, run_jobs,
                                           factory):
    """The policy rate was below zero in 2015-2019: a spreadsheet must read a number, not
    text guarded against formulas."""
    day = dt.date(2026, 6, 3)
    feeds.republish("SECBREPOEFF", day, Decimal("-0.25"))
    [series] = follow(rates_company, "riksbank_swea", "SECBREPOEFF")
    assert run_jobs()["failed"] == []
    token = factory.api_token(rates_company, ["rates:read"])
    answer = testapp.get(f"/api/v1/rates/series/{series.id}/observations.csv",
                         {"from": day.isoformat(), "to": day.isoformat()},
                         headers=bearer(token))
    assert list(csv.reader(io.StringIO(answer.text))) == [["date", "value"],
                                                         [day.isoformat(), "-0.25"]]


def test_a_cross_rate_through_sek(testapp, fetched, token, feeds, dbsession):
    answer = testapp.get("/api/v1/rates/cross", {"base": "EUR", "quote": "USD", "via": "SEK",
                                                 "from": "2026-05-01"}, headers=bearer(token))
    items = answer.json["items"]
    assert items and items[0]["date"] >= "2026-05-01"
    day = dt.date.fromisoformat(items[-1]["date"])
    eur, usd = feeds.values("SEKEURPMI")[day], feeds.values("SEKUSDPMI")[day]
    assert items[-1]["value"] == str((eur / usd).quantize(Decimal("0.0001")))
    assert len(items) == len(cross_rate(dbsession, "SEK", "EUR", "USD",
                                        dt.date(2026, 5, 1)))


@pytest.mark.parametrize("path, query, status, problem", [
    ("/api/v1/rates/series/999999/observations", {}, 404, "not-found"),
    ("/api/v1/rates/series/{id}/observations", {"from": "yesterday"}, 400, "bad-request"),
    ("/api/v1/rates/cross", {"base": "EUR", "quote": "EUR"}, 404, "not-found"),
    ("/api/v1/rates/cross", {"base": "EUR", "quote": "XAU"}, 400, "bad-request"),
])
def test_bad_requests_are_problems(testapp, fetched, token, path, query, status, problem):
    answer = testapp.get(path.format(id=fetched.series[0].id), query, headers=bearer(token),
                         status=status)
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == f"urn:mypages:problem:{problem}"


def test_an_empty_range_has_no_observations(testapp, fetched, token):
    answer = testapp.get(f"/api/v1/rates/series/{fetched.series[0].id}/observations",
                         {"from": "2026-02-01", "to": "2026-01-01"}, headers=bearer(token))
    assert answer.json == {"items": [], "next_cursor": None}


def test_another_companys_series_is_not_found(testapp, fetched, factory, follow, modules):
    other = factory.company()
    modules.activate(other, "rates")
    other_token = factory.api_token(other, ["rates:read"])
    testapp.get(f"/api/v1/rates/series/{fetched.series[0].id}/observations",
                headers=bearer(other_token), status=404)
    assert testapp.get("/api/v1/rates/series", headers=bearer(other_token)).json["items"] == []


def test_the_scope_and_the_module_are_needed(testapp, fetched, factory, modules):
    without_scope = factory.api_token(fetched, ["company:read"])
    answer = testapp.get("/api/v1/rates/series", headers=bearer(without_scope), status=403)
    assert answer.json["type"] == "urn:mypages:problem:insufficient-scope"

    other = factory.company()  # never activated Rates
    answer = testapp.get("/api/v1/rates/series",
                         headers=bearer(factory.api_token(other, ["rates:read"])), status=403)
    assert answer.json["type"] == "urn:mypages:problem:module-not-active"

    token = factory.api_token(fetched, ["rates:read"])
    modules.deactivate(fetched, "rates")
    testapp.get("/api/v1/rates/cross", {"base": "EUR", "quote": "USD"}, headers=bearer(token),
                status=403)


def test_the_document_describes_the_operations(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    assert {"/rates/series", "/rates/series.csv", "/rates/series/{series_id}/observations",
            "/rates/series/{series_id}/observations.csv", "/rates/cross",
            "/rates/cross.csv"} <= set(document["paths"])
    assert "rates:read" in document["x-mypages-scopes"]
    operation = document["paths"]["/rates/cross"]["get"]
    assert operation["x-mypages-module"] == "rates"
    assert {p["name"] for p in operation["parameters"]} >= {"base", "quote", "via", "from", "to"}


@pytest.mark.only_database("sqlite", "the answers' shapes do not depend on the database")
def test_schemathesis_finds_nothing_wrong(app, fetched, token):
    """Positive and negative examples of each operation of the plugin, with a token that
    may call them for a company that follows series with years of history."""
    schema = served_schema(app, token)

    operations = [result.ok() for result in schema.include(path_regex="^/rates/")
                  .get_all_operations()]
    assert len(operations) == 6
    for operation in operations:
        for mode in GenerationMode:
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=10, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                # a cursor is signed: one made up is refused, rightly
                excluded = [checks.positive_data_acceptance] if "cursor" in (
                    case.query or {}) else []
                case.call_and_validate(excluded_checks=excluded)

            run()
