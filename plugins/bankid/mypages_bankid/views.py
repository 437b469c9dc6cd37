"""The BankID pages: choose a device, follow the order, finish with the toolkit's sign_in or
step_up; the person's own BankID page (linking); the company admins' tab (pre-registration).

The order page shows the QR code (or the link that opens the BankID app on this device) and
BankID's message, and a small script of the plugin's static files asks for both every second;
the QR content is made here from the secret the browser never sees. The script cancels the
order when the page is left; without it, the buttons do the same by hand.
"""
from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from mypages.toolkit import (clock, company_members, rate_limit, sign_in, step_up, too_many,
                             user_to_prove)

from mypages_bankid import METHOD_KEY, MODULE_KEY, identities, orders, signing
from mypages_bankid.i18n import _
from mypages_bankid.messages import RFA
from mypages_bankid.models import Order, Signature
from mypages_bankid.personal_numbers import InvalidPersonalNumber, masked, validate
from mypages_bankid.qr import qr_content, qr_data_uri
from mypages_bankid.web import service_of

CHOOSE = "mypages_bankid:templates/choose.jinja2"
SIGN = "mypages_bankid:templates/sign.jinja2"
ORDER = "mypages_bankid:templates/order.jinja2"
ACCOUNT = "mypages_bankid:templates/account.jinja2"
SETTINGS = "mypages_bankid:templates/settings.jinja2"
BROWSER_KEY = "bankid.browser"
#: BankID sign-ins one address may start in a minute (an office behind one address included)
ANONYMOUS_STARTS_PER_MINUTE = 30
#: what each purpose's choice page is
CHOICE_ROUTES = {"sign_in": "bankid_sign_in", "step_up": "bankid_step_up",
                 "link": "bankid_link", "sign": "bankid_sign", "phone": "bankid_phone_auth"}

NOT_CONFIGURED = _("BankID is not set up on this portal yet. Sign in another way.")
PROBLEMS = {
    orders.UNKNOWN: _("No account here is linked to this BankID. Sign in another way, then "
                      "link BankID on your account page."),
    orders.ELSEWHERE: _("This BankID is linked to another account."),
    orders.NOT_YOURS: _("This BankID is not the one linked to your account."),
}
BAD_CHOICE = _("Choose BankID on this device or on another device.")
LINK_FIRST = _("Link BankID to your account first (on your BankID page), then sign.")


def _browser(request) -> str:
    """This browser's key for its orders (its cookie session; a second tab shares it)."""
    key = request.session.get(BROWSER_KEY)
    if key is None:
        key = request.session[BROWSER_KEY] = secrets.token_urlsafe(24)
    return key


def _mobile(request) -> bool:
    agent = request.user_agent or ""
    return any(word in agent for word in ("Mobi", "Android", "iPhone", "iPad"))


def _context(request) -> orders.Context:
    def audit(action, **details):
        target = request.user.email if request.user is not None else ""
        request.audit(action, target=target, company=None, **details)

    return orders.Context(request.dbsession, request.registry, service_of(request).client(),
                          clock(request).now(), audit)


def _person(request, purpose: str):
    """Who the order is for: nobody yet (sign-in), the person to prove (step-up), the
    signed-in person (linking)."""
    if purpose == "sign_in":
        return None
    person = user_to_prove(request) if purpose == "step_up" else request.user
    if person is None:
        raise HTTPSeeOther(request.route_url("login"))
    return person


def _choice_url(request, order: Order) -> str:
    if order.purpose == "sign":
        signature = request.dbsession.scalars(select(Signature).where(
            Signature.order_id == order.id)).first()
        return request.route_url("bankid_sign", id=signature.id if signature else "-")
    return request.route_url(CHOICE_ROUTES[order.purpose],
                             _query={"next": order.next_url} if order.next_url else {})


def _own_signature(request, signature_id: str) -> Signature:
    """A signature the signed-in person was asked for and has not made yet."""
    signature = request.dbsession.get(Signature, signature_id or "")
    if (signature is None or request.user is None or signature.user_id != request.user.id
            or signature.status != "pending"):
        raise HTTPNotFound()
    return signature


def _sign_page(request, signature: Signature, error=None, status: int = 200):
    request.response.status = status
    identity = identities.identity_of(request.dbsession, request.user.id)
    return {"purpose": "sign", "signature": signature, "next": "",
            "error": error if error is not None or identity is not None else LINK_FIRST,
            "can_sign": identity is not None,
            "question": RFA["RFA20"] if _mobile(request) else RFA["RFA19"],
            "configured": service_of(request).configured}


@view_config(route_name="bankid_sign", renderer=SIGN, request_method="GET",
             permission="signed-in")
def sign_page(request):
    """What the person is asked to sign, and how: on this device or another."""
    return _sign_page(request, _own_signature(request, request.matchdict["id"]))


def _choose_page(request, purpose: str, error=None, status: int = 200):
    request.response.status = status
    return {"purpose": purpose, "next": request.params.get("next", ""), "error": error,
            "question": RFA["RFA20"] if _mobile(request) else RFA["RFA19"],
            "configured": service_of(request).configured}


@view_config(route_name="bankid_sign_in", renderer=CHOOSE, request_method="GET")
def choose_sign_in(request):
    return _choose_page(request, "sign_in")


@view_config(route_name="bankid_step_up", renderer=CHOOSE, request_method="GET")
def choose_step_up(request):
    _person(request, "step_up")
    return _choose_page(request, "step_up")


@view_config(route_name="bankid_link", renderer=ACCOUNT, request_method="GET",
             permission="signed-in", require_second_factor=False)
def account(request):
    """The person's own BankID: their personal number in full (here only), or how to link."""
    identity = identities.identity_of(request.dbsession, request.user.id)
    page = _choose_page(request, "link")
    page["identity"] = identity
    return page


@view_config(route_name="bankid_unlink", request_method="POST", permission="signed-in",
             require_reauth=True)
def unlink(request):
    if identities.unlink(request.dbsession, request.user.id):
        request.audit("bankid.unlinked", target=request.user.email, company=None)
    return HTTPSeeOther(request.route_url("account"))


def _return_target(request, order: Order) -> str:
    """Where the BankID app sends the person back on this device: on Android and on a
    computer the app returns by itself ("null"); on iOS, Safari is given the order page and
    other browsers their own address scheme, which brings them to the front."""
    agent = request.user_agent or ""
    if "iPhone" not in agent and "iPad" not in agent:
        return "null"
    if "CriOS" in agent:
        return "googlechrome://"
    if "FxiOS" in agent:
        return "firefox://"
    return request.route_url("bankid_order", id=order.id)


def autostart_link(request, order: Order) -> str:
    query = urlencode({"autostarttoken": order.auto_start_token,
                       "redirect": _return_target(request, order)})
    base = "https://app.bankid.com/" if _mobile(request) else "bankid:///"
    return f"{base}?{query}"


@view_config(route_name="bankid_start", request_method="POST")
def start(request):
    purpose, device = request.POST.get("purpose"), request.POST.get("device")
    if purpose not in orders.PURPOSES:
        raise HTTPBadRequest()
    if purpose == "link" and request.user is None:
        return HTTPSeeOther(request.route_url("login", _query={
            "next": request.route_path("bankid_link")}))
    person = _person(request, purpose)
    if person is None:  # anonymous: each start is a call to BankID, so they are counted
        wait = rate_limit(request, "bankid.start", per_address=ANONYMOUS_STARTS_PER_MINUTE)
        if wait:
            request.audit("bankid.start_throttled", target="", company=None, wait=wait)
            request.response.headers["Retry-After"] = str(wait)
            return _render_choice(request, purpose, too_many(wait), 429)
    signature, number = None, None
    if purpose == "sign":
        signature = _own_signature(request, request.POST.get("signature", ""))
        identity = identities.identity_of(request.dbsession, person.id)
        if identity is None:
            return _render_sign(request, signature, LINK_FIRST, 400)
        number = identity.personal_number
    if device not in orders.DEVICES:
        return _render_choice(request, purpose, BAD_CHOICE, 400, signature)
    if not service_of(request).configured:
        return _render_choice(request, purpose, NOT_CONFIGURED, 503, signature)
    web = {"referringDomain": request.host.split(":")[0],
           "userAgent": (request.user_agent or "")[:256],
           "deviceIdentifier": hashlib.sha256(_browser(request).encode()).hexdigest()}
    try:
        order = orders.start(_context(request), purpose=purpose, device=device,
                             user_id=person.id if person else None, browser=_browser(request),
                             end_user_ip=request.client_addr, web=web,
                             next_url=request.POST.get("next", ""),
                             restart=request.POST.get("restart") == "1",
                             signature=signature, personal_number=number)
    except orders.StartFailed as failed:
        status = 409 if failed.order.problem == "alreadyInProgress" else 503
        return _render_choice(request, purpose, RFA[failed.order.rfa], status, signature)
    return HTTPSeeOther(request.route_url("bankid_order", id=order.id))


def _render_sign(request, signature, error, status):
    return render_to_response(SIGN, _sign_page(request, signature, error, status),
                              request=request, response=request.response)


def _render_choice(request, purpose, error, status, signature=None):
    if signature is not None:
        return _render_sign(request, signature, error, status)
    renderer = ACCOUNT if purpose == "link" else CHOOSE
    page = _choose_page(request, purpose, error, status)
    if purpose == "link":
        page["identity"] = identities.identity_of(request.dbsession, request.user.id)
    return render_to_response(renderer, page, request=request, response=request.response)


def _own_order(request) -> Order:
    """The order in the path, if this browser started it (a second tab shares it)."""
    order = request.dbsession.get(Order, request.matchdict["id"])
    if order is None or order.browser != request.session.get(BROWSER_KEY):
        raise HTTPNotFound()
    return order


def _message(order: Order):
    if order.problem in PROBLEMS:
        return PROBLEMS[order.problem]
    if order.status == "complete":
        return _("Done. Continuing…")
    return RFA.get(order.rfa or "", RFA["RFA1"] if order.device == "qr" else RFA["RFA13"])


def _qr(order: Order, now) -> str | None:
    if order.device != "qr" or order.status != "pending" or order.started_at is None:
        return None
    seconds = int((now - order.started_at).total_seconds())
    return qr_data_uri(qr_content(order.qr_start_token, order.qr_start_secret, seconds))


def _poll(request, order: Order) -> Order:
    return orders.poll(_context(request), order, autostarted=order.device == "same",
                       mobile=_mobile(request))


def _order_page(request, order: Order, status: int = 200):
    request.response.status = status
    return {"order": order, "message": _message(order), "qr": _qr(order, clock(request).now()),
            "autostart": autostart_link(request, order) if order.device == "same"
            and order.status == "pending" else None,
            "again": _choice_url(request, order),
            "title": RFA["RFA18"]}


@view_config(route_name="bankid_order", renderer=ORDER, request_method="GET")
def order_page(request):
    return _order_page(request, _own_order(request))


@view_config(route_name="bankid_status", renderer="json", request_method="GET")
def status(request):
    """What the page shows now: BankID's message, the current QR code (an SVG image) while
    the order is pending, and whether it is done."""
    order = _poll(request, _own_order(request))
    return {"status": order.status, "message": request.localizer.translate(_message(order)),
            "qr": _qr(order, clock(request).now()),
            "done": orders.finishable(order, clock(request).now())}


@view_config(route_name="bankid_cancel", request_method="POST")
def cancel(request):
    """The person closed the dialog, left the page (the script's beacon) or pressed Cancel."""
    order = _own_order(request)
    orders.cancel(_context(request), order)
    if request.POST.get("beacon"):
        return request.response  # 200, nobody reads it
    return HTTPSeeOther(_choice_url(request, order))


@view_config(route_name="bankid_finish", renderer=ORDER, request_method="POST")
def finish(request):
    """The identification is complete: sign in, step up or go back to the account."""
    order = _poll(request, _own_order(request))
    now = clock(request).now()
    if not orders.finishable(order, now):
        return _order_page(request, order, 409 if order.status == "pending" else 400)
    order.finished_at = now
    if order.purpose == "sign_in":
        return sign_in(request, order.user_id, {METHOD_KEY: order.ended_at}, order.next_url)
    if order.purpose == "step_up":
        return step_up(request, {METHOD_KEY: order.ended_at}, order.next_url)
    if order.purpose == "sign":
        return HTTPSeeOther(signing.back_to_caller(request.dbsession.scalars(
            select(Signature).where(Signature.order_id == order.id)).one()))
    return HTTPSeeOther(request.route_url("bankid_link"))


# -- the company admins' tab ---------------------------------------------------------------

def _settings_page(request, error=None, status: int = 200):
    request.response.status = status
    people = company_members(request.dbsession, request.company.id)
    found = {identity.user_id: identity for identity in request.dbsession.query(
        identities.Identity).filter(identities.Identity.user_id.in_([p.id for p in people]))}
    return {"error": error, "rows": [
        {"person": person, "number": masked(found[person.id].personal_number)
         if person.id in found else "",
         "confirmed": person.id in found and found[person.id].confirmed_at is not None}
        for person in people]}


@view_config(route_name="bankid_settings", module=MODULE_KEY, permission="company.admin",
             request_method="GET", renderer=SETTINGS)
def settings(request):
    return _settings_page(request)


CANNOT_REGISTER = _("This personal identity number cannot be registered for this person.")
NOT_A_MEMBER = _("Choose a person of this company.")
SELF_LINKED = _("This person has linked BankID themselves; only they can change it.")


@view_config(route_name="bankid_settings", module=MODULE_KEY, permission="company.admin",
             request_method="POST", renderer=SETTINGS)
def preregister(request):
    """An admin enters a member's personal number, which counts once that member has signed
    in with BankID under it; or removes one not yet confirmed."""
    people = {person.id: person for person in company_members(request.dbsession,
                                                                request.company.id)}
    try:
        person = people[int(request.POST.get("user_id", ""))]
    except (KeyError, ValueError):
        return _settings_page(request, NOT_A_MEMBER, 400)
    existing = identities.identity_of(request.dbsession, person.id)
    if existing is not None and existing.confirmed_at is not None:
        return _settings_page(request, SELF_LINKED, 409)
    if request.POST.get("action") == "remove":
        if existing is not None:
            identities.unlink(request.dbsession, person.id)
            request.audit("bankid.registration_removed", target=person.email)
        return HTTPSeeOther(request.route_url("bankid_settings", company_id=request.company.id))
    try:
        number = validate(request.POST.get("personal_number", ""), clock(request).now().date())
        with request.dbsession.begin_nested():
            identities.link(request.dbsession, request.registry, person.id, number,
                            clock(request).now(), confirmed=False,
                            company_id=request.company.id)
    except InvalidPersonalNumber as invalid:
        return _settings_page(request, invalid.message, 400)
    except identities.LinkedElsewhere:
        return _settings_page(request, CANNOT_REGISTER, 400)
    request.audit("bankid.registered", target=person.email, personal_number=masked(number))
    return HTTPSeeOther(request.route_url("bankid_settings", company_id=request.company.id))
