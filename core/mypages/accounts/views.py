from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select

from mypages.accounts import end_session, start_session
from mypages.accounts.models import User
from mypages.accounts.passwords import hash_password, needs_rehash, verify_password
from mypages.i18n import LANGUAGES, LOCALE_COOKIE, _, supported
from mypages.plugins import notify
from mypages.web.safety import safe_next


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="GET")
def login_form(request):
    if request.user is not None:
        return HTTPSeeOther(safe_next(request.params.get("next")))
    return {"email": "", "next": safe_next(request.params.get("next"), ""), "error": None}


@view_config(route_name="login", renderer="mypages:templates/login.jinja2", request_method="POST")
def login(request):
    email = request.POST.get("email", "").strip().lower()
    password = request.POST.get("password", "")
    next_url = safe_next(request.POST.get("next"), "")
    user = request.dbsession.scalars(select(User).where(User.email == email)).one_or_none()
    hashed = user.password_hash if user is not None and user.is_active else None
    if not (email and password and verify_password(hashed, password)):
        request.audit("account.sign_in_failed", target=email, company=None)
        request.response.status = 400
        return {"email": email, "next": next_url,
                "error": _("The e-mail address or the password is wrong.")}
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    start_session(request, user, "pwd")
    request.audit("account.signed_in", target=user.email, company=None, method="pwd")
    notify(request.hooks.mypages_user_signed_in, request, request=request, user=user)
    return HTTPSeeOther(next_url or request.route_url("home"))


@view_config(route_name="logout", request_method="POST")
def logout(request):
    if request.user is not None:
        request.audit("account.signed_out", target=request.user.email, company=None)
    end_session(request)
    return HTTPSeeOther(request.route_url("login"))


@view_config(route_name="account", renderer="mypages:templates/account.jinja2",
             permission="signed-in", request_method="GET")
def account(request):
    return {"languages": LANGUAGES}


@view_config(route_name="set_locale", request_method="POST")
def set_locale(request):
    """The language switcher: saved on the user, or in a cookie before sign-in."""
    code = supported(request.POST.get("locale"))
    response = HTTPSeeOther(safe_next(request.POST.get("next")))
    if code is None:
        return response
    if request.user is not None:
        request.user.locale = code
    else:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.registry.settings["mypages.session.secure"])
    return response
