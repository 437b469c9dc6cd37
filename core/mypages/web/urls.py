"""Addresses of the portal's pages outside a request: for e-mail sent by a job."""
from __future__ import annotations

from urllib.parse import quote

from pyramid.encode import urlencode
from pyramid.interfaces import IRoutesMapper

from mypages.services import registry_of, settings_of


def route_path(where, route_name: str, **placeholders) -> str:
    """The path of the route ``route_name`` (``/c/7/notes``), with its ``{placeholders}``
    filled in: what ``request.route_path`` gives, where there is no request. Raises
    :class:`KeyError` for a route nobody added."""
    mapper = registry_of(where).queryUtility(IRoutesMapper)
    route = mapper.get_route(route_name) if mapper is not None else None
    if route is None:
        raise KeyError(f"no route named {route_name!r}")
    return route.generate({name: str(value) for name, value in placeholders.items()})


def absolute_url(where, route_name: str, *, _query: dict | None = None,
                 _anchor: str | None = None, **placeholders) -> str:
    """The full address of the route ``route_name`` under ``mypages.base_url``, with its
    ``{placeholders}`` filled in (``company_id=7``): what ``request.route_url`` gives in a
    request, where there is none (a job, the command line). ``where`` is the registry, a
    request, or a job's or an event's context. Raises :class:`KeyError` for a route nobody
    added."""
    url = settings_of(where).url(route_path(where, route_name, **placeholders))
    if _query:
        url += "?" + urlencode(_query, doseq=True)
    if _anchor:
        url += "#" + quote(_anchor, safe="/?:@!$&'()*+,;=")
    return url
