"""``request.path_for`` (mypages.web): ``request.route_path`` remembered, query strings
included, under an application mounted below a prefix too."""
from __future__ import annotations

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare


@pytest.mark.parametrize("script_name", ["", "/portal", "/p%C3%B6rtal"])
@pytest.mark.parametrize("arguments", [
    {},
    {"_query": {"series": 7, "range": "10y"}},
    {"_query": [("a", "1"), ("a", "2 & 3")]},
    {"_query": "ready made=yes"},
    {"_query": {}},
    {"_anchor": "top"},
])
def test_it_makes_the_path_route_path_makes(app, script_name, arguments):
    env = prepare(request=Request.blank("/", base_url=f"http://localhost{script_name}"),
                  registry=app.registry)
    try:
        request = env["request"]
        expected = request.route_path("dashboard", company_id=12, **dict(arguments))
        assert request.path_for("dashboard", company_id=12, **dict(arguments)) == expected
        # and again, from what it remembered
        assert request.path_for("dashboard", company_id=12, **dict(arguments)) == expected
    finally:
        env["closer"]()
