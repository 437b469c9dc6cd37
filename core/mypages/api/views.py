"""The API's one view for every operation, the document, the reference, and the problems
for whatever else goes wrong under /api/.

An operation's call goes: the address's rate limit; the operation, matched from the
document's paths (404, 405); the token (401) and its rate limit (429); the scope (403);
the module (403 once the company's trial has ended); the request against the document
(400, 415); content negotiation (406); the view; the answer against the document.
"""
from __future__ import annotations

import json
import logging
import sys
from urllib.parse import urlencode

from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from webob import Response

from mypages.api.calls import ApiCall, Page, csv_text, decode_cursor, encode_cursor
from mypages.api.document import DEFAULT_PAGE, ApiOperation
from mypages.api.problems import ApiProblem, api_localizer, problem_response
from mypages.api.ratelimit import headers as rate_limit_headers
from mypages.api.tokens import note_use
from mypages.api.validation import OpenApiRequest, describe
from mypages.db import fresh_transaction
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.services import clock
from mypages.web import errors

log = logging.getLogger("mypages.api")

JSON = "application/json"
CSV = "text/csv"


def bearer(request) -> str | None:
    scheme, _space, value = (request.headers.get("Authorization") or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


def _negotiate(request, operation: ApiOperation) -> str:
    if operation.csv:
        return CSV
    offered = [JSON, CSV] if operation.listing is not None else [JSON]
    if "Accept" not in request.headers:
        return JSON
    acceptable = request.accept.acceptable_offers(offered)
    chosen = acceptable[0][0] if acceptable else None
    if chosen is None:
        raise ApiProblem("not-acceptable", _("Ask for ${types}.",
                                             mapping={"types": " or ".join(offered)}))
    return chosen


def _page(request, operation: ApiOperation, query: dict) -> Page:
    cursor = query.get("cursor")
    after = decode_cursor(request.registry, operation.operation_id, cursor) if cursor else None
    return Page(after, query.get("limit") or DEFAULT_PAGE)


def _answer(request, call: ApiCall, media_type: str, result) -> Response:
    operation = call.operation
    if operation.listing is None:
        if result is None:
            return Response(status=204)
        return Response(json.dumps(result, ensure_ascii=False), status=operation.status,
                        content_type=JSON, charset="utf-8")
    listing, page = operation.listing, call.page
    items = [{column: item.get(column) for column in listing.columns}
             for item in result[:page.limit]]
    next_cursor = None
    if len(result) > page.limit and items:
        next_cursor = encode_cursor(request.registry, operation.operation_id,
                                    items[-1][listing.order_by])
    if media_type == CSV:
        response = Response(csv_text(listing.columns, items), content_type=CSV, charset="utf-8")
    else:
        response = Response(json.dumps({"items": items, "next_cursor": next_cursor},
                                       ensure_ascii=False), content_type=JSON, charset="utf-8")
    if next_cursor is not None:
        query = {key: value for key, value in request.GET.items() if key != "cursor"}
        query["cursor"] = next_cursor
        response.headers["Link"] = f'<{request.path_url}?{urlencode(query)}>; rel="next"'
    return response


def _call(request, api, standings: list) -> Response:
    match = api.matcher.match(request.path_info.removeprefix(api.prefix))
    if match is None:
        raise ApiProblem("not-found")
    template, variables = match
    operation = api.operations.get((template, request.method.lower()))
    if operation is None:
        allowed = ", ".join(sorted(method.upper() for path, method in api.operations
                                   if path == template))
        raise ApiProblem("method-not-allowed", headers={"Allow": allowed})
    auth = request.api_auth
    if auth is None:
        raise ApiProblem("unauthorized", _("Send a company API token: Authorization: Bearer "
                                           "mp_..."),
                         headers={"WWW-Authenticate": 'Bearer realm="mypages"'})
    if not request.has_permission(operation.scope):
        raise ApiProblem("insufficient-scope", _("This needs the scope ${scope}.",
                                                 mapping={"scope": operation.scope}))
    if operation.module is not None and operation.module not in auth.entitled_modules:
        raise ApiProblem("module-not-active", _(
            "The module \"${module}\" is not active for this company. An admin can activate "
            "it under Company settings.", mapping={"module": operation.module}))
    note_use(request.registry, auth.token, clock(request).now())
    checked = OpenApiRequest(request, template, variables)
    result, problems = api.checked.request(api.openapi, checked,
                                           request.environ.get("QUERY_STRING", ""),
                                           operation.header_names)
    if problems:
        found = [entry for problem in problems for entry in describe(problem)]
        media = any(isinstance(problem.__cause__, MediaTypeNotFound) for problem in problems)
        raise ApiProblem("unsupported-media-type" if media else "bad-request", errors=found)
    media_type = _negotiate(request, operation)
    query = dict(result.parameters.query)
    page = _page(request, operation, query) if operation.listing is not None else None
    call = ApiCall(request, operation, auth, query, dict(result.parameters.path), result.body,
                   page)
    response = _answer(request, call, media_type, operation.view(call))
    wrong = api.checked.answer(api.openapi, checked, response)
    if wrong:
        raise AnswerBreaksDocument(operation.operation_id, wrong)
    return response


class AnswerBreaksDocument(Exception):
    """An answer the document does not describe: a fault of the API's own."""

    def __init__(self, operation_id: str, problems: list):
        super().__init__(f"the answer of {operation_id} breaks the API document: "
                         + "; ".join(repr(p.__cause__ or p) for p in problems)[:2000])


def _finish(request, response: Response, standings: list) -> Response:
    response.headers.update(rate_limit_headers(standings))
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("Content-Language", api_localizer(request).locale_name)
    return response


@view_config(route_name="api", require_csrf=False, accept_files=True)
def api_call(request):
    """Every operation of the document. No CSRF token: the API takes no cookie, only the
    token in the Authorization header, which a browser never adds on its own. Files are
    taken where the operation's body is ``multipart/form-data``; the document refuses a
    body of another media type (415)."""
    api = request.registry["api.published"]
    # counted before anything else is said: past the address's limit a guessed token gets
    # the same 429 whether it is good or not
    auth = request.api_auth
    standings = api.rate_limits.hit(request.client_addr,
                                    auth.token.id if auth is not None else None)
    try:
        if not all(standing.allowed for standing in standings):
            raise ApiProblem("too-many-requests")
        response = _call(request, api, standings)
    except ApiProblem as problem:
        fresh_transaction(request)
        response = problem_response(request, problem)
    except Refusal as refusal:
        fresh_transaction(request)
        if refusal.audit_event is not None:
            action, details = refusal.audit_event
            request.audit_now(action, company=request.api_auth.company, **details)
        messages = refusal.messages
        # the request was good, the state of what it would change refuses it: a conflict
        response = problem_response(request, ApiProblem(
            refusal.code, messages[0] if len(messages) == 1 else " ".join(map(
                api_localizer(request).translate, messages)),
            status=409 if refusal.status == 400 else refusal.status, title=refusal.title))
    return _finish(request, response, standings)


@view_config(route_name="api_document", request_method="GET")
def document(request):
    """The OpenAPI document, its texts in the caller's language."""
    api = request.registry["api.published"]
    body = api.served(api_localizer(request), request.script_name)
    response = Response(body, content_type=JSON, charset="utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"  # a public description
    return response


@view_config(route_name="api_reference", request_method="GET",
             renderer="mypages:templates/api_reference.jinja2")
def reference(request):
    """The human-readable reference, from the same document."""
    api = request.registry["api.published"]
    return {"document": json.loads(api.served(api_localizer(request), request.script_name)),
            "problems": api.problem_table(api_localizer(request))}


class ApiRequestPredicate:
    """View predicate ``api_request=True``: the request is under /api/ (its errors are
    problems, not pages)."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"api_request = {self.value}"

    phash = text

    def __call__(self, context, request):
        return is_api_request(request) == self.value


def is_api_request(request) -> bool:
    # the raw PATH_INFO: decoding it fails on a path that is not UTF-8, which is refused
    return request.environ.get("PATH_INFO", "").startswith("/api/")


@view_config(context=HTTPNotFound, api_request=True)
def api_not_found(request):
    return _finish(request, problem_response(request, ApiProblem("not-found")), [])


@view_config(context=Refusal, api_request=True)
def api_refused(refusal, request):
    """Refused before any view (the input's checks): a problem, not a page."""
    fresh_transaction(request)
    return _finish(request, problem_response(request, ApiProblem(
        refusal.code, refusal.messages[0], status=refusal.status, title=refusal.title)), [])


@view_config(context=Exception, api_request=True)
def api_unexpected(exc, request):
    """A fault of ours: logged with a reference, answered with only the reference."""
    reference = errors.new_reference()
    errors.log_error(reference, errors.where(request), request.exc_info or sys.exc_info())
    return _finish(request, problem_response(request, ApiProblem(
        "server-error", _("Tell your support this reference: ${reference}",
                          mapping={"reference": reference}))), [])
