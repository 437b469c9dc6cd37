"""The development pages (``/_dev/``: the offline stand-ins' index and their pages of the
product's own look) in a real Chromium, at the widths and with the checks of
test_every_page.py: what a newcomer clicks through first with ``make run``."""
from __future__ import annotations

import pytest
from pyramid.paster import get_app

from mypages.testing.chromium import contexts
from mypages.testing.cli import OperatorCli
from mypages.testing.hostile import placeholders_of, routes_of
from mypages.testing.pages import VIEWPORTS, page_problems

pytestmark = pytest.mark.e2e


def test_every_development_page_fits_and_passes_axe(browser, dev_server, screenshots_folder):
    # the demo people, as make run seeds them: the sign-in page lists them
    OperatorCli(ini=dev_server.ini)("demo")
    app = get_app(str(dev_server.ini))
    patterns = {"/" + route.pattern.lstrip("/") for route in routes_of(app)
                if "GET" in route.methods}
    # the stand-ins' own protocol endpoints (an identity provider's) need a request of
    # that protocol: their pages are reached through the sign-in journeys of tests/e2e
    paths = sorted(p for p in patterns if p.startswith("/_dev/") and not placeholders_of(p))
    assert {"/_dev/", "/_dev/bankid/"} <= set(paths)
    shots = screenshots_folder / "every-dev-page"
    shots.mkdir(exist_ok=True)
    report, checked = [], 0
    with contexts(browser, dev_server) as make:
        page = make(viewport=VIEWPORTS["desktop"]).new_page()
        for path in ["/login", *paths]:
            response = page.goto(path)
            if path == "/login":
                assert page.locator("#demo-sign-ins tbody tr").count() == 3
            if "text/html" not in (response.headers.get("content-type", "") if response else ""):
                continue
            checked += 1
            for name, viewport in VIEWPORTS.items():
                page.set_viewport_size(viewport)
                report += [f"{path} ({name}): {problem}" for problem in page_problems(page)]
                slug = path.strip("/").replace("/", "_") or "root"
                page.screenshot(path=str(shots / f"{slug}-{name}.png"), full_page=True)
            page.set_viewport_size(VIEWPORTS["desktop"])
    assert checked > 2
    assert report == [], "\n".join(report)
