"""One request class for the application's life, built once with every request method.

Pyramid applies ``config.add_request_method`` extensions to each request as it arrives:
it sets every method on the instance and creates a new subclass of the request class
holding the properties, once per request. With the core's and the plugins' thirty-odd
extensions that is a class creation and forty ``setattr`` calls on every page, about a
twentieth of what a signed-in dashboard costs. :func:`with_prepared_requests` builds that
subclass once, after configuration is final, and lets the router make requests of it.

Requests made elsewhere (``pyramid.scripting.prepare`` in the CLI, WebTest's
``Request.blank``) still get the extensions the ordinary way: the registry is unchanged.
"""
from __future__ import annotations

from pyramid.router import Router

_MARKER = object()


def prepared_request_class(base: type, methods: dict, descriptors: list) -> type:
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
    """Make ``router`` create requests of one prepared class instead of extending each."""
    extensions = router.request_extensions
    if extensions is not None:
        router.request_factory = prepared_request_class(
            router.request_factory, extensions.methods, extensions.descriptors)
        router.request_extensions = None
    return router
