"""Sign-in with the e-mail address first, then the password; the second factor,
re-authentication and sign-out."""
from __future__ import annotations

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import add_methods, end_session
from mypages.accounts import throttle, totp
from mypages.accounts.throttle import SIGN_IN, too_many
from mypages.accounts.devices import known_user_ids
from mypages.accounts.methods import VERIFY_ROUTE, login_methods, second_factors_of, set_up_by
from mypages.accounts.models import EMAIL_MAX_LENGTH, User
from mypages.accounts.rules import identifier_first, sign_in_rules
from mypages.accounts.signing_in import (SSO_ONLY, asking_company_modules, sign_in, step_up,
                                         user_by_email, user_to_prove)
from mypages.audit import SUBJECT
from mypages.i18n import _
from mypages.services import password_hasher, settings_of
from mypages.web.safety import safe_next
from mypages.work import work_of


def about(user) -> dict:
    """The audit detail naming the person a refused sign-in was for, so the trails of their
    companies show it; nothing for an address no account has."""
    return {SUBJECT: user.id} if user is not None else {}


WRONG = _("The e-mail address or the password is wrong.")
NOT_AN_EMAIL = _("Type a valid e-mail address.")


def check_password(request, email: str, password: str):
    """(user, error): throttled, verified and audited, for sign-in and re-authentication."""
    user = user_by_email(request.dbsession, email) if email else None
    known = user is not None and user.id in known_user_ids(request)
    # failures elsewhere do not slow down the owner's own browser: it counts per address only
    account = None if known else email
    wait = throttle.wait_seconds(work_of(request), SIGN_IN, account)
    if wait:
        request.audit("account.sign_in_throttled", target=email, company=None, wait=wait,
                      **about(user))
        request.response.status = 429
        return None, too_many(wait)
    if user is not None and not sign_in_rules(request.registry).password_allowed(
            request.dbsession, user.id):
        # before the password is looked at: the answer must not tell whether it was right
        request.audit("account.password_refused_sso_required", target=email, company=None,
                      **about(user))
        request.response.status = 403
        return None, SSO_ONLY
    hashed = user.password_hash if user is not None and user.is_active else None
    if not (email and password and password_hasher(request).verify(hashed, password)):
        throttle.record(work_of(request), SIGN_IN, account)
        request.audit("account.sign_in_failed", target=email, company=None, **about(user))
        request.response.status = 400
        return None, WRONG
    # the account's counter is cleared only once every factor passed (record_sign_in):
    # a right password must not wipe out the count of wrong second-factor codes
    passwords = password_hasher(request)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash(password)
    return user, None


def _offered(request) -> list:
    """The methods that sign in on pages of their own: offered to anyone on the sign-in page."""
    return [method for method in login_methods(request.registry).values()
            if method.sign_in_route]


def _demo_sign_ins(request) -> list:
    """Development only: the demo people a plugin offers (``mypages_demo_sign_ins``) whose
    accounts exist and are active now."""
    if not settings_of(request).dev_features:
        return []
    offered = [entry for entries in
               request.registry["plugins.manager"].hook.mypages_demo_sign_ins()
               for entry in entries]
    if not offered:
        return []
    active = set(request.dbsession.scalars(select(User.email).where(
        User.email.in_([email for _who, email, _password in offered]),
        User.is_active.is_(True))))
    return [(who, email, password) for who, email, password in offered if email in active]


def _login_page(request, **page):
    """The sign-in page at its ``step``: ``email`` (the address alone) or ``password`` (for
    the address given). The password step never depends on whether an account has the
    address: it must not tell who has one."""
    return dict({"step": "email", "email": "", "next": "", "error": None, "field_errors": {},
                 "expired": False, "sso_offered": False,
                 "by_password": _by_password(request.params),
                 "offered": _offered(request), "demo": _demo_sign_ins(request)}, **page)


def _password_step(request, email: str, next_url: str, **page):
    # "Use another address": the first step again, going where this one was going
    restart = {"next": next_url} if next_url else {}
    if _by_password(request.params):
        restart["with"] = "password"
    return _login_page(request, step="password", email=email, next=next_url, restart=restart,
                       **page)


def _by_password(params) -> bool:
    """``with=password``: the password step even for an address that Single Sign On would
    take, for break-glass admins while their identity provider is down."""
    return params.get("with") == "password"


def _looks_like_an_address(email: str) -> bool:
    # the browser checks the form of the address: this only stops what cannot be one
    local, _at, domain = email.rpartition("@")
    return bool(local and domain)


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="GET")
def login_form(request):
    if request.user is not None:
        return HTTPSeeOther(safe_next(request.params.get("next")))
    return _login_page(request, next=safe_next(request.params.get("next"), ""))


@view_config(context=BadCSRFToken, route_name="login",
             renderer="mypages:templates/login.jinja2")
def login_form_expired(request):
    """A sign-in form left open until its session ended: the form again, ready to send, with
    the address typed (never the password), not an error page; at the password step when
    an address was typed (nothing is routed elsewhere on a request that failed CSRF)."""
    request.response.status = 400
    email = request.POST.get("email", "").strip()
    next_url = safe_next(request.POST.get("next"), "")
    if email and len(email) <= EMAIL_MAX_LENGTH:
        return _password_step(request, email.lower(), next_url, expired=True)
    return _login_page(request, next=next_url, expired=True)


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="POST")
def login(request):
    """Identifier-first: the address alone (step 1) goes to the company's Single Sign On where
    a route takes it, else on to the password (step 2); the address with the password (step 2,
    or a password manager or client sending both at once) signs in."""
    email = request.POST.get("email", "").strip().lower()
    next_url = safe_next(request.POST.get("next"), "")
    password = request.POST.get("password", "")
    if len(email) > EMAIL_MAX_LENGTH or not email:
        # no account has such an address: refused before it is counted, looked up or audited
        request.response.status = 400
        return _login_page(request, next=next_url, field_errors={"email": NOT_AN_EMAIL})
    if not password:
        if not _looks_like_an_address(email):
            request.response.status = 400
            return _login_page(request, email=email, next=next_url,
                               field_errors={"email": NOT_AN_EMAIL})
        # the address may lead straight to the person's identity provider
        elsewhere = (None if _by_password(request.POST)
                     else identifier_first(request, email, next_url))
        if elsewhere is not None:
            return elsewhere
        # the password step sent empty asks for it; the address alone just goes on to it
        empty = {"password": _("Type your password.")} if "password" in request.POST else {}
        return _password_step(request, email, next_url, field_errors=empty)
    user, error = check_password(request, email, password)
    if error is WRONG:
        return _password_step(request, email, next_url, field_errors={"password": WRONG})
    if error is not None:
        return _password_step(request, email, next_url, error=error,
                              sso_offered=error is SSO_ONLY)
    # a second factor the person has set up is asked for next (sign_in waits for it)
    return sign_in(request, user.id, ["pwd"], next_url)


def _verify_form(request, user, error=None):
    """The second step: the authenticator app's code, and every other second factor the
    person has set up, each on its own step-up page."""
    # asked by a company: what counts there (a plugin's method only where its module is)
    factors = second_factors_of(request.dbsession, user.id, login_methods(request.registry),
                                asking_company_modules(request, user.id))
    return {"error": error, "next": safe_next(request.params.get("next"), ""),
            "step_up": request.user is not None,
            "code": any(method.step_up_route == VERIFY_ROUTE for method in factors),
            "others": [method for method in factors
                       if method.step_up_route and method.step_up_route != VERIFY_ROUTE]}


@view_config(route_name="login_verify", renderer="mypages:templates/verify.jinja2",
             request_method="GET")
def verify_form(request):
    user = user_to_prove(request)
    if user is None:
        return HTTPSeeOther(request.route_url("login"))
    return _verify_form(request, user)


def check_second_factor(request, user: User, code: str):
    """(method, error): the TOTP code or a recovery code, throttled like passwords."""
    # as for passwords: failures elsewhere do not slow down the owner's own browser
    account = None if user.id in known_user_ids(request) else user.email
    wait = throttle.wait_seconds(work_of(request), SIGN_IN, account)
    if wait:
        request.audit("two_factor.code_throttled", target=user.email, company=None, wait=wait,
                      **about(user))
        request.response.status = 429
        return None, too_many(wait)
    credential = totp.credential_of(request.dbsession, user.id)
    if credential is not None and credential.confirmed_at is not None:
        if totp.use_code(work_of(request), credential, code):
            return "otp", None
        if totp.use_recovery_code(work_of(request), user.id, code):
            request.audit("two_factor.recovery_code_used", target=user.email, company=None,
                          **about(user), left=totp.recovery_codes_left(request.dbsession, user.id))
            return "recovery", None
    throttle.record(work_of(request), SIGN_IN, account)
    request.audit("two_factor.code_refused", target=user.email, company=None, **about(user))
    request.response.status = 400
    return None, _("The code is wrong or has already been used. Wait for a new code and try again.")


@view_config(route_name="login_verify", renderer="mypages:templates/verify.jinja2",
             request_method="POST")
def verify(request):
    """The authenticator app's code (or a recovery code): a step-up of the signed-in user, or
    the second step of a sign-in."""
    user = user_to_prove(request)
    if user is None:
        return HTTPSeeOther(request.route_url("login"))
    method, error = check_second_factor(request, user, request.POST.get("code", ""))
    if error is not None:
        return _verify_form(request, user, error)
    return step_up(request, [method], request.POST.get("next", ""))


def _reauth_page(request, error=None):
    """Every method the person has set up: the password (with the app's code where the app
    is on), and each method with a page of its own."""
    user = request.user
    has = set_up_by(request.dbsession, user.id, login_methods(request.registry))
    keys = {method.key for method in has}
    others = [method for method in has
              if method.step_up_route and method.step_up_route != VERIFY_ROUTE]
    return {"error": error, "next": safe_next(request.params.get("next"), "/account"),
            # the password form also where nothing else is set up: never an empty page
            "password": "pwd" in keys or not others, "needs_code": "otp" in keys,
            "others": others}


@view_config(route_name="reauth", renderer="mypages:templates/reauth.jinja2",
             permission="signed-in", request_method="GET")
def reauth_form(request):
    return _reauth_page(request)


@view_config(route_name="reauth", renderer="mypages:templates/reauth.jinja2",
             permission="signed-in", request_method="POST")
def reauth(request):
    """Prove it is still you before a sensitive change (ASVS 7.5.1)."""
    user = request.user
    next_url = safe_next(request.POST.get("next"), "/account")
    needs_code = totp.is_enabled(request.dbsession, user.id)
    checked, error = check_password(request, user.email, request.POST.get("password", ""))
    if error is not None:
        return _reauth_page(request, error)
    methods = ["pwd"]
    if needs_code:
        method, error = check_second_factor(request, user, request.POST.get("code", ""))
        if error is not None:
            return _reauth_page(request, error)
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
