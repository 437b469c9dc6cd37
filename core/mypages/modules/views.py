from __future__ import annotations

import functools

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from mypages.i18n import _
from mypages.modules import lifecycle, terms
from mypages.modules.models import ModuleState, Order
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
            "billing_starts_at": row.billing_starts_at if state == ModuleState.active else None,
        }


def modules_page(request, errors=()):
    rows = list(catalogue_rows(request))
    for row in rows:
        if row["can_deactivate"]:
            row["deactivation"] = deactivation_text(request, row["module"].key)
    return {"rows": rows, "errors": list(errors), "messages": request.session.pop_flash()}


def deactivation_text(request, key: str):
    """What deactivating the module now means, said before the admin confirms it."""
    now = clock(request).now()
    stops, used = terms.billing_stops(request.dbsession, request.company.id, key, now)
    if stops is None:
        return _("The module is switched off at once. Nothing is billed for it. Its settings "
                 "are kept if you buy it later.")
    if not used:
        return _("The module is switched off at once. Its paid period has not started, so "
                 "nothing is billed for it. Its settings are kept if you buy it later.")
    return _("The module is switched off at once and billing stops today, ${date}: the "
             "current month is billed for the days up to today. Its settings are kept if you "
             "buy it later.", mapping={"date": request.format_day(stops)})


def _catalogue_module(request):
    module = request.registry["modules.catalogue"].get(request.matchdict["module_key"])
    if module is None:
        raise HTTPNotFound()
    return module


@view_config(route_name="module_purchase", renderer="mypages:templates/module_purchase.jinja2",
             permission="company.admin", request_method="GET")
def purchase_summary(request):
    """The first step of buying: what it costs, how it is billed, what becomes of the trial."""
    module = _catalogue_module(request)
    now = clock(request).now()
    row = lifecycle.activations(request.dbsession, request.company.id).get(module.key)
    state = lifecycle.state_of(row)
    if state == ModuleState.active:
        request.session.flash(request.translate(_("This module is already active.")))
        return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))
    starts = terms.paid_from(row, now)
    return {"module": module, "amounts": terms.amounts_of(module), "state": state,
            "in_trial": starts > now, "starts": starts, "errors": [],
            "messages": request.session.pop_flash()}


@view_config(route_name="module_deactivate_confirm", renderer="mypages:templates/confirm.jinja2",
             permission="company.admin", request_method="GET")
def deactivate_confirmation(request):
    """Without JavaScript, "Deactivate" leads here to confirm."""
    module = _catalogue_module(request)
    row = lifecycle.activations(request.dbsession, request.company.id).get(module.key)
    if lifecycle.state_of(row) not in (ModuleState.trial, ModuleState.active):
        return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))
    return {"title": _("Deactivate ${module}?", mapping={"module": request.translate(module.title)}),
            "text": deactivation_text(request, module.key),
            "action": request.path_for("module_action", company_id=request.company.id,
                                       module_key=module.key, action="deactivate"),
            "fields": {}, "confirm_label": _("Deactivate"),
            "back": request.path_for("company_modules", company_id=request.company.id)}


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
    """The second step of buying: the admin confirmed the summary. The receipt is mailed by a
    job, and the admin is shown the order (a plugin's billing: the modules page)."""
    order = lifecycle.buy(work_of(request), request.company, request.matchdict["module_key"],
                          bill=functools.partial(_bill, request))
    if not isinstance(order, Order):
        request.session.flash(request.translate(_("Thank you! The module is now active.")))
        return HTTPSeeOther(request.route_url("company_modules", company_id=request.company.id))
    request.enqueue(terms.RECEIPT_JOB, {"order_id": order.id})
    return HTTPSeeOther(request.route_url("company_order", company_id=request.company.id,
                                          order_id=order.id))


@view_config(form_action="deactivate", **ACTION)
def deactivate(request):
    done = deactivation_done(request, request.matchdict["module_key"])
    return _changed(request, lifecycle.deactivate, done)


def deactivation_done(request, key: str):
    stops, used = terms.billing_stops(request.dbsession, request.company.id, key,
                                      clock(request).now())
    if stops is not None and used:
        return _("The module is deactivated and billing stopped today, ${date}. Its settings "
                 "are kept if you buy it later.", mapping={"date": request.format_day(stops)})
    return _("The module is deactivated. Nothing is billed for it. Its settings are kept if "
             "you buy it later.")


@view_config(**ACTION)
def unknown_action(request):
    raise Refusal(_("Unknown action."))
