"""One request class for the application's life, built once with every request method.

Pyramid applies ``config.add_request_method`` extensions to each request as it arrives:
it sets every method on the instance and creates a new subclass of the request class
holding the properties, once per request. With the core's and the plugins' thirty-odd
extensions that is a class creation and forty ``setattr`` calls on every page, about a
twentieth of what a signed-in dashboard costs. :func:`with_prepared_requests` builds that
subclass once, after configuration is final, and lets the router make requests of it.

Requests made elsewhere (``pyramid.scripting.prepare`` in the CLI, WebTest's
``Request.blank``) still get the extensions the ordinary way: the registry is unchanged.

The prepared class also remembers how WebOb parsed a ``Cookie`` header: a browser sends
the same one on every page, and WebOb's parse of it cost a signed-in page about as much as
its one SELECT.
"""
from __future__ import annotations

from functools import lru_cache

from pyramid.router import Router
from webob.cookies import RequestCookies

_MARKER = object()
#: Cookie headers whose parse is remembered per process, and the longest remembered (a
#: session cookie and a device cookie make about 400 characters)
REMEMBERED_HEADERS = 1024
LONGEST_REMEMBERED = 2048
#: where WebOb keeps its parse of the header in the environ, with the header it parsed
_PARSED_COOKIES = RequestCookies._cache_key


@lru_cache(maxsize=REMEMBERED_HEADERS)
def _parsed_cookie_header(header: str) -> dict:
    return dict(RequestCookies({"HTTP_COOKIE": header}).items())  # WebOb's own parse


def _cookies(request) -> RequestCookies:
    """WebOb's ``request.cookies``, handed the remembered parse of its header: WebOb uses it
    only while the header is the one parsed, so a changed header is parsed anew."""
    environ = request.environ
    header = environ.get("HTTP_COOKIE")
    if header and len(header) <= LONGEST_REMEMBERED and _PARSED_COOKIES not in environ:
        # a copy: the remembered parse is every request's
        environ[_PARSED_COOKIES] = (dict(_parsed_cookie_header(header)), header)
    return RequestCookies(environ)


def prepared_request_class(base: type, methods: dict, descriptors: dict) -> type:
    """``base`` subclassed with ``methods`` and the property ``descriptors`` as class
    attributes: what Pyramid's ``apply_request_extensions`` makes of a request, as a class."""
    attributes = {**methods, **dict(descriptors), "__module__": base.__module__}
    prepared = type(base.__name__, (base,), attributes)
    # the subclass must look up adapters as its parent does (Pyramid does the same per request)
    for name in ("__implemented__", "__provides__"):
        value = getattr(base, name, _MARKER)
        if value is not _MARKER:
            setattr(prepared, name, value)
    return prepared


def with_prepared_requests(router: Router) -> Router:
    """Make ``router`` create requests of one prepared class instead of extending each,
    which remembers the parse of its ``Cookie`` header."""
    extensions = router.request_extensions
    methods, descriptors = ({}, {}) if extensions is None else (
        extensions.methods, extensions.descriptors)
    base = router.request_factory
    cookies = property(_cookies, base.cookies.fset, base.cookies.fdel, base.cookies.__doc__)
    router.request_factory = prepared_request_class(
        base, methods, {**descriptors, "cookies": cookies})
    router.request_extensions = None
    return router
