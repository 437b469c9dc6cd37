"""Sign-in with e-mail and password, the second factor, re-authentication and sign-out."""
from __future__ import annotations

import time

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import add_methods, end_session, start_session
from mypages.accounts import throttle, totp
from mypages.accounts.throttle import SIGN_IN, too_many
from mypages.accounts.devices import known_user_ids, remember_device
from mypages.accounts.models import EMAIL_MAX_LENGTH, User
from mypages.accounts.rules import identifier_first, sign_in_rules
from mypages.i18n import LOCALE_COOKIE, _, supported
from mypages.plugins import notify
from mypages.services import clock, password_hasher
from mypages.web.safety import safe_next
from mypages.work import work_of

PENDING = "pending_sign_in"
PENDING_SECONDS = 300

WRONG = _("The e-mail address or the password is wrong.")
NOT_AN_EMAIL = _("Type a valid e-mail address.")
SSO_ONLY = _("Your company requires sign-in through Single Sign On. "
             "Password sign-in is closed for your account.")


def _user_by_email(request, email: str) -> User | None:
    return request.dbsession.scalars(select(User).where(User.email == email)).one_or_none()


def check_password(request, email: str, password: str):
    """(user, error): throttled, verified and audited, for sign-in and re-authentication."""
    user = _user_by_email(request, email) if email else None
    known = user is not None and user.id in known_user_ids(request)
    # failures elsewhere do not slow down the owner's own browser: it counts per address only
    account = None if known else email
    wait = throttle.wait_seconds(request, SIGN_IN, account)
    if wait:
        request.audit("account.sign_in_throttled", target=email, company=None, wait=wait)
        request.response.status = 429
        return None, too_many(wait)
    if user is not None and not sign_in_rules(request.registry).password_allowed(
            request.dbsession, user.id):
        # before the password is looked at: the answer must not tell whether it was right
        request.audit("account.password_refused_sso_required", target=email, company=None)
        request.response.status = 403
        return None, SSO_ONLY
    hashed = user.password_hash if user is not None and user.is_active else None
    if not (email and password and password_hasher(request).verify(hashed, password)):
        throttle.record(request, SIGN_IN, account)
        request.audit("account.sign_in_failed", target=email, company=None)
        request.response.status = 400
        return None, WRONG
    # the account's counter is cleared only once every factor passed (finish_sign_in):
    # a right password must not wipe out the count of wrong second-factor codes
    passwords = password_hasher(request)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    return user, None


def finish_sign_in(request, user: User, methods: dict, next_url: str):
    chosen = supported(request.cookies.get(LOCALE_COOKIE))
    if user.locale is None and chosen:
        user.locale = chosen  # the language picked before signing in stays
    start_session(request, user, methods)
    throttle.clear(request, SIGN_IN, user.email)
    remember_device(request, user.id)
    request.audit("account.signed_in", target=user.email, company=None, methods=sorted(methods))
    notify(request.hooks.mypages_user_signed_in, request, request=request, user=request.user)
    return HTTPSeeOther(next_url or request.route_url("home"))


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="GET")
def login_form(request):
    if request.user is not None:
        return HTTPSeeOther(safe_next(request.params.get("next")))
    return {"email": "", "next": safe_next(request.params.get("next"), ""), "error": None}


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="POST")
def login(request):
    email = request.POST.get("email", "").strip().lower()
    next_url = safe_next(request.POST.get("next"), "")
    password = request.POST.get("password", "")
    if len(email) > EMAIL_MAX_LENGTH:
        # no account has such an address: refused before it is counted, looked up or audited
        request.response.status = 400
        return {"email": "", "next": next_url, "error": NOT_AN_EMAIL}
    if email and not password:
        # identifier-first: the address may lead straight to the person's identity provider
        elsewhere = identifier_first(request, email, next_url)
        if elsewhere is not None:
            return elsewhere
        return {"email": email, "next": next_url, "error": _("Type your password.")}
    user, error = check_password(request, email, password)
    if error is not None:
        return {"email": email, "next": next_url, "error": error, "sso_offered": error is SSO_ONLY}
    now = clock(request).now().isoformat()
    if totp.is_enabled(request.dbsession, user.id):
        request.session.invalidate()  # nothing from before sign-in survives it
        request.session[PENDING] = {"user_id": user.id, "pwd": now, "next": next_url,
                                    "started": time.time()}
        return HTTPSeeOther(request.route_url("login_verify"))
    return finish_sign_in(request, user, {"pwd": now}, next_url)


def _pending(request):
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["started"] > PENDING_SECONDS:
        return None
    return pending


def _verify_form(request, error=None):
    return {"error": error, "next": safe_next(request.params.get("next"), ""),
            "step_up": request.user is not None}


@view_config(route_name="login_verify", renderer="mypages:templates/verify.jinja2",
             request_method="GET")
def verify_form(request):
    if request.user is None and _pending(request) is None:
        return HTTPSeeOther(request.route_url("login"))
    return _verify_form(request)


def check_second_factor(request, user: User, code: str):
    """(method, error): the TOTP code or a recovery code, throttled like passwords."""
    # as for passwords: failures elsewhere do not slow down the owner's own browser
    account = None if user.id in known_user_ids(request) else user.email
    wait = throttle.wait_seconds(request, SIGN_IN, account)
    if wait:
        request.audit("two_factor.code_throttled", target=user.email, company=None, wait=wait)
        request.response.status = 429
        return None, too_many(wait)
    credential = totp.credential_of(request.dbsession, user.id)
    if credential is not None and credential.confirmed_at is not None:
        if totp.use_code(work_of(request), credential, code):
            return "otp", None
        if totp.use_recovery_code(work_of(request), user.id, code):
            request.audit("two_factor.recovery_code_used", target=user.email, company=None,
                          left=totp.recovery_codes_left(request.dbsession, user.id))
            return "recovery", None
    throttle.record(request, SIGN_IN, account)
    request.audit("two_factor.code_refused", target=user.email, company=None)
    request.response.status = 400
    return None, _("The code is wrong or has already been used. Wait for a new code and try again.")


@view_config(route_name="login_verify", renderer="mypages:templates/verify.jinja2",
             request_method="POST")
def verify(request):
    code = request.POST.get("code", "")
    if request.user is not None:  # step-up within a session
        method, error = check_second_factor(request, request.user, code)
        if error is not None:
            return _verify_form(request, error)
        add_methods(request, [method])
        request.audit("account.stepped_up", target=request.user.email, company=None, method=method)
        return HTTPSeeOther(safe_next(request.POST.get("next")))
    pending = _pending(request)
    if pending is None:
        return HTTPSeeOther(request.route_url("login"))
    user = request.dbsession.get(User, pending["user_id"])
    if user is None or not user.is_active:
        return HTTPSeeOther(request.route_url("login"))
    method, error = check_second_factor(request, user, code)
    if error is not None:
        return _verify_form(request, error)
    proven = {"pwd": pending["pwd"], method: clock(request).now().isoformat()}
    return finish_sign_in(request, user, proven, pending["next"])


@view_config(route_name="reauth", renderer="mypages:templates/reauth.jinja2",
             permission="signed-in", request_method="GET")
def reauth_form(request):
    return {"error": None, "next": safe_next(request.params.get("next"), "/account"),
            "needs_code": totp.is_enabled(request.dbsession, request.user.id)}


@view_config(route_name="reauth", renderer="mypages:templates/reauth.jinja2",
             permission="signed-in", request_method="POST")
def reauth(request):
    """Prove it is still you before a sensitive change (ASVS 7.5.1)."""
    user = request.user
    next_url = safe_next(request.POST.get("next"), "/account")
    needs_code = totp.is_enabled(request.dbsession, user.id)
    page = {"next": next_url, "needs_code": needs_code}
    checked, error = check_password(request, user.email, request.POST.get("password", ""))
    if error is not None:
        return dict(page, error=error)
    methods = ["pwd"]
    if needs_code:
        method, error = check_second_factor(request, user, request.POST.get("code", ""))
        if error is not None:
            return dict(page, error=error)
        methods.append(method)
    add_methods(request, methods)
    request.audit("account.reauthenticated", target=user.email, company=None)
    return HTTPSeeOther(next_url)


@view_config(route_name="logout", request_method="POST")
def logout(request):
    if request.user is not None:
        request.audit("account.signed_out", target=request.user.email, company=None)
    end_session(request)
    return HTTPSeeOther(request.route_url("login", _query={"signed_out": "1"}))
