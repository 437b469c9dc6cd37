"""``request.path_for`` (mypages.web): ``request.route_path`` remembered, query strings
included, under an application mounted below a prefix too; the layout's links; ``request.here``."""
from __future__ import annotations

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare

from mypages.web import LAYOUT_FILES, LAYOUT_ROUTES, here


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


@pytest.mark.parametrize("address", [
    "/login",
    "/login?next=%2Fc%2F1%2F&x=a+b",
    "/c/1/notes/%C3%A5r%20ett",
    "/portal/c/1/?q=%E2%82%AC",
    "/c/1/?" + "long=" + "x" * 600,
])
def test_here_is_the_path_and_query_webob_gives(app, address):
    path, _, query = address.partition("?")
    base = "http://localhost/portal" if path.startswith("/portal") else "http://localhost"
    blank = Request.blank(path.removeprefix("/portal") + ("?" + query if query else ""),
                          base_url=base)
    env = prepare(request=blank, registry=app.registry)
    try:
        assert env["request"].here == blank.path_qs
        assert here(env["request"]) == blank.path_qs  # and again, remembered or not
    finally:
        env["closer"]()


@pytest.mark.parametrize("script_name", ["", "/portal"])
def test_the_layouts_links_are_the_paths_route_path_and_static_path_make(app, script_name):
    env = prepare(request=Request.blank("/", base_url=f"http://localhost{script_name}"),
                  registry=app.registry)
    try:
        request = env["request"]
        assert request.layout_links == {
            **{name: request.route_path(name) for name in LAYOUT_ROUTES},
            **{spec: request.static_path(spec) for spec in LAYOUT_FILES}}
    finally:
        env["closer"]()
