"""Errors of the REST API: problem details (RFC 9457), ``application/problem+json``.

``type`` is a stable URN per kind of problem (``urn:mypages:problem:<code>``, listed in the
API reference), ``title`` is translated into the caller's language (Accept-Language),
``detail`` says more where there is more to say, and ``errors`` lists what is wrong with
the request, one entry a problem, where the API's description found several.
"""
from __future__ import annotations

import json

from pyramid.i18n import TranslationString
from webob import Response

from mypages.i18n import _, localizer_for, supported

PROBLEM_TYPE = "urn:mypages:problem:"
PROBLEM_JSON = "application/problem+json"

#: code -> (status, title): every problem the core answers with
PROBLEMS: dict[str, tuple[int, TranslationString]] = {
    "bad-request": (400, _("The request does not match the API's description")),
    "invalid-input": (400, _("The request cannot be used")),
    "invalid-cursor": (400, _("The cursor is not valid")),
    "refused": (409, _("This cannot be done")),
    "unauthorized": (401, _("A valid API token is needed")),
    "insufficient-scope": (403, _("The token does not have the scope this needs")),
    "module-not-active": (403, _("The module is not active for this company")),
    "not-found": (404, _("Not found")),
    "method-not-allowed": (405, _("This method is not allowed here")),
    "not-acceptable": (406, _("The answer cannot be given in any media type asked for")),
    "unsupported-media-type": (415, _("The body is not of the media type this operation takes")),
    "too-many-requests": (429, _("Too many requests")),
    "server-error": (500, _("Something went wrong")),
}


class ApiProblem(Exception):
    """Raise it in an API view to answer with a problem: ``code`` is one of
    :data:`PROBLEMS` or a code of your own with ``status`` and ``title``."""

    def __init__(self, code: str, detail: TranslationString | str | None = None, *,
                 status: int | None = None, title: TranslationString | None = None,
                 errors: list[dict] | None = None, headers: dict | None = None):
        super().__init__(code)
        known_status, known_title = PROBLEMS.get(code, (400, _("This cannot be done")))
        self.code = code
        self.status = status or known_status
        self.title = title or known_title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


def api_locale(request) -> str:
    """The caller's language: Accept-Language first (no cookie is read on the API), then
    the token company's, then the installation's default."""
    parsed = getattr(request.accept_language, "parsed", None) or ()
    for tag, quality in sorted(parsed, key=lambda pair: -pair[1]):
        if quality > 0 and (code := supported(tag)):
            return code
    context = getattr(request, "context", None)
    company = getattr(context, "company", None)
    return supported(getattr(company, "default_locale", None)) or "sv"


def api_localizer(request):
    return localizer_for(request.registry, api_locale(request))


def problem_response(request, problem: ApiProblem) -> Response:
    localizer = api_localizer(request)
    body = {"type": PROBLEM_TYPE + problem.code, "title": localizer.translate(problem.title),
            "status": problem.status}
    if problem.detail is not None:
        body["detail"] = localizer.translate(problem.detail)
    if problem.errors:
        body["errors"] = problem.errors
    response = Response(json.dumps(body, ensure_ascii=False), status=problem.status,
                        content_type=PROBLEM_JSON, charset="utf-8")
    response.headers["Content-Language"] = localizer.locale_name
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(problem.headers)
    return response
