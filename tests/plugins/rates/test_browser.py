"""In a real Chromium, on the portal served as production serves it, against the fake feeds
over HTTP: a company admin activates Rates, follows the policy rate and SEK/EUR, sees the
chart change with the range, sets an alert and downloads the CSV. The pages fit a phone's
390 pixels and a laptop's 1366 without scrolling sideways, and axe-core finds nothing."""
from __future__ import annotations

import csv
import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from mypages.testing import chromium
from mypages.testing.chromium import contexts, seed_company, serve_portal
from mypages.testing.cli import OperatorCli

from .conftest import BASES

pytestmark = pytest.mark.e2e

PASSWORD = "rates-e2e-correct-horse"


@pytest.fixture(scope="module")
def portal(tmp_path_factory, feeds_server):
    """The portal with no module active for its company, its rates read from the fakes, at
    the pace the fakes allow."""
    settings = {f"mypages_rates.{name}_url": feeds_server.url + BASES[key]
                for key, name in (("riksbank_swea", "swea"), ("riksbank_swestr", "swestr"),
                                  ("ecb", "ecb"), ("fixer", "fixer"))}
    settings.update({f"mypages_rates.{key}_calls_per_minute": "60000" for key in BASES})
    settings["mypages_rates.backfill_years"] = "3"
    # the fakes listen on loopback, over plain http
    settings["mypages.outbound.allow_private"] = "true"
    with serve_portal(tmp_path_factory.mktemp("rates-portal"),
                      seed=lambda url, ini: seed_company(url, ini, password=PASSWORD),
                      **settings) as server:
        yield server


def sign_in(page, email):
    page.goto("/login")
    page.locator("form.language").get_by_role("combobox").select_option("en")
    with page.expect_navigation():
        page.locator("form.language").get_by_role("button").click()
    chromium.sign_in(page, email, PASSWORD)


def chart_points(page) -> int:
    return page.locator("svg.rates-chart path").first.get_attribute("d").count("L") + 1


def fits_and_passes_axe(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= "
                         "document.documentElement.clientWidth"), page.url
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def test_an_admin_follows_rates_sees_charts_sets_an_alert_and_downloads_csv(
        browser, portal, feeds_server):
    seeded = portal.seeded
    company = f"/c/{seeded.company_id}"
    with contexts(browser, portal) as make:
        context = make(locale="en-GB", viewport={"width": 1366, "height": 900})
        page = context.new_page()
        sign_in(page, seeded.admin_email)

        # the module, on its free trial
        page.goto(f"{company}/settings/modules")
        page.locator("#module-rates").get_by_role("button", name="Activate free trial").click()
        expect(page.locator("#module-rates")).to_have_attribute("data-state", "trial")

        # the policy rate and the Riksbank's SEK per euro
        page.goto(f"{company}/settings/rates")
        page.get_by_label("Policy rate", exact=True).check()
        page.locator("fieldset", has_text="Riksbank (SWEA)").get_by_label(
            "Euro (EUR)", exact=True).first.check()
        with page.expect_navigation():
            page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_label("Policy rate", exact=True)).to_be_checked()
        fits_and_passes_axe(page)

        # the history is fetched by the job worker, over HTTP from the fakes
        OperatorCli(ini=portal.ini)("jobs", "run")
        assert any("/Observations/SECBREPOEFF/" in r for r in feeds_server.fake.requests)

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Rates").click()
        expect(page).to_have_url(re.compile(rf"{company}/rates$"))
        table = page.locator("#rates-table")
        expect(table).to_contain_text("Policy rate")
        expect(table).to_contain_text("Euro (EUR)")
        expect(table).to_contain_text("%")
        fits_and_passes_axe(page)

        # the chart follows the range
        year = chart_points(page)
        page.get_by_label("Period").select_option("1m")
        with page.expect_navigation():
            page.get_by_role("button", name="Show").click()
        month = chart_points(page)
        assert year > 200 and month < 30, (year, month)
        page.get_by_label("Period").select_option("5y")
        with page.expect_navigation():
            page.get_by_role("button", name="Show").click()
        assert chart_points(page) > year

        # an alert when the policy rate rises to 9 % or above
        form = page.locator("#alert-form")
        form.get_by_label("Series").select_option(label="Policy rate")
        form.get_by_label("Tell me when it").select_option("above")
        form.get_by_label("Threshold").fill("9")
        with page.expect_navigation():
            form.get_by_role("button", name="Add alert").click()
        expect(page.locator("#alert-list")).to_contain_text("Policy rate")
        expect(page.locator("#alert-list")).to_contain_text("9.00 %")

        # the CSV of the chosen series and range
        with page.expect_download() as download:
            page.locator("#csv-download").click()
        rows = list(csv.reader(io.StringIO(
            open(download.value.path(), encoding="utf-8-sig").read())))
        assert rows[0] == ["Date", "Policy rate", "Source"]
        assert len(rows) > 200 and re.fullmatch(r"-?\d+\.\d{2}", rows[-1][1])

        # on a phone too
        phone = make(locale="en-GB", viewport={"width": 390, "height": 844}).new_page()
        sign_in(phone, seeded.admin_email)
        for path in ("/rates", "/rates?range=10y", "/settings/rates"):
            phone.goto(company + path)
            fits_and_passes_axe(phone)
        assert context.foreign_requests() == []
