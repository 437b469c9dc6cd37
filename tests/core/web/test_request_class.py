"""Requests are made of one class built at start-up, with every request method on it,
rather than a new class per request."""
from __future__ import annotations

from pyramid.request import Request

from mypages.web.request_class import prepared_request_class


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
                                      [("answer", property(lambda request: 42))])
    request = prepared.blank("/")
    assert request.shout() == "HI" and request.answer == 42
    assert vars(prepared)["__implemented__"] is Request.__implemented__
    assert prepared.__name__ == "Request" and issubclass(prepared, Request)
