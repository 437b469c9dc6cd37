"""The REST API's OpenAPI document for Schemathesis, as the application serves it.

Needs the test extra (schemathesis)."""
from __future__ import annotations

import dataclasses

import schemathesis

from mypages.api.ratelimit import RateLimits
from mypages.services import SETTINGS_KEY, settings_of


def served_schema(app, token: str):
    """The document at ``/api/v1/openapi.json`` of ``app``, every call made with ``token``
    as its bearer token (so the check that an API refuses calls without it knows what it
    is). Narrow it with ``.include(tag=...)`` or ``.include(path_regex=...)``."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    @schema.auth()
    class Token:
        def get(self, case, context):
            return token

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return schema


def lift_rate_limits(app, monkeypatch) -> None:
    """Raise the API's rate limits of ``app`` out of a test run's reach until the test ends
    (a Schemathesis run makes thousands of calls with one token)."""
    settings = settings_of(app)
    monkeypatch.setitem(app.registry, SETTINGS_KEY, dataclasses.replace(
        settings, api=dataclasses.replace(settings.api, rate_limit_per_token="100000/minute",
                                          rate_limit_per_address="100000/minute")))
    monkeypatch.setattr(app.registry["api.published"], "rate_limits", RateLimits(app.registry))
