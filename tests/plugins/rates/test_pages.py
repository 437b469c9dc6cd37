"""The company's pages: the admin chooses the series, members see their latest values and
changes, a chart over the chosen range as server-made SVG, cross rates labelled as computed,
a CSV that spreadsheets cannot run, the dashboard card and the navigation item."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from mypages.testing.plugin import csrf_token
from mypages_rates.models import CompanyKey, Follow
from mypages_rates.views import csv_cell


@pytest.fixture
def fetched(run_jobs, rates_company, follow):
    follow(rates_company, "riksbank_swea", "SECBREPOEFF", "SEKEURPMI", "SEKUSDPMI")
    assert run_jobs()["failed"] == []
    return rates_company


def test_an_admin_chooses_the_series_and_their_history_is_fetched(testapp, signed_in, rates_company,
                                                                 run_jobs, dbsession, feeds):
    signed_in(rates_company.admin)
    page = testapp.get(f"/c/{rates_company.id}/settings/rates")
    box = page.html.find("label", string="Policy rate")
    form = page.forms["follow-form"]
    form.set("series", True, index=[f.id for f in form.fields["series"]].index(box["for"]))
    form.submit(status=303)

    assert [f.series_id for f in dbsession.scalars(select(Follow))] == [int(box["for"][7:])]
    run_jobs(queued_only=True)  # queued by the save, before the daily run
    assert any("/Observations/SECBREPOEFF/" in r for r in feeds.requests)


def test_members_see_latest_values_changes_and_a_chart(testapp, signed_in, fetched):
    signed_in(fetched.member)
    page = testapp.get(f"/c/{fetched.id}/rates", headers={"Accept-Language": "sv"})
    table = page.html.find(id="rates-table")
    assert "Styrränta" in table.text and "Riksbanken (SWEA)" in table.text
    svg = page.html.find("svg", class_="rates-chart")
    assert svg is not None and svg.find("path")["d"].startswith("M")
    assert page.html.find(attrs={"style": True}) is None and "<style" not in page.text
    assert svg["viewbox"] == "0 0 720 300" and svg["width"] == "100%"


def test_the_range_changes_the_chart(testapp, signed_in, fetched):
    signed_in(fetched.member)
    def line(range_name):
        page = testapp.get(f"/c/{fetched.id}/rates", {"range": range_name})
        return page.html.find("svg", class_="rates-chart").find("path")["d"]
    year, month = line("1y"), line("1m")
    assert year.count("L") > 200 and month.count("L") < 30


def test_what_pages_keep_of_a_series_goes_when_it_is_stored_again(testapp, signed_in, fetched,
                                                                   feeds, now, run_jobs):
    signed_in(fetched.admin)  # English
    def latest():
        page = testapp.get(f"/c/{fetched.id}/rates", {"range": "1m"},
                           headers={"Accept-Language": "en"})
        return (page.html.find(id="rates-table").find("tr", string=None).find_next("td").text,
                page.html.find("svg", class_="rates-chart").find("path")["d"])
    before = latest()
    assert latest() == before  # kept
    day = max(feeds.values("SECBREPOEFF"))
    feeds.republish("SECBREPOEFF", day, Decimal("7.75"))
    now.advance(seconds=3600)
    assert run_jobs()["failed"] == []
    after = latest()
    assert "7.75 %" in after[0] and after[1] != before[1]


def test_a_cross_rate_is_labelled_as_computed(testapp, signed_in, fetched):
    signed_in(fetched.admin)  # English
    page = testapp.get(f"/c/{fetched.id}/rates",
                       {"base": "EUR", "quote": "USD", "via": "SEK"},
                       headers={"Accept-Language": "en"})
    latest = page.html.find(id="cross-latest")
    assert "computed through SEK" in latest.text and "Computed" in latest.text


def test_a_bad_cross_rate_is_refused(testapp, signed_in, fetched):
    signed_in(fetched.member)
    testapp.get(f"/c/{fetched.id}/rates", {"base": "EUR", "quote": "EUR"}, status=400)


def test_the_csv_has_the_sources_precision_and_is_formula_safe(testapp, signed_in, fetched,
                                                             feeds):
    signed_in(fetched.member)
    page = testapp.get(f"/c/{fetched.id}/rates")
    link = page.html.find(id="csv-download")["href"]
    answer = testapp.get(link)
    assert answer.content_type == "text/csv" and "attachment" in answer.headers[
        "Content-Disposition"]
    rows = list(csv.reader(io.StringIO(answer.body.decode("utf-8-sig"))))
    assert rows[0][0] == "Datum" or rows[0][0] == "Date"
    assert all(len(value.split(".")[1]) == 2 for _, value, _ in rows[1:])
    assert csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and csv_cell("Riksbank") == "Riksbank"


def test_a_series_not_followed_is_not_found(testapp, signed_in, fetched, rates_company, factory):
    other = factory.company()
    signed_in(fetched.member)
    testapp.get(f"/c/{fetched.id}/rates/series/999999/csv", status=404)
    testapp.get(f"/c/{fetched.id}/rates/series/999999/json", status=404)


def test_the_json_view_gives_exact_values(testapp, signed_in, fetched, feeds):
    signed_in(fetched.member)
    page = testapp.get(f"/c/{fetched.id}/rates")
    series_id = page.html.find(id="csv-download")["href"].split("/")[-2]
    data = testapp.get(f"/c/{fetched.id}/rates/series/{series_id}/json").json
    last = data["observations"][-1]
    assert data["series"] == "SECBREPOEFF" and last["value"] == str(
        feeds.values("SECBREPOEFF")[max(feeds.values("SECBREPOEFF"))])


def test_the_dashboard_card_and_the_navigation(testapp, signed_in, fetched):
    signed_in(fetched.admin)  # English
    page = testapp.get(f"/c/{fetched.id}/", headers={"Accept-Language": "en"})
    nav = [a.text for a in page.html.find("header").find_all("a")]
    assert "Rates" in nav
    cards = page.html.find_all("section", class_="card")
    card = next(c for c in cards if c.h2.text.strip() == "Rates")
    assert "Policy rate" in card.text and "%" in card.text


def test_a_company_key_is_encrypted_at_rest(testapp, signed_in, rates_company, dbsession):
    signed_in(rates_company.admin)
    page = testapp.get(f"/c/{rates_company.id}/settings/rates")
    form = next(f for f in page.forms.values() if "key" in f.fields)
    form["key"] = "my-secret-fixer-key-123"
    form.submit(status=303)
    [row] = dbsession.scalars(select(CompanyKey))
    assert row.key == "my-secret-fixer-key-123"
    raw = dbsession.connection().exec_driver_sql("SELECT key FROM rates_company_keys").scalar()
    assert "my-secret-fixer-key-123" not in raw
    assert "my-secret-fixer-key-123" not in testapp.get(
        f"/c/{rates_company.id}/settings/rates").text


def test_members_cannot_change_what_is_followed(testapp, signed_in, rates_company):
    signed_in(rates_company.member)
    testapp.get(f"/c/{rates_company.id}/settings/rates", status=403)
