from __future__ import annotations

import functools

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from mypages.i18n import _
from mypages.modules import lifecycle
from mypages.modules.models import ModuleState
from mypages.refusals import Refusal
from mypages.services import clock
from mypages.work import work_of


def catalogue_rows(request):
    now = clock(request).now()
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


def modules_page(request, errors=()):
    return {"rows": list(catalogue_rows(request)), "errors": list(errors),
            "messages": request.session.pop_flash()}


@view_config(route_name="company_modules", renderer="mypages:templates/modules.jinja2",
             permission="company.admin", request_method="GET")
def modules(request):
    return modules_page(request)


def _bill(request, module):
    """Billing through the ``mypages_purchase`` hook, which is given the buying request."""
    return request.hooks.mypages_purchase(request=request, company=request.company,
                                          module=module, user=request.user)


def _changed(request, change, done):
    change(work_of(request), request.company, request.matchdict["module_key"])
    request.session.flash(request.translate(done))
    return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))


#: the options of every view of a module's buttons: refusals are shown on the modules page
ACTION = dict(route_name="module_action", permission="company.admin",
              renderer="mypages:templates/modules.jinja2", refusal_page=modules_page)


@view_config(form_action="activate", **ACTION)
def activate(request):
    return _changed(request, lifecycle.activate, _("The free trial has started."))


@view_config(form_action="buy", **ACTION)
def buy(request):
    billed = functools.partial(lifecycle.buy, bill=functools.partial(_bill, request))
    return _changed(request, billed, _("Thank you! The module is now active."))


@view_config(form_action="deactivate", **ACTION)
def deactivate(request):
    return _changed(request, lifecycle.deactivate,
                    _("The module is deactivated. Its settings are kept if you buy it later."))


@view_config(**ACTION)
def unknown_action(request):
    raise Refusal(_("Unknown action."))
