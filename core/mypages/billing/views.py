"""The Billing tab of company settings and the confirmation page of an order."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company
from mypages.i18n import _
from mypages.modules.models import Order
from mypages.modules.terms import VAT_PERCENT, order_amounts
from mypages.web.inputs import as_id


def order_rows(request, orders):
    catalogue = request.registry["modules.catalogue"]
    for order, user in orders:
        module = catalogue.get(order.module_key)
        yield {"order": order, "buyer": user, "amounts": order_amounts(order),
               "title": request.translate(module.title) if module else order.module_key}


@view_config(route_name="company_billing", renderer="mypages:templates/billing.jinja2",
             permission="company.admin", request_method="GET")
def billing(request):
    orders = request.dbsession.execute(
        select(Order, User).outerjoin(User, User.id == Order.ordered_by_id)
        .where(Order.company_id == request.company.id)
        .order_by(Order.created_at.desc(), Order.id.desc())).all()
    return {"orders": list(order_rows(request, orders)), "vat_percent": VAT_PERCENT,
            "sign_purchases": request.dbsession.get(Company, request.company.id).sign_purchases,
            "messages": request.session.pop_flash()}


@view_config(route_name="company_billing", permission="company.admin", request_method="POST")
def purchase_policy(request):
    """Whether the company's admins confirm each purchase by signing the order."""
    company = request.dbsession.get(Company, request.company.id)
    wanted = request.POST.get("sign_purchases") == "on"
    if company.sign_purchases != wanted:
        company.sign_purchases = wanted
        request.audit("billing.sign_purchases_changed", target=company.name, enabled=wanted)
    request.session.flash(request.translate(
        _("Purchases are now confirmed by signing the order.") if wanted
        else _("Purchases no longer need a signature.")))
    return HTTPSeeOther(request.route_url("company_billing", company_id=request.company.id))


@view_config(route_name="company_order", renderer="mypages:templates/order.jinja2",
             permission="company.admin", request_method="GET")
def order(request):
    """What was bought, at what price, from when: the page after a purchase."""
    found = request.dbsession.execute(
        select(Order, User).outerjoin(User, User.id == Order.ordered_by_id)
        .where(Order.id == (as_id(request.matchdict["order_id"]) or -1),
               Order.company_id == request.company.id)).one_or_none()
    if found is None:
        raise HTTPNotFound()
    row = next(order_rows(request, [found]))
    return {**row, "vat_percent": VAT_PERCENT, "messages": request.session.pop_flash()}
