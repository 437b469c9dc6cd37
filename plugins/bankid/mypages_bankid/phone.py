"""``phone/auth`` for support calls: an operator asks the person on the phone to identify with
BankID, and sees who BankID says they are and which account that BankID is linked to.

The operator enters the caller's personal number and who called whom (BankID's
``callInitiator``: ``user`` when the person called us, ``RP`` when we called them); the person
confirms in their BankID app. The page asks BankID again every two seconds until the order
ends. Every start and result is audited, with the personal number masked.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.toolkit import clock

from mypages_bankid import orders
from mypages_bankid.i18n import _
from mypages_bankid.messages import RFA
from mypages_bankid.models import Order, metadata
from mypages_bankid.personal_numbers import InvalidPersonalNumber, masked, validate
from mypages_bankid.views import _browser, _context
from mypages_bankid.web import service_of

PAGE = "mypages_bankid:templates/phone.jinja2"
CHOOSE_INITIATOR = _("Say who called whom.")
NOT_CONFIGURED = _("BankID is not set up on this portal.")


def _page(request, order: Order | None = None, error=None, status: int = 200):
    request.response.status = status
    account = None
    if order is not None and order.user_id is not None:
        users = metadata.tables["users"]  # the core's table, through the shared metadata
        account = request.dbsession.scalar(select(users.c.email).where(
            users.c.id == order.user_id))
    return {"order": order, "error": error, "account": account,
            "masked": masked(order.phone_number) if order is not None else "",
            "message": _message(order) if order is not None else None,
            "number": request.POST.get("personal_number", "") if error else "",
            "initiator": request.POST.get("call_initiator", "user")}


def _message(order: Order):
    if order.status == "complete":
        return _("Identified.")
    if order.status == "failed" and order.problem == "invalidParameters":
        return RFA["RFA22"]
    return RFA.get(order.rfa or "", RFA["RFA21"])


@view_config(route_name="bankid_phone_auth", renderer=PAGE, permission="operator",
             request_method="GET")
def phone_form(request):
    return _page(request)


@view_config(route_name="bankid_phone_auth", renderer=PAGE, permission="operator",
             request_method="POST")
def phone_start(request):
    initiator = request.POST.get("call_initiator")
    try:
        number = validate(request.POST.get("personal_number", ""), clock(request).now().date())
    except InvalidPersonalNumber as invalid:
        return _page(request, error=invalid.message, status=400)
    if initiator not in orders.CALL_INITIATORS:
        return _page(request, error=CHOOSE_INITIATOR, status=400)
    if not service_of(request).configured:
        return _page(request, error=NOT_CONFIGURED, status=503)
    try:
        order = orders.start_phone(_context(request), operator_id=request.user.id,
                                   browser=_browser(request), personal_number=number,
                                   call_initiator=initiator)
    except orders.StartFailed as failed:
        status = 409 if failed.order.problem == "alreadyInProgress" else 503
        return _page(request, error=RFA[failed.order.rfa], status=status)
    return HTTPSeeOther(request.route_url("bankid_phone_order", id=order.id))


@view_config(route_name="bankid_phone_order", renderer=PAGE, permission="operator",
             request_method="GET")
def phone_order(request):
    """The order's state, collected again if it is time (the page reloads every 2 s)."""
    order = request.dbsession.get(Order, request.matchdict["id"])
    if (order is None or order.purpose != orders.PHONE
            or order.browser != request.session.get("bankid.browser")):
        raise HTTPNotFound()
    orders.poll(_context(request), order)
    if order.status == "pending":  # the browser asks again (a header: no script needed)
        request.response.headers["Refresh"] = "2"
    return _page(request, order)
