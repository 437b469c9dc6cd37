"""Unexpected errors: a styled, translated page with a reference id that is also in the log.

Three layers, each for what the one inside it cannot answer:

* the exception view for ``Exception`` (``web.views.unexpected``) renders the site's error
  page; Pyramid's excview tween calls it under pyramid_tm, which then aborts the transaction,
  and pyramid_tm calls it too when the commit itself fails;
* if rendering that page fails as well (the database is gone, say), the view answers with
  :func:`plain_page`: no template, no database;
* :class:`LastResort` wraps the WSGI application for what escapes Pyramid's tweens (response
  callbacks, for one) and answers with the same plain page.

Every answer carries the security headers (:func:`mypages.web.security_headers`); the user
never sees the exception's text, only the reference; the log line has the reference and
the traceback, never the query string or form (they may hold tokens and passwords).
"""
from __future__ import annotations

import logging
import sys
import uuid

from markupsafe import Markup, escape
from webob import Request, Response

from mypages.i18n import _, localizer_for, negotiate_locale
from mypages.web.headers import security_headers

log = logging.getLogger("mypages.errors")

TITLE = _("Something went wrong")
MESSAGE = _("An unexpected error stopped this page, and nothing you sent was saved. Try again "
            "in a moment. If it happens again, tell your support the reference below.")
REFERENCE = _("Reference")
START_PAGE = _("Go to the start page")


def new_reference() -> str:
    """A short id that tells one error from another, in the page and in the log."""
    return uuid.uuid4().hex[:12]


def where(request) -> str:
    """The request as the log line names it: the method and the route, not the raw path
    (a reset link's path is a secret)."""
    route = getattr(request, "matched_route", None)
    return f"{request.method} {route.name if route is not None else '(no route)'}"


def log_error(reference: str, request_line: str, exc_info) -> None:
    log.error("Unexpected error, reference %s, in %s", reference, request_line, exc_info=exc_info)


def plain_page(registry, request, reference: str) -> Response:
    """The error page without templates or the database: for when those failed too."""
    try:
        locale = negotiate_locale(request)
    except Exception:  # a cookie or header that cannot be read: the default language
        locale = None
    localizer = localizer_for(registry, locale)
    tr = localizer.translate
    script_name = escape(request.script_name)
    body = Markup(
        '<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>{title}</title>\n<link rel="stylesheet" href="{root}/static/mypages.css">\n'
        '</head>\n<body>\n<main id="main">\n<section class="card narrow">\n<h1>{title}</h1>\n'
        '<p role="alert">{message}</p>\n'
        '<p>{reference_label}: <code id="error-reference">{reference}</code></p>\n'
        '<p><a href="{root}/">{start}</a></p>\n</section>\n</main>\n</body>\n</html>\n'
    ).format(lang=localizer.locale_name, title=tr(TITLE), message=tr(MESSAGE),
             reference_label=tr(REFERENCE), reference=reference, root=script_name,
             start=tr(START_PAGE))
    response = Response(str(body), status=500, content_type="text/html", charset="utf-8")
    security_headers(response, registry, signed_in=True)
    return response


class LastResort:
    """WSGI middleware: an error that escaped Pyramid altogether gets :func:`plain_page`.

    Everything else about the application (``registry``...) is the wrapped one's.
    """

    def __init__(self, app):
        self.app = app
        self.registry = app.registry

    def __getattr__(self, name):
        return getattr(self.app, name)

    def __call__(self, environ, start_response):
        try:
            return self.app(environ, start_response)
        except Exception:
            exc_info = sys.exc_info()
            reference = new_reference()
            request = Request(environ)
            log_error(reference, f"{request.method} (outside the views)", exc_info)
            response = plain_page(self.registry, request, reference)
            # with exc_info: if the answer had begun, the server re-raises and drops it
            start_response(response.status, response.headerlist, exc_info)
            return [response.body]
