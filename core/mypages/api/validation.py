"""Requests and answers of the API checked against its OpenAPI document with openapi-core.

openapi-core reads requests and answers through small protocols; :class:`OpenApiRequest` and
:class:`OpenApiResponse` give it a WebOb request and answer. The operation is matched by
:class:`PathMatcher` from the document's path templates, so openapi-core is handed the
template (``path_pattern``) and the values of its placeholders.
"""
from __future__ import annotations

import re
from functools import cached_property

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from mypages.api.document import API_PREFIX


class OpenApiRequest:
    """A WebOb request as openapi-core reads one. Cookies are not passed: the API reads
    none. The parameters are copied only when openapi-core asks for them: a request
    :class:`Checked` has seen pass before is not read again."""

    def __init__(self, request, pattern: str, variables: dict):
        self._request = request
        self.variables = variables
        self.host_url = request.host_url
        self.path = request.path_info
        self.path_pattern = API_PREFIX + pattern
        self.method = request.method.lower()
        # the media type is case-insensitive, a multipart boundary is not
        media_type, semicolon, parameters = request.headers.get("Content-Type", "").partition(";")
        self.content_type = media_type.strip().lower() + semicolon + parameters
        self.body = request.body or None

    def header(self, name: str) -> str | None:
        return self._request.headers.get(name)

    @cached_property
    def parameters(self) -> RequestParameters:
        request = self._request
        return RequestParameters(
            query=ImmutableMultiDict(list(request.GET.items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(), path=self.variables)


class OpenApiResponse:
    def __init__(self, response):
        self.status_code = response.status_code
        self.content_type = (response.headers.get("Content-Type") or "").lower()
        self.headers = Headers(list(response.headers.items()))
        self.data = response.body


class PathMatcher:
    """The document's path templates, concrete paths before templated ones (as OpenAPI
    says), each placeholder one path segment."""

    def __init__(self, paths):
        def order(path):
            return (path.count("{"), path)

        self.patterns = [(re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)",
                                                  re.escape(path)) + "$"), path)
                         for path in sorted(paths, key=order)]

    def match(self, path: str) -> tuple[str, dict] | None:
        """(the template, its placeholders' values) of a path under /api/v1, or None."""
        for pattern, template in self.patterns:
            found = pattern.match(path)
            if found is not None:
                return template, found.groupdict()
        return None


def _text(data: bytes, **_parameters) -> str:
    return data.decode("utf-8")


def openapi_of(document: dict) -> OpenAPI:
    """openapi-core's view of the document; checks that the document is valid OpenAPI.
    CSV is text to it (a ``string`` in the document)."""
    return OpenAPI.from_dict(document, config=Config(
        extra_media_type_deserializers={"text/csv": _text}))


class MalformedBody(ValueError):
    """A body openapi-core cannot take apart."""


class Checked:
    """Requests and answers found valid, remembered: checking is a pure function of what
    openapi-core reads (the method, the path, the query, the body and its type, and the
    headers the operation declares as parameters; no cookie is passed), and it costs
    milliseconds, while a client that polls sends the same request and gets the same answer
    again and again. Only what passed is remembered, so anything wrong is always checked in
    full."""

    LIMIT = 10_000
    #: a larger body (an uploaded file) is not remembered: it is unlikely to come again, and
    #: ten thousand of them would not fit in memory
    MAX_REMEMBERED_BODY = 64 * 1024

    def __init__(self):
        self.requests: dict = {}
        self.answers: set = set()

    def _room(self, kept) -> None:
        if len(kept) >= self.LIMIT:
            kept.clear()

    def request(self, openapi: OpenAPI, request: OpenApiRequest, query_string: str,
                header_names: tuple[str, ...] = ()):
        """(the validated parameters and body, the errors) of a request; ``header_names``:
        the header parameters its operation declares, whose values are part of it."""
        key = (request.method, request.path_pattern, tuple(sorted(request.variables.items())),
               query_string, request.content_type, request.body,
               tuple(request.header(name) for name in header_names))
        found = self.requests.get(key)
        if found is not None:
            return found, []
        try:
            result = openapi.unmarshal_request(request)
        except AssertionError:
            # openapi-core asserts what a multipart body holds (a name to every part...)
            return None, [MalformedBody("The multipart/form-data body cannot be read: every "
                                        "part needs a Content-Disposition with a name.")]
        problems = list(result.errors)
        if not problems and len(request.body or b"") <= self.MAX_REMEMBERED_BODY:
            self._room(self.requests)
            self.requests[key] = result
        return result, problems

    def answer(self, openapi: OpenAPI, request: OpenApiRequest, response) -> list:
        """What is wrong with an answer, if anything."""
        key = (request.method, request.path_pattern, response.status_code,
               response.headers.get("Content-Type"), response.body)
        if key in self.answers:
            return []
        problems = list(openapi.iter_response_errors(request, OpenApiResponse(response)))
        if not problems:
            self._room(self.answers)
            self.answers.add(key)
        return problems


def describe(error) -> list[dict]:
    """What openapi-core found wrong, one entry a problem, in words for the caller."""
    found = []
    cause = error.__cause__ or error
    name = getattr(error, "name", None)
    where = f"{error.location}:{name}" if name and hasattr(error, "location") else ""
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        for schema_error in schema_errors:
            path = "/".join(str(part) for part in schema_error.absolute_path)
            found.append({"where": where or ("body" + (f"/{path}" if path else "")),
                          "detail": schema_error.message[:300]})
    else:
        found.append({"where": where or "request", "detail": str(cause)[:300] or
                      type(cause).__name__})
    return found
