"""Rate limits per token and per address, counted together by every worker."""
import dataclasses

import pytest
from webtest import TestApp

from mypages.api.ratelimit import DatabaseStorage, RateLimits
from mypages.services import SETTINGS_KEY, settings_of
from mypages.settings import InvalidSetting, parse
from mypages.testing.plugin import build_app


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def limited(app, monkeypatch, per_token="3/minute", per_address="5/minute"):
    settings = settings_of(app)
    changed = dataclasses.replace(settings, api=dataclasses.replace(
        settings.api, rate_limit_per_token=per_token, rate_limit_per_address=per_address))
    monkeypatch.setitem(app.registry, SETTINGS_KEY, changed)
    monkeypatch.setattr(app.registry["api.published"], "rate_limits", RateLimits(app.registry))


@pytest.fixture
def token(factory):
    return factory.api_token(factory.company(), ["company:read"])


def test_the_embedded_default_counts_in_the_database(app):
    assert isinstance(app.registry["api.published"].rate_limits.storage, DatabaseStorage)


def test_a_token_is_limited_and_told_when_to_come_back(app, testapp, token, monkeypatch,
                                                       clock):
    limited(app, monkeypatch)
    remaining = []
    for _ in range(3):
        answer = testapp.get("/api/v1/company", headers=bearer(token))
        remaining.append(answer.headers["RateLimit"])
    assert '"token";r=2;' in remaining[0] and '"token";r=0;' in remaining[2]
    assert answer.headers["RateLimit-Policy"] == '"address";q=5;w=60, "token";q=3;w=60'
    refused = testapp.get("/api/v1/company", headers=bearer(token), status=429)
    assert refused.content_type == "application/problem+json"
    assert refused.json["type"] == "urn:mypages:problem:too-many-requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    clock.shift(61)
    testapp.get("/api/v1/company", headers=bearer(token))


def test_another_token_has_its_own_count(app, testapp, token, factory, monkeypatch):
    limited(app, monkeypatch, per_address="100/minute")
    for _ in range(3):
        testapp.get("/api/v1/company", headers=bearer(token))
    testapp.get("/api/v1/company", headers=bearer(token), status=429)
    other = factory.api_token(factory.company(), ["company:read"])
    testapp.get("/api/v1/company", headers=bearer(other))


def test_an_address_is_limited_with_or_without_a_token(app, testapp, monkeypatch):
    limited(app, monkeypatch, per_address="2/minute")
    for _ in range(2):
        testapp.get("/api/v1/company", status=401)
    answer = testapp.get("/api/v1/company", status=429)
    assert answer.headers["Retry-After"]
    other = TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.7", "HTTP_HOST": "localhost"})
    other.get("/api/v1/company", status=401)


def test_every_worker_counts_together(app, mypages_settings, token, monkeypatch):
    """A second application on the same database, as a second worker or machine is."""
    limited(app, monkeypatch, per_token="4/minute")
    second = build_app({**mypages_settings, "mypages.api.rate_limit_per_token": "4/minute",
                        "mypages.api.rate_limit_per_address": "5/minute"}, migrate=False)
    try:
        workers = [TestApp(each, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                                "HTTP_HOST": "localhost"})
                   for each in (app, second)]
        for n in range(4):
            workers[n % 2].get("/api/v1/company", headers=bearer(token))
        for worker in workers:
            worker.get("/api/v1/company", headers=bearer(token), status=429)
    finally:
        second.registry["db.engine"].dispose()


def test_a_limit_setting_is_checked_at_start_up(mypages_settings):
    with pytest.raises(InvalidSetting, match="rate_limit_per_token"):
        parse({**mypages_settings, "mypages.api.rate_limit_per_token": "lots"})
    with pytest.raises(InvalidSetting, match="rate_limit_storage"):
        parse({**mypages_settings, "mypages.api.rate_limit_storage": "bogus://x"})


@pytest.fixture
def still():
    """A clock that stands still, so only the count decides when a process syncs."""
    import time
    import time_machine

    with time_machine.travel(time.time(), tick=False) as traveller:
        yield traveller


def token_id(token):
    return token.split("_")[1]


def stored(app, item, identifier):
    """The count the shared store holds for ``identifier`` under ``item``."""
    rate_limits = app.registry["api.published"].rate_limits
    return rate_limits.storage.get(item.key_for(identifier))


def test_a_process_tells_the_store_its_counts_in_batches(app, testapp, token, monkeypatch,
                                                          still):
    limited(app, monkeypatch, per_token="1000/minute", per_address="100000/minute")
    rate_limits = app.registry["api.published"].rate_limits
    assert rate_limits.batch(rate_limits.per_token) == 50  # 5 % of the limit
    for _ in range(50):
        answer = testapp.get("/api/v1/company", headers=bearer(token))
    # the first request of a window is told at once, the next 49 wait for the batch ...
    assert stored(app, rate_limits.per_token, token_id(token)) == 1
    # ... while the caller is told the whole count
    assert '"token";r=950;' in answer.headers["RateLimit"]
    testapp.get("/api/v1/company", headers=bearer(token))
    assert stored(app, rate_limits.per_token, token_id(token)) == 51
    still.shift(1)  # or after a second
    testapp.get("/api/v1/company", headers=bearer(token))
    assert stored(app, rate_limits.per_token, token_id(token)) == 52


def test_without_slack_every_request_is_in_the_store(app, mypages_settings, token, still):
    exact = build_app({**mypages_settings, "mypages.api.rate_limit_per_token": "1000/minute",
                       "mypages.api.rate_limit_slack": "0"}, migrate=False)
    try:
        worker = TestApp(exact, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                               "HTTP_HOST": "localhost"})
        for _ in range(5):
            worker.get("/api/v1/company", headers=bearer(token))
        assert stored(exact, exact.registry["api.published"].rate_limits.per_token,
                      token_id(token)) == 5
    finally:
        exact.registry["db.engine"].dispose()


def test_the_overshoot_of_several_workers_is_bounded(app, mypages_settings, token,
                                                     monkeypatch, still):
    """Each worker holds fewer than a batch the others do not know of: together they allow
    the limit and at most (batch - 1) more for every other worker, never less than the
    limit."""
    settings = {"mypages.api.rate_limit_per_token": "40/minute",
                "mypages.api.rate_limit_per_address": "100000/minute",
                "mypages.api.rate_limit_slack": "20"}
    limited(app, monkeypatch, per_token="40/minute", per_address="100000/minute")
    monkeypatch.setattr(app.registry["api.published"].rate_limits, "slack", 20)
    second = build_app({**mypages_settings, **settings}, migrate=False)
    try:
        batch = second.registry["api.published"].rate_limits.batch(
            second.registry["api.published"].rate_limits.per_token)
        assert batch == 8
        workers = [TestApp(each, extra_environ={"REMOTE_ADDR": "127.0.0.1",
                                                "HTTP_HOST": "localhost"})
                   for each in (app, second)]
        allowed = sum(workers[n % 2].get("/api/v1/company", headers=bearer(token),
                                         expect_errors=True).status_int == 200
                      for n in range(80))
        assert 40 <= allowed <= 40 + (batch - 1)
        for worker in workers:  # and past the limit every worker refuses, once it has synced
            for _ in range(batch):
                last = worker.get("/api/v1/company", headers=bearer(token), expect_errors=True)
            assert last.status_int == 429
    finally:
        second.registry["db.engine"].dispose()


def test_a_process_forgets_ended_windows(app, testapp, monkeypatch, still):
    limited(app, monkeypatch)
    rate_limits = app.registry["api.published"].rate_limits
    monkeypatch.setattr(rate_limits, "_forget_at", 3)
    for n in range(3):
        rate_limits.hit(f"192.0.2.{n}", None)
    still.shift(61)
    rate_limits.hit("192.0.2.9", None)
    assert list(rate_limits._tallies) == [rate_limits.per_address.key_for("192.0.2.9")]


def test_the_slack_setting_is_checked(mypages_settings):
    assert parse(mypages_settings).api.rate_limit_slack == 5
    with pytest.raises(InvalidSetting, match="rate_limit_slack"):
        parse({**mypages_settings, "mypages.api.rate_limit_slack": "50"})
