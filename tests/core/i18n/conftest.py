"""Fixtures of the i18n tests."""
from __future__ import annotations

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare


@pytest.fixture
def request_in(app):
    """``request_in("en")``: a real request through the app's request factory and extensions."""
    closers = []

    def make(accept_language: str):
        env = prepare(request=Request.blank("/", headers={"Accept-Language": accept_language}),
                      registry=app.registry)
        closers.append(env["closer"])
        return env["request"]

    yield make
    for close in reversed(closers):
        close()
