"""Routes that fail, for the error-page tests only (``pyramid.includes`` of a test app)."""
from __future__ import annotations

from pyramid.response import Response

from mypages.companies.models import Company

SECRET_DETAIL = "internal detail 7f3a that no visitor may read"


def raises(request):
    raise RuntimeError(SECRET_DETAIL)


def writes_then_raises(request):
    request.dbsession.add(Company(name="Half-written AB"))
    request.dbsession.flush()
    raise RuntimeError(SECRET_DETAIL)


def commit_fails(request):
    # the same unique org number twice: the database refuses it when pyramid_tm commits
    request.dbsession.add_all([Company(name="One AB", org_number="556000-0001"),
                               Company(name="Two AB", org_number="556000-0001")])
    return Response("written")


def callback_raises(request):
    def fail(request, response):
        raise RuntimeError(SECRET_DETAIL)

    request.add_response_callback(fail)
    return Response("answered")


def includeme(config):
    for name, view in (("raises", raises), ("writes_then_raises", writes_then_raises),
                       ("commit_fails", commit_fails), ("callback_raises", callback_raises)):
        config.add_route(f"test_{name}", f"/_test/{name.replace('_', '-')}")
        config.add_view(view, route_name=f"test_{name}", require_csrf=False)
