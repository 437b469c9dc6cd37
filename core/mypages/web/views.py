from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import forbidden_view_config, notfound_view_config, view_config
from pyramid.exceptions import BadCSRFToken

from mypages.i18n import _


@forbidden_view_config(renderer="mypages:templates/error.jinja2")
def forbidden(request):
    if request.user is None:
        next_url = request.path_qs if request.method == "GET" else ""
        return HTTPSeeOther(request.route_url("login", _query={"next": next_url} if next_url else {}))
    request.response.status = 403
    return {"title": _("Not allowed"),
            "message": _("You do not have access to this page. If you think you should, "
                         "ask an admin of your company.")}


@notfound_view_config(renderer="mypages:templates/error.jinja2")
def notfound(request):
    request.response.status = 404
    missing = request.__dict__.get("missing_module")
    if missing is not None:
        return {"title": _("Module not active"), "reason": "module-not-active",
                "message": _("The module \"${module}\" is not active for ${company}. An admin can "
                             "activate it under Company settings.",
                             mapping={"module": request.translate(missing.title),
                                      "company": request.company.name})}
    return {"title": _("Page not found"),
            "message": _("There is no page at this address.")}


@view_config(context=BadCSRFToken, renderer="mypages:templates/error.jinja2")
def bad_csrf(request):
    request.response.status = 400
    return {"title": _("The form has expired"),
            "message": _("The page was open too long or was sent from somewhere else. "
                         "Go back, reload the page and try again.")}
