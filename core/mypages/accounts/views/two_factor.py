"""Turning two-factor authentication (TOTP) on and off, and recovery codes."""
from __future__ import annotations

from urllib.parse import quote

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from mypages.accounts import add_methods, totp
from mypages.accounts.methods import TWO_FACTOR_ROUTE, login_methods
from mypages.accounts.rules import sign_in_rules
from mypages.accounts.signing_in import asking_company_modules
from mypages.i18n import _
from mypages.refusals import Refusal
from mypages.web.safety import safe_next
from mypages.work import work_of


#: why a second factor cannot be turned off, by who requires it
CANNOT_TURN_OFF = {
    "operator": _("Platform operators need two-factor authentication, so it cannot be "
                  "turned off."),
    "platform": _("This platform requires two-factor authentication of everyone, so it "
                  "cannot be turned off."),
    "company": _("A company you belong to requires two-factor authentication, so it cannot "
                 "be turned off."),
}


def _enrolable(request) -> list:
    """The other second factors a person can set up that count where they are asked for one:
    in the company of ``?company=`` (a plugin's method only if the company is entitled to its
    module), else those that count everywhere. The authenticator app is always offered."""
    user_id = request.user.id
    entitled = asking_company_modules(request, user_id) or frozenset()
    return [method for method in login_methods(request.registry).values()
            if method.enrol_route and method.enrol_route != TWO_FACTOR_ROUTE
            and method.counts_as_second_factor(entitled)
            and not method.set_up_for(request.dbsession, user_id)]


def _page(request, **extra):
    credential = totp.credential_of(request.dbsession, request.user.id)
    pending = credential is not None and credential.confirmed_at is None
    secret = totp.secret_of(request, credential) if pending else None
    page = {
        "others": _enrolable(request),
        "company": request.params.get("company", ""),
        "enabled": credential is not None and credential.confirmed_at is not None,
        "pending": pending,
        "secret": secret,
        # groups of four to read and type; the link opens the app on the phone itself
        "secret_groups": [secret[i:i + 4] for i in range(0, len(secret), 4)] if secret else [],
        "otpauth": totp.provisioning_uri(secret, request.user.email) if secret else None,
        "codes_left": totp.recovery_codes_left(request.dbsession, request.user.id),
        "required": sign_in_rules(request.registry).second_factor_required_by(request),
        "next": safe_next(request.params.get("next"), ""),
        "error": None, "codes": None, "codes_file": None, "turned_on": False,
        "messages": request.session.pop_flash(),
    }
    page.update(extra)
    return page


def _page_with_errors(request, errors):
    return _page(request, errors=errors)


def _codes_file(request, codes) -> str:
    """The recovery codes as a text file to download, in a ``data:`` link: they are shown this
    once and kept nowhere, so the file is made with the page."""
    text = "\r\n".join([request.translate(_("My Pages recovery codes for ${email}",
                                              mapping={"email": request.user.email})),
                         request.translate(_("Each code works once.")), "", *codes, ""])
    return "data:text/plain;charset=utf-8," + quote(text)


# where a second factor is set up: open without one, or nobody could ever get one
SET_UP = dict(route_name="two_factor", renderer="mypages:templates/two_factor.jinja2",
              permission="signed-in", require_second_factor=False)


@view_config(request_method="GET", **SET_UP)
def two_factor(request):
    return _page(request)


@view_config(form_action="begin", **SET_UP)
def begin(request):
    user = request.user
    if totp.is_enabled(request.dbsession, user.id):
        return HTTPSeeOther(request.route_url("two_factor"))
    totp.begin_enrolment(work_of(request), user)
    request.audit("two_factor.enrolment_started", target=user.email, company=None)
    return HTTPSeeOther(request.route_url("two_factor", _query={"next": request.POST.get("next", "")}))


@view_config(form_action="confirm", **SET_UP)
def confirm(request):
    user = request.user
    credential = totp.credential_of(request.dbsession, user.id)
    if credential is None or credential.confirmed_at is not None:
        return HTTPSeeOther(request.route_url("two_factor"))
    if not totp.confirm(work_of(request), credential, request.POST.get("code", "")):
        request.response.status = 400
        return _page(request, error=_("The code is wrong. Check the clock of your phone and "
                                      "type the code the app shows now."))
    codes = totp.new_recovery_codes(request.dbsession, user.id)
    add_methods(request, ["otp"])
    request.audit("two_factor.enabled", target=user.email, company=None)
    return _page(request, codes=codes, enabled=True, pending=False, secret=None,
                 secret_groups=[], otpauth=None, codes_left=len(codes), turned_on=True,
                 codes_file=_codes_file(request, codes))


@view_config(form_action="disable", require_reauth=True, refusal_page=_page_with_errors,
             **SET_UP)
def disable(request):
    required = sign_in_rules(request.registry).second_factor_required_by(request)
    if required is not None:
        raise Refusal(CANNOT_TURN_OFF[required])
    user = request.user
    totp.disable(request.dbsession, user.id)
    request.audit("two_factor.disabled", target=user.email, company=None)
    request.session.flash(request.translate(_("Two-factor authentication is turned off.")))
    return HTTPSeeOther(request.route_url("two_factor"))


@view_config(request_method="POST", refusal_page=_page_with_errors, **SET_UP)
def unknown_action(request):
    raise Refusal(_("Unknown action."))


@view_config(route_name="recovery_codes", renderer="mypages:templates/two_factor.jinja2",
             permission="signed-in", request_method="POST", require_reauth="two_factor")
def regenerate_recovery_codes(request):
    if not totp.is_enabled(request.dbsession, request.user.id):
        return HTTPSeeOther(request.route_url("two_factor"))
    codes = totp.new_recovery_codes(request.dbsession, request.user.id)
    request.audit("two_factor.recovery_codes_renewed", target=request.user.email, company=None)
    return _page(request, codes=codes, codes_left=len(codes),
                 codes_file=_codes_file(request, codes))


@view_config(route_name="two_factor_qr", permission="signed-in", request_method="GET",
             require_second_factor=False)
def two_factor_qr(request):
    """The QR code of an enrolment in progress (never of a confirmed authenticator)."""
    credential = totp.credential_of(request.dbsession, request.user.id)
    if credential is None or credential.confirmed_at is not None:
        raise HTTPNotFound()
    uri = totp.provisioning_uri(totp.secret_of(request, credential), request.user.email)
    return Response(totp.qr_svg(uri), content_type="image/svg+xml",
                    cache_control="no-store, private")
