from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from mypages.db import fresh_transaction, utcnow
from mypages.i18n import _
from mypages.modules import lifecycle
from mypages.modules.lifecycle import ModuleError
from mypages.modules.models import ModuleState

ACTIONS = {
    "activate": (lifecycle.activate, _("The free trial has started.")),
    "buy": (lifecycle.buy, _("Thank you! The module is now active.")),
    "deactivate": (lifecycle.deactivate,
                   _("The module is deactivated. Its settings are kept if you buy it later.")),
}


def catalogue_rows(request):
    now = utcnow()
    rows = lifecycle.activations(request.dbsession, request.company.id)
    for module in request.registry["modules.catalogue"]:
        row = rows.get(module.key)
        state = lifecycle.state_of(row)
        yield {
            "module": module,
            "state": state,
            "days_left": lifecycle.days_left(row, now) if state == ModuleState.trial else None,
            "ends_at": row.trial_ends_at if state == ModuleState.trial else None,
            "can_activate": row is None,
            "can_buy": state != ModuleState.active,
            "can_deactivate": state in (ModuleState.trial, ModuleState.active),
        }


def modules_page(request, error=None):
    return {"rows": list(catalogue_rows(request)), "error": error,
            "messages": request.session.pop_flash()}


@view_config(route_name="company_modules", renderer="mypages:templates/modules.jinja2",
             permission="company.admin", request_method="GET")
def modules(request):
    return modules_page(request)


@view_config(route_name="module_action", permission="company.admin")
def module_action(request):
    action = ACTIONS.get(request.matchdict["action"])
    if action is None:
        raise ModuleError(_("Unknown action."))
    change, done = action
    change(request, request.company, request.matchdict["module_key"])
    request.session.flash(request.translate(done))
    return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))


@view_config(context=ModuleError, renderer="mypages:templates/modules.jinja2")
def module_error(exc, request):
    """The change was refused; nothing of it is kept (pyramid_tm aborts the transaction).

    Only raised from views that already passed the ``company.admin`` check.
    """
    fresh_transaction(request)
    request.response.status = 400
    return modules_page(request, error=exc.message)
