from __future__ import annotations

import functools
import json
import secrets

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.companies.models import Company
from mypages.contract import SignatureRequest
from mypages.i18n import _
from mypages.modules import lifecycle, terms
from mypages.modules.models import ModuleState, Order
from mypages.refusals import Refusal
from mypages.services import clock
from mypages.signing import find_signature, request_signature
from mypages.work import work_of

#: what a purchase's signature is for (kept with the signature by its signer)
PURCHASE_PURPOSE = "billing.purchase"


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
    job, and the admin is shown the order (a plugin's billing: the modules page). A company
    whose policy says so confirms it by signing the order first (:func:`buy_signed`)."""
    if request.dbsession.get(Company, request.company.id).sign_purchases:
        return request_signature(request, _purchase_to_sign(request))
    return _bought(request, lifecycle.buy(work_of(request), request.company,
                                          request.matchdict["module_key"],
                                          bill=functools.partial(_bill, request)))


def _purchase_terms(request, module) -> dict:
    """What the signature binds: the company, the module and its price (hidden data)."""
    amounts = terms.amounts_of(module)
    return {"company_id": request.company.id, "module": module.key,
            "amount": str(amounts.excluding) if amounts else None,
            "currency": amounts.currency if amounts else None}


def _purchase_to_sign(request) -> SignatureRequest:
    module = _catalogue_module(request)
    amounts = terms.amounts_of(module)
    starts = terms.paid_from(lifecycle.activations(request.dbsession, request.company.id)
                             .get(module.key), clock(request).now())
    price = (request.format_money(amounts.excluding, amounts.currency) if amounts
             else request.translate(_("No charge")))
    # simpleMarkdownV1: a heading, then the order's terms as lines
    text = "\n".join([
        "# " + request.translate(_("Order: ${module}", mapping={
            "module": request.translate(module.title)})),
        request.translate(_("Company: ${company}", mapping={"company": request.company.name})),
        request.translate(_("Price per month, excluding VAT: ${price}",
                            mapping={"price": price})),
        request.translate(_("Billed from: ${date}",
                            mapping={"date": request.format_day(starts)})),
        "", request.translate(_("I confirm this purchase on the billing terms."))])
    data = dict(_purchase_terms(request, module), nonce=secrets.token_urlsafe(12))
    return SignatureRequest(text=text, data=json.dumps(data, sort_keys=True).encode(),
                            user_id=request.user.id, purpose=PURCHASE_PURPOSE,
                            next_url=request.route_url("module_signed",
                                                       company_id=request.company.id,
                                                       module_key=module.key))


SIGNATURE_NOT_VALID = _("This signature does not confirm this purchase. Buy the module again "
                        "and sign the order.")


@view_config(route_name="module_signed", permission="company.admin", request_method="GET",
             renderer="mypages:templates/modules.jinja2", refusal_page=modules_page)
def buy_signed(request):
    """The admin signed the order: buy the module as signed, once, and keep who signed."""
    module = _catalogue_module(request)
    reference = request.params.get("signature", "")
    signature = find_signature(request.registry, request.dbsession, reference,
                               purpose=PURCHASE_PURPOSE, user_id=request.user.id)
    try:
        signed = json.loads(signature.data) if signature is not None else {}
    except ValueError:
        signed = {}
    signed.pop("nonce", None)
    if signature is None or signed != _purchase_terms(request, module):
        raise Refusal(SIGNATURE_NOT_VALID)
    if request.dbsession.scalar(select(Order.id).where(
            Order.signature_reference == reference)) is not None:
        raise Refusal(SIGNATURE_NOT_VALID)
    order = lifecycle.buy(work_of(request), request.company, module.key,
                          bill=functools.partial(_bill, request))
    if isinstance(order, Order):
        order.signature_method, order.signature_reference = signature.method, reference
        order.signed_by, order.signed_at = signature.signer_name[:200], signature.signed_at
    request.audit("billing.purchase_signed", target=module.key, method=signature.method,
                  signature=reference)
    return _bought(request, order)


def _bought(request, order):
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
