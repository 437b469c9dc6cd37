"""The fake feeds served over HTTP on loopback, with history up to a fixed day."""
from __future__ import annotations

import datetime as dt

import pytest

from mypages.testing.saml import WsgiServer
from mypages.toolkit import outbound_client
from mypages_rates.fakes import FakeFeeds
from mypages_rates.sources import FetchContext

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
