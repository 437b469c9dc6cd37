"""The fake feeds served over HTTP on loopback, with history up to a fixed day; the app with
the plugin pointed at them, its jobs and a clock that stands still.

Trials start with mypages.testing's ``modules``. ``now`` stands the app's Clock service still
at the fakes' last day (``replace_service`` with ``SettableClock``) while the wall clock runs
on, and ``run_jobs`` here runs every periodic job at that time whether due or not (the
public ``run_jobs`` runs what is due)."""
from __future__ import annotations

import datetime as dt
import math

import pytest

from mypages.jobs import Worker
from mypages.testing.saml import WsgiServer
from mypages.testing.services import SettableClock
from mypages.toolkit import Clock, outbound_client
from mypages_rates.config import rates_config, sources
from mypages_rates.fakes import FakeFeeds
from mypages_rates.models import Follow
from mypages_rates.sources import FetchContext
from mypages_rates.store import ensure_series

#: the last day of the fakes' history: a Friday
TODAY = dt.date(2026, 6, 5)
BASES = {"riksbank_swea": "/swea/v1", "riksbank_swestr": "/swestr/v1", "ecb": "/ecb/service",
         "fixer": "/fixer/api"}


@pytest.fixture(scope="session")
def feeds_server():
    fake = FakeFeeds(today=TODAY)
    server = WsgiServer(fake).start()
    server.fake = fake
    yield server
    server.stop()


@pytest.fixture
def feeds(feeds_server):
    """The fake feeds (``feeds.misbehave(...)``, ``feeds.calls``), reset for each test;
    ``feeds.url`` is where they listen."""
    fake = feeds_server.fake
    fake.reset()
    fake.today = TODAY
    fake.url = feeds_server.url
    yield fake
    fake.reset()


@pytest.fixture
def fetch_context(app, feeds):
    """``fetch_context("ecb")``: what a source fetches with, pointed at the fakes."""
    def make(source_key, key=None):
        return FetchContext(outbound_client(app.registry), feeds.url + BASES[source_key], key)
    return make


# -- the app, its jobs and its clock ------------------------------------------------------------

#: 18:00 in Stockholm on TODAY: after every source published
NOW = dt.datetime(2026, 6, 5, 16, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def rates_app(app, feeds):
    """The app with the plugin's sources pointed at the fakes, calls unpaced unless a test
    paces them, a platform Fixer key, and two years of backfill."""
    config = rates_config(app.registry)
    saved = (dict(config.urls), dict(config.calls_per_minute), config.backfill_years,
             dict(config.settings))
    config.urls.update({key: feeds.url + base for key, base in BASES.items()})
    config.calls_per_minute.update({key: math.inf for key in BASES})
    config.backfill_years = 2
    config.settings["mypages_rates.fixer_access_key"] = "fixer-demo-key"
    yield app
    config.urls.clear(), config.urls.update(saved[0])
    config.calls_per_minute.clear(), config.calls_per_minute.update(saved[1])
    config.backfill_years = saved[2]
    config.settings.clear(), config.settings.update(saved[3])


@pytest.fixture
def now(rates_app, replace_service):
    """The app's clock, standing still at NOW until moved (``now.advance(seconds=...)``)."""
    return replace_service(Clock, SettableClock(NOW))


@pytest.fixture
def run_jobs(rates_app, now):
    """``run_jobs()`` runs every periodic job, then the queue until it is empty (jobs due
    later stay queued); ``run_jobs(queued_only=True)`` only the queue. Returns the worker's
    summary (``failed`` names the jobs that failed)."""
    def run(queued_only=False):
        worker = Worker(rates_app.registry)
        if queued_only:
            worker.failed = []
            return {"queued": worker.run_queued(), "failed": list(worker.failed)}
        return worker.run_once()
    return run


@pytest.fixture
def rates_company(factory, modules):
    """A company on the Rates trial, with an admin and a member."""
    company = factory.company()
    modules.activate(company, "rates")
    company.admin = factory.user(company=company, role="admin", locale="en")
    company.member = factory.user(company=company, locale="sv")
    return company


@pytest.fixture
def follow(rates_app, dbsession):
    """``follow(company, "riksbank_swea", "SECBREPOEFF", ...)``: the company follows those series."""
    def add(company, source_key, *codes):
        source = sources(rates_app.registry)[source_key]
        rows = ensure_series(dbsession, source_key, source.series())
        for code in codes:
            dbsession.add(Follow(company_id=company.id, series_id=rows[code].id))
        dbsession.commit()
        return [rows[code] for code in codes]
    return add
