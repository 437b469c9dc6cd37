"""The one OpenAPI 3.1 document of the REST API, assembled from the core's operations and
those of every enabled plugin (the ``mypages_api`` hook), and what each operation needs.

An operation is an OpenAPI operation object plus what the core acts on: the view that
answers it, the scope a token needs, and the module it belongs to (a company whose module
is not entitled gets a problem instead). The document is the router too: a request is
matched to its operation, and validated, with openapi-core against this document.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Callable

from pyramid.i18n import TranslationString

from mypages.i18n import _

API_PREFIX = "/api/v1"
SCOPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}:(read|write)$")
OPERATION_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,63}$")
NAME_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{1,63}$")
METHODS = ("get", "post", "put", "patch", "delete")
#: every list answers pages of at most this many items; ``limit`` picks fewer
MAX_PAGE = 200
DEFAULT_PAGE = 50

#: the problems every operation may answer, besides its own success
COMMON_PROBLEMS = {
    400: "The request does not match the API's description (the problem's errors say where).",
    401: "No token, or one that is unknown, expired or revoked.",
    403: "The token lacks the operation's scope, or the company's module is not active.",
    404: "There is no such resource in the token's company.",
    406: "None of the media types the Accept header asks for can be given.",
    429: "Too many requests: wait for as many seconds as Retry-After says.",
}

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "A problem (RFC 9457). ``type`` is stable; ``title`` is translated "
                   "(Accept-Language).",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["detail"],
            "properties": {"where": {"type": "string"}, "detail": {"type": "string"}}}},
    },
}


@dataclass(frozen=True)
class Listing:
    """What makes an operation a list: its items' schema, the CSV columns (the items'
    properties, in order), and the property the items are ordered by (unique)."""

    item: str
    columns: tuple[str, ...]
    order_by: str = "id"


@dataclass(frozen=True)
class ApiOperation:
    """One operation of the API, as registered by the core or a plugin."""

    method: str
    path: str
    operation_id: str
    view: Callable
    scope: str
    module: str | None
    spec: dict
    status: int = 200
    listing: Listing | None = None
    csv: bool = False  # the ``.csv`` twin of a list: CSV whatever Accept says
    owner: str = "core"

    @property
    def header_names(self) -> tuple[str, ...]:
        """The headers the operation declares as parameters."""
        return tuple(parameter["name"] for parameter in self.spec.get("parameters", ())
                     if parameter.get("in") == "header")


class ApiDefinitionError(ValueError):
    """An operation, schema or scope that cannot go into the document."""


@dataclass
class ApiBuilder:
    """What the ``mypages_api(api)`` hook is given: add the plugin's scopes, schemas and
    operations. Schemas are OpenAPI 3.1 (JSON Schema) objects; refer to one of yours, or to
    the core's ``Problem``, as ``{"$ref": "#/components/schemas/Name"}``."""

    scopes: dict[str, TranslationString] = field(default_factory=dict)
    schemas: dict[str, dict] = field(default_factory=dict)
    operations: list[ApiOperation] = field(default_factory=list)
    owner: str = "core"

    def add_scope(self, name: str, description: TranslationString) -> None:
        """A scope a token may be given, ``area:read`` or ``area:write``."""
        if not SCOPE_PATTERN.match(name):
            raise ApiDefinitionError(f"scope {name!r} is not area:read or area:write")
        if name in self.scopes:
            raise ApiDefinitionError(f"scope {name!r} is already defined")
        self.scopes[name] = description

    def add_schema(self, name: str, schema: dict) -> None:
        """A schema of ``components/schemas``, for ``$ref`` s and list items."""
        if not NAME_PATTERN.match(name):
            raise ApiDefinitionError(f"schema name {name!r} is not CamelCase letters and digits")
        if name in self.schemas:
            raise ApiDefinitionError(f"schema {name!r} is already defined")
        self.schemas[name] = copy.deepcopy(schema)

    def add_operation(self, method: str, path: str, view: Callable, *, operation_id: str,
                      scope: str, summary: str, module: str | None = None,
                      description: str = "", parameters: list | tuple = (),
                      request_body: dict | None = None, response: dict | None = None,
                      status: int = 200, tags: tuple[str, ...] = (),
                      links: dict | None = None,
                      request_media_type: str = "application/json") -> None:
        """An operation: ``view(call)`` gets an :class:`~mypages.api.calls.ApiCall` and returns
        what ``response`` (a schema) describes, answered as JSON with ``status``; ``None``
        with status 204. ``request_body`` is the schema of the body, JSON unless
        ``request_media_type`` says otherwise (``multipart/form-data`` for files: the view
        reads a file part from ``call.request.POST``); ``parameters`` are
        OpenAPI parameter objects (path parameters are added for the path's placeholders
        unless given); ``links`` are OpenAPI links of the answer to other operations. The
        request is validated before the view sees it, the answer after."""
        method = method.lower()
        if method not in METHODS:
            raise ApiDefinitionError(f"{operation_id}: method {method!r} is not one of {METHODS}")
        parameters = _with_path_parameters(path, parameters)
        success: dict = {"description": summary}
        if response is not None:
            success["content"] = {"application/json": {"schema": response}}
        if links:
            success["links"] = copy.deepcopy(links)
        spec = {"summary": summary, "parameters": parameters,
                "responses": {str(status): success}}
        if description:
            spec["description"] = description
        if tags:
            spec["tags"] = list(tags)
        if request_body is not None:
            spec["requestBody"] = {"required": True, "content": {
                request_media_type: {"schema": request_body}}}
        self._add(ApiOperation(method, path, operation_id, view, scope, module, spec, status))

    def add_list(self, path: str, view: Callable, *, operation_id: str, scope: str,
                 summary: str, item: str, columns: tuple[str, ...], order_by: str = "id",
                 module: str | None = None, description: str = "",
                 tags: tuple[str, ...] = (), parameters: list | tuple = ()) -> None:
        """A list, paged with cursors, answered as JSON or as CSV with the same ``columns``
        (the properties of the schema ``item``, which must be of plain values), when asked
        by the Accept header or by the path's ``.csv`` twin (added for you). ``parameters``
        are more OpenAPI parameter objects (a date range in the query, say; path
        parameters are added for the path's placeholders unless given), kept in the next
        page's link; the view reads them in ``call.query``.

        ``view(call)`` returns at most ``call.page.fetch`` items ordered by ``order_by``
        (a unique property), each greater than ``call.page.after`` unless that is None."""
        if item not in self.schemas:
            raise ApiDefinitionError(f"{operation_id}: add the schema {item!r} first")
        properties = self.schemas[item].get("properties", {})
        missing = [name for name in (*columns, order_by) if name not in properties]
        if missing:
            raise ApiDefinitionError(f"{operation_id}: {item} has no properties {missing}")
        listing = Listing(item, tuple(columns), order_by)
        parameters = _with_path_parameters(path, parameters) + [
            {"name": "limit", "in": "query", "required": False,
             "description": f"How many items a page holds (default {DEFAULT_PAGE}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
            {"name": "cursor", "in": "query", "required": False,
             "description": "The ``next_cursor`` of the page before; opaque.",
             "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                        "maxLength": 500}},
        ]
        page = {"type": "object", "required": ["items", "next_cursor"],
                "properties": {"items": {"type": "array",
                                         "items": {"$ref": f"#/components/schemas/{item}"}},
                               "next_cursor": {"type": ["string", "null"]}}}
        csv = {"schema": {"type": "string"}}
        link = {"Link": {"description": "The next page, ``rel=\"next\"``.",
                         "schema": {"type": "string"}}}
        for twin, content in ((False, {"application/json": {"schema": page}, "text/csv": csv}),
                              (True, {"text/csv": csv})):
            spec = {"summary": summary, "parameters": parameters,
                    "responses": {"200": {"description": summary, "content": content,
                                          "headers": link}}}
            if description:
                spec["description"] = description
            if tags:
                spec["tags"] = list(tags)
            self._add(ApiOperation("get", path + (".csv" if twin else ""),
                                   operation_id + ("Csv" if twin else ""), view, scope, module,
                                   spec, 200, listing, csv=twin))

    def _add(self, operation: ApiOperation) -> None:
        if not OPERATION_ID.match(operation.operation_id):
            raise ApiDefinitionError(f"operation id {operation.operation_id!r} is not letters, "
                                     "digits and underscores")
        if not operation.path.startswith("/") or operation.path.startswith(("/openapi",
                                                                            "/reference")):
            raise ApiDefinitionError(f"{operation.operation_id}: path {operation.path!r} must "
                                     "start with / and not with /openapi or /reference")
        if not SCOPE_PATTERN.match(operation.scope):
            raise ApiDefinitionError(f"{operation.operation_id}: scope {operation.scope!r} is "
                                     "not area:read or area:write")
        for known in self.operations:
            if known.operation_id == operation.operation_id:
                raise ApiDefinitionError(f"operation id {operation.operation_id!r} is taken "
                                         f"by {known.owner}")
            if (known.path, known.method) == (operation.path, operation.method):
                raise ApiDefinitionError(f"{operation.method.upper()} {operation.path} is "
                                         f"already an operation of {known.owner}")
        self.operations.append(_owned(operation, self.owner))


def _with_path_parameters(path: str, parameters) -> list:
    """``parameters`` and a string parameter for each placeholder of ``path`` not in them."""
    parameters = list(parameters)
    given = {p["name"] for p in parameters if p.get("in") == "path"}
    for name in re.findall(r"\{(\w+)\}", path):
        if name not in given:
            parameters.append({"name": name, "in": "path", "required": True,
                               "schema": {"type": "string", "maxLength": 200}})
    return parameters


def _owned(operation: ApiOperation, owner: str) -> ApiOperation:
    return ApiOperation(**{**operation.__dict__, "owner": owner})


def _problem_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}}


def build_document(builder: ApiBuilder, translate: Callable[[object], str] = str,
                   server: str = API_PREFIX) -> dict:
    """The OpenAPI document of everything ``builder`` holds, its texts through
    ``translate``."""
    paths: dict[str, dict] = {}
    for operation in builder.operations:
        spec = copy.deepcopy(operation.spec)
        spec["summary"] = translate(spec["summary"])
        if "description" in spec:
            spec["description"] = translate(spec["description"])
        for response in spec["responses"].values():
            response["description"] = translate(response["description"])
        spec["operationId"] = operation.operation_id
        spec["security"] = [{"token": [operation.scope]}]
        spec["x-mypages-scope"] = operation.scope
        if operation.module is not None:
            spec["x-mypages-module"] = operation.module
        for status, text in COMMON_PROBLEMS.items():
            spec["responses"].setdefault(str(status), _problem_response(text))
        if operation.method != "get":
            spec["responses"].setdefault("409", _problem_response(
                "The change conflicts with the resource's state (the detail says how)."))
        if "requestBody" in spec:
            spec["responses"].setdefault("415", _problem_response(
                "The body is not of the media type the operation takes (see requestBody)."))
        spec["responses"][str(429)]["headers"] = {"Retry-After": {
            "description": "Seconds until the limit allows requests again.", "required": True,
            "schema": {"type": "string"}}}
        paths.setdefault(operation.path, {})[operation.method] = spec
    scopes = {name: translate(text) for name, text in sorted(builder.scopes.items())}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mypages API",
            "version": "1",
            "description": translate(_(
                "The REST API of the company portal. Every request carries a company API "
                "token (Authorization: Bearer mp_...) and acts for that token's company only. "
                "Errors are problem details (RFC 9457).")),
        },
        "servers": [{"url": server}],
        "security": [{"token": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"token": {
                "type": "http", "scheme": "bearer", "bearerFormat": "mp_<id>_<secret>",
                "description": translate(_("A company API token, made by a company admin "
                                           "under Company settings > API.")),
            }},
            "schemas": {"Problem": PROBLEM_SCHEMA, **dict(sorted(builder.schemas.items()))},
        },
        "x-mypages-scopes": scopes,
    }
