"""The clients of the Riksbank (SWEA, SWESTR), the ECB and Fixer against the fake feeds over
real HTTP: exact values, the days each provider publishes, closed series from metadata, and
every kind of bad answer raised as a failure, never returned as data."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mypages_rates.business_days import swedish_bank_day, target_day
from mypages_rates.sources import FeedError, FetchContext
from mypages_rates.sources.ecb import Ecb
from mypages_rates.sources.fixer import Fixer
from mypages_rates.sources.riksbank import RiksbankSwea, RiksbankSwestr
from tests.plugins.rates.conftest import TODAY

MIDSUMMER_WEEK = (dt.date(2025, 6, 16), dt.date(2025, 6, 27))


def test_swea_gives_exact_values_on_swedish_bank_days_only(fetch_context, feeds):
    found = RiksbankSwea().fetch(fetch_context("riksbank_swea"), "SEKEURPMI", *MIDSUMMER_WEEK)

    days = [o.day for o in found]
    assert dt.date(2025, 6, 20) not in days  # Midsummer Eve: no fixing, and no error
    assert dt.date(2025, 6, 21) not in days and dt.date(2025, 6, 23) in days
    assert all(swedish_bank_day(day) for day in days)
    assert all(isinstance(o.value, Decimal) and -o.value.as_tuple().exponent <= 4 for o in found)
    assert found[0].value == feeds.values("SEKEURPMI")[found[0].day]
    assert Decimal("8") < found[0].value < Decimal("14")
    assert feeds.requests == ["/swea/v1/Observations/SEKEURPMI/2025-06-16/2025-06-27"]


def test_swea_sends_the_subscription_key_when_there_is_one(fetch_context, feeds, monkeypatch):
    seen = []
    context = fetch_context("riksbank_swea", key="subscription")
    original = context.outbound.get
    monkeypatch.setattr(context.outbound, "get", lambda url, **kw: seen.append(kw["headers"])
                        or original(url, **kw))
    RiksbankSwea().fetch(context, "SECBREPOEFF", TODAY, TODAY)
    assert seen == [{"Ocp-Apim-Subscription-Key": "subscription"}]


def test_a_weekend_is_an_empty_answer_not_an_error(fetch_context):
    weekend = (dt.date(2026, 6, 6), dt.date(2026, 6, 7))
    assert RiksbankSwea().fetch(fetch_context("riksbank_swea"), "SECBREPOEFF", *weekend) == []
    assert Ecb().fetch(fetch_context("ecb"), "SEK", *weekend) == []


def test_closed_series_are_told_by_the_metadata(fetch_context):
    statuses = {s.code: s for s in RiksbankSwea().statuses(fetch_context("riksbank_swea"))}
    assert statuses["SEKLTLPMI"].closed and statuses["SEKLTLPMI"].last_day == dt.date(2014, 12, 30)
    assert not statuses["SEKEURPMI"].closed and statuses["SEKEURPMI"].last_day == TODAY


def test_swestr_gives_rates_with_their_publication_time(fetch_context, feeds):
    found = RiksbankSwestr().fetch(fetch_context("riksbank_swestr"), "SWESTR",
                                   dt.date(2026, 6, 1), dt.date(2026, 6, 5))
    assert [o.day for o in found] == [dt.date(2026, 6, d) for d in (1, 2, 3, 4, 5)]
    assert found[0].published_at == dt.datetime(2026, 6, 2, 7, 0, tzinfo=dt.timezone.utc)
    assert not found[0].republished

    feeds.republish("SWESTR", dt.date(2026, 6, 2), Decimal("1.234"))
    again = RiksbankSwestr().fetch(fetch_context("riksbank_swestr"), "SWESTR",
                                   dt.date(2026, 6, 2), dt.date(2026, 6, 2))
    assert again[0].value == Decimal("1.234") and again[0].republished


@pytest.mark.parametrize("code", ["SWESTRAVG1M", "SWESTRINDEX"])
def test_swestr_averages_and_index(fetch_context, code):
    found = RiksbankSwestr().fetch(fetch_context("riksbank_swestr"), code,
                                   dt.date(2026, 6, 1), dt.date(2026, 6, 5))
    assert len(found) == 5 and all(-o.value.as_tuple().exponent == 5 for o in found)


def test_ecb_reads_the_sdmx_csv_on_target_days(fetch_context, feeds):
    found = Ecb().fetch(fetch_context("ecb"), "USD", dt.date(2025, 12, 22), dt.date(2026, 1, 2))
    days = [o.day for o in found]
    assert dt.date(2025, 12, 25) not in days and dt.date(2025, 12, 26) not in days
    assert dt.date(2026, 1, 1) not in days and dt.date(2026, 1, 2) in days
    assert all(target_day(day) for day in days)
    assert found[0].value == feeds.history.ecb("USD")[found[0].day]
    assert feeds.requests[0].startswith("/ecb/service/data/EXR/D.USD.EUR.SP00.A?startPeriod=")
    assert "format=csvdata" in feeds.requests[0]


@pytest.mark.parametrize("answer", ["empty", "404"])
def test_ecb_no_data_is_nothing_published(fetch_context, feeds, answer):
    feeds.misbehave("ecb", answer)
    assert Ecb().fetch(fetch_context("ecb"), "SEK", TODAY, TODAY) == []


def test_fixer_asks_for_every_currency_of_a_range_in_one_call(fetch_context, feeds):
    found = Fixer().fetch_many(fetch_context("fixer", key="fixer-demo-key"), ["SEK", "USD"],
                               dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert len(found["SEK"]) == 31 and len(found["USD"]) == 31  # Fixer fills every day
    assert found["SEK"][0].value == feeds.history.fixer("SEK")[dt.date(2026, 5, 1)]
    assert feeds.calls["fixer"] == 1


@pytest.mark.parametrize("code, kind", [(101, "invalid_access_key"),
                                        (105, "base_currency_access_restricted"),
                                        (202, "invalid_currency_codes")])
def test_fixers_http_200_error_bodies_are_failures(fetch_context, feeds, code, kind):
    feeds.misbehave("fixer", "error-body", code=code)
    with pytest.raises(FeedError) as raised:
        Fixer().fetch(fetch_context("fixer", key="fixer-demo-key"), "SEK", TODAY, TODAY)
    assert raised.value.kind == "refused" and raised.value.code == str(code)
    assert "fixer-demo-key" not in str(raised.value)


def test_fixer_with_a_wrong_key_is_refused_without_the_key_in_the_error(fetch_context):
    with pytest.raises(FeedError) as raised:
        Fixer().fetch(fetch_context("fixer", key="wrong-key"), "SEK", TODAY, TODAY)
    assert raised.value.code == "101" and "wrong-key" not in str(raised.value)


@pytest.mark.parametrize("source, service", [(RiksbankSwea, "swea"), (RiksbankSwestr, "swestr"),
                                             (Ecb, "ecb"), (Fixer, "fixer")])
def test_a_429_says_when_to_come_back(fetch_context, feeds, source, service):
    feeds.misbehave(service, "429", retry_after=37)
    code = source().series()[0].code
    with pytest.raises(FeedError) as raised:
        source().fetch(fetch_context(source.key, key="fixer-demo-key"), code, TODAY, TODAY)
    assert raised.value.kind == "rate-limited" and raised.value.retry_after == 37


@pytest.mark.parametrize("trouble, kind", [("500", "outage"), ("malformed", "malformed")])
@pytest.mark.parametrize("source, service", [(RiksbankSwea, "swea"), (RiksbankSwestr, "swestr"),
                                             (Fixer, "fixer")])
def test_outages_and_malformed_answers_are_failures(fetch_context, feeds, source, service,
                                                    trouble, kind):
    feeds.misbehave(service, trouble)
    code = source().series()[0].code
    with pytest.raises(FeedError) as raised:
        source().fetch(fetch_context(source.key, key="fixer-demo-key"), code, TODAY, TODAY)
    assert raised.value.kind == kind


def test_an_unexpected_csv_from_the_ecb_is_malformed(fetch_context, feeds):
    feeds.misbehave("ecb", "malformed")
    with pytest.raises(FeedError) as raised:
        Ecb().fetch(fetch_context("ecb"), "SEK", TODAY, TODAY)
    assert raised.value.kind == "malformed"


def test_a_provider_that_cannot_be_reached_is_a_failure(app, feeds):
    from mypages.toolkit import outbound_client
    closed = FetchContext(outbound_client(app.registry), "http://127.0.0.1:9/swea/v1")
    with pytest.raises(FeedError) as raised:
        RiksbankSwea().fetch(closed, "SECBREPOEFF", TODAY, TODAY)
    assert raised.value.kind == "unreachable"
