"""Routes for the error-page and input tests only (``pyramid.includes`` of a test app): some
fail, one takes files, one is a fragile form for the sweep to find."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
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


def breaks_the_error_page(request):
    # the layout shows the company's name: this one has none, so the page cannot be made
    request.company = object()
    raise RuntimeError(SECRET_DETAIL)


def raises_a_redirect(request):
    raise HTTPSeeOther("/account")


def takes_a_file(request):
    upload = request.POST["document"]
    return Response(f"{upload.filename}: {len(upload.file.read())} bytes")


def fragile_form(request):
    """A form whose view trusts its field to be a number: the sweep must find it."""
    if request.method == "POST":
        return Response(f"{int(request.POST['count']) + 1}")
    return Response('<!doctype html><form method="post"><input name="count" value="1">'
                    '<button type="submit">Send</button></form>', content_type="text/html")


def includeme(config):
    for name, view in (("raises", raises), ("writes_then_raises", writes_then_raises),
                       ("commit_fails", commit_fails), ("callback_raises", callback_raises),
                       ("raises_a_redirect", raises_a_redirect),
                       ("breaks_the_error_page", breaks_the_error_page)):
        config.add_route(f"test_{name}", f"/_test/{name.replace('_', '-')}")
        config.add_view(view, route_name=f"test_{name}", require_csrf=False)
    config.add_route("test_upload", "/_test/upload")
    config.add_view(takes_a_file, route_name="test_upload", accept_files=True)
    config.add_route("test_fragile", "/_test/fragile")
    config.add_view(fragile_form, route_name="test_fragile")
