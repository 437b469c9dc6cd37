"""Requests are made of one class built at start-up, with every request method on it,
rather than a new class per request, which remembers how its Cookie header was parsed."""
from __future__ import annotations

import pytest
from pyramid.request import Request
from webob import cookies as webob_cookies

from mypages.web.request_class import (
    LONGEST_REMEMBERED, _parsed_cookie_header, prepared_request_class)


def test_every_request_is_of_one_class_holding_the_request_methods(app, testapp):
    router = app.app  # inside LastResort
    seen = []
    original = router.invoke_request

    def remember(request, **kwargs):
        seen.append(request)
        return original(request, **kwargs)

    router.invoke_request = remember
    try:
        testapp.get("/login")
        testapp.get("/healthz")
    finally:
        del router.invoke_request
    first, second = seen
    assert type(first) is type(second) is router.request_factory
    assert router.request_extensions is None
    # the methods are the class's, so no request carries them as its own attributes
    assert "path_for" not in vars(first) and "translate" not in vars(first)
    assert first.path_for("login") == "/login"


def test_the_prepared_class_looks_up_adapters_as_its_base():
    prepared = prepared_request_class(Request, {"shout": lambda request: "HI"},
                                      {"answer": property(lambda request: 42)})
    request = prepared.blank("/")
    assert request.shout() == "HI" and request.answer == 42
    assert vars(prepared)["__implemented__"] is Request.__implemented__
    assert prepared.__name__ == "Request" and issubclass(prepared, Request)


@pytest.fixture
def prepared_request(app):
    """A request as the application's router makes them, sending a Cookie header."""
    def make(header: str):
        return app.app.request_factory.blank("/", headers={"Cookie": header})
    return make


@pytest.fixture
def parses(monkeypatch):
    """How many times WebOb parsed a Cookie header."""
    counted = []
    original = webob_cookies.parse_cookie

    def parse_cookie(data):
        counted.append(data)
        return original(data)

    monkeypatch.setattr(webob_cookies, "parse_cookie", parse_cookie)
    _parsed_cookie_header.cache_clear()
    yield counted
    _parsed_cookie_header.cache_clear()


def test_a_cookie_header_is_parsed_once_for_every_request_that_sends_it(parses, prepared_request):
    header = "mypages_session=abc; mypages_device=d%20e; other=\"quoted\""
    first, second = prepared_request(header), prepared_request(header)
    assert dict(first.cookies) == dict(second.cookies) == dict(Request.blank(
        "/", headers={"Cookie": header}).cookies)
    assert first.cookies["other"] == "quoted"
    assert len(parses) == 2  # once remembered, once by the plain request beside it


def test_a_cookie_changed_during_a_request_is_seen_and_changes_no_other_request(
        parses, prepared_request):
    header = "mypages_session=abc"
    request = prepared_request(header)
    request.cookies["later"] = "set"
    request.cookies["mypages_session"] = "changed"
    assert dict(request.cookies) == {"mypages_session": "changed", "later": "set"}
    assert dict(prepared_request(header).cookies) == {"mypages_session": "abc"}


def test_a_long_cookie_header_is_parsed_for_its_request_alone(parses, prepared_request):
    header = "big=" + "x" * LONGEST_REMEMBERED
    assert prepared_request(header).cookies["big"] == "x" * LONGEST_REMEMBERED
    assert prepared_request(header).cookies["big"] == "x" * LONGEST_REMEMBERED
    assert len(parses) == 2 and _parsed_cookie_header.cache_info().currsize == 0
