"""``/healthz`` and ``/readyz``: no session, no sign-in, and never cached.

The page is read by operators in their language, chosen from the language cookie and the
browser's, never from the signed-in account: that would need the database, whose trouble
the page may be reporting.
"""
from __future__ import annotations

from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config

from mypages.health import DOWN, NAMES, OK, STATUS_WORDS, english, readiness
from mypages.i18n import LOCALE_COOKIE, browser_locale, supported

JSON = "application/json"


def wants_json(request) -> bool:
    if request.GET.get("format") == "json":
        return True
    offers = request.accept.acceptable_offers(["text/html", JSON])
    return bool(offers) and offers[0][0] == JSON  # a tie goes to the page


def page_locale(request) -> str:
    return supported(request.cookies.get(LOCALE_COOKIE)) or browser_locale(request)


def _uncached(response: Response) -> Response:
    response.cache_control = "no-store"
    return response


@view_config(route_name="healthz", request_method=("GET", "HEAD"))
def healthz(request):
    """The process answers: nothing else is touched."""
    if wants_json(request):
        return _uncached(Response(json={"status": OK}))
    return _uncached(Response("ok\n", content_type="text/plain", charset="utf-8"))


@view_config(route_name="readyz", request_method=("GET", "HEAD"))
def readyz(request):
    report = readiness(request.registry)
    status = 200 if report.ready else 503
    if wants_json(request):
        response = Response(json=report.as_json(english(request.registry)), status=status)
        return _uncached(response)
    request.locale_name = page_locale(request)  # before the localizer is first made
    response = render_to_response("mypages:templates/health.jinja2", {
        "report": report, "names": NAMES, "status_words": STATUS_WORDS, "DOWN": DOWN,
    }, request=request)
    response.status = status
    return _uncached(response)
