from __future__ import annotations

import sys

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import forbidden_view_config, notfound_view_config, view_config
from transaction.interfaces import NoTransaction

from mypages.db import fresh_transaction
from mypages.i18n import _
from mypages.web import errors

ERROR_PAGE = "mypages:templates/error.jinja2"


@forbidden_view_config(renderer=ERROR_PAGE)
def forbidden(request):
    if request.user is None:
        next_url = request.path_qs if request.method == "GET" else ""
        return HTTPSeeOther(request.route_url("login", _query={"next": next_url} if next_url else {}))
    request.response.status = 403
    return {"title": _("Not allowed"),
            "message": _("You do not have access to this page. If you think you should, "
                         "ask an admin of your company.")}


@notfound_view_config(renderer=ERROR_PAGE)
def notfound(request):
    """"Page not found", or what a part that knows why says instead
    (``config.add_not_found_explanation``)."""
    request.response.status = 404
    for explain in request.registry["web.not_found_explanations"]:
        page = explain(request)
        if page is not None:
            return page
    return {"title": _("Page not found"),
            "message": _("There is no page at this address.")}


@view_config(context=BadCSRFToken, renderer=ERROR_PAGE)
def bad_csrf(request):
    request.response.status = 400
    return {"title": _("The form has expired"),
            "message": _("The page was open too long or was sent from somewhere else. "
                         "Go back, reload the page and try again.")}


@view_config(context=Exception)
def unexpected(exc, request):
    """Anything no other view answered: logged with a reference, shown with only the
    reference. pyramid_tm aborts the request's transaction after an exception view."""
    reference = errors.new_reference()
    errors.log_error(reference, errors.where(request), request.exc_info or sys.exc_info())
    try:
        _readable_transaction(request)
        response = render_to_response(ERROR_PAGE, {
            "title": errors.TITLE, "message": errors.MESSAGE, "reference": reference,
            "reason": "unexpected"}, request=request)
    except Exception:  # the page needs what may have failed: the database, a template
        errors.log_error(reference, "the error page", sys.exc_info())
        return errors.plain_page(request.registry, request, reference)
    response.status = 500
    return response


def _readable_transaction(request) -> None:
    """A failed statement leaves a PostgreSQL transaction unusable, and the page may still
    read (the signed-in user); a failed commit leaves none to replace."""
    try:
        request.tm.get()
    except NoTransaction:
        return
    fresh_transaction(request)
