"""The offline stand-ins under /_dev/rates/ with development features, and production's
refusal of them."""
from __future__ import annotations

import pytest
from pyramid.exceptions import ConfigurationError
from webtest import TestApp

from sqlalchemy import select

from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import build_app
from mypages_rates.fetch import FETCH
from mypages_rates.models import Follow, Series
from mypages_rates.config import check_production


@pytest.fixture
def dev_app(app, mypages_settings):
    built = build_app({**mypages_settings, "mypages.dev_features": "true",
                       "mypages.environment": "development",
                       "mypages.base_url": "http://localhost"}, migrate=False)
    yield built
    built.registry["db.engine"].dispose()


def test_the_stand_ins_answer_under_dev(dev_app):
    testapp = TestApp(dev_app)
    series = testapp.get("/_dev/rates/swea/v1/Series").json
    assert {"SECBREPOEFF", "SEKLTLPMI"} <= {row["seriesId"] for row in series}
    latest = testapp.get("/_dev/rates/swea/v1/Observations/Latest/SECBREPOEFF").json
    assert set(latest) == {"date", "value"}
    csv = testapp.get("/_dev/rates/ecb/service/data/EXR/D.SEK.EUR.SP00.A",
                      {"startPeriod": "2015-01-01", "endPeriod": "2025-12-31",
                       "format": "csvdata"}).text
    assert csv.count("\n") > 2500  # years of history
    index = testapp.get("/_dev/", headers={"Accept-Language": "en"})
    assert "fixer-demo-key" in index.html.find(id="dev-rates").text


def test_production_refuses_the_stand_ins_addresses():
    with pytest.raises(ConfigurationError) as refused:
        check_production({"mypages.environment": "production",
                          "mypages_rates.swea_url": "https://portal.example/_dev/rates/swea/v1"})
    assert "mypages_rates.swea_url" in str(refused.value)
    check_production({"mypages.environment": "development",
                      "mypages_rates.swea_url": "http://127.0.0.1:6543/_dev/rates/swea/v1"})


def test_the_demo_company_follows_rates_with_their_history_queued_once(dev_app, dbsession):
    cli = OperatorCli(app=dev_app)
    first = cli("demo").stdout
    second = cli("demo").stdout

    assert "Demo AB follows 5 rate series" in first and second == first
    # the demo company is the only one
    codes = set(dbsession.scalars(select(Series.code).join(Follow, Follow.series_id == Series.id)))
    assert codes == {"SECBREPOEFF", "SEDP3MSTIBORDELAYC", "SEKEURPMI", "SEKUSDPMI", "SWESTR"}
    [fetches] = [job for job in cli.json("jobs", "list") if job["name"] == FETCH]
    assert fetches["backlog"] == 5  # one for each series' history, queued once
