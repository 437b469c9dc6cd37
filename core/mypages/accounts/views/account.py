"""The signed-in user's own pages: account, language, sessions, password."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select, update

from mypages.accounts import end_session, end_user_sessions, add_methods
from mypages.accounts import totp
from mypages.accounts.browsers import device_of
from mypages.accounts.methods import TWO_FACTOR_ROUTE, login_methods
from mypages.accounts.models import User, UserSession
from mypages.accounts.password_policy import problems
from mypages.accounts.rules import sign_in_rules
from mypages.i18n import LANGUAGES, LOCALE_COOKIE, _, supported
from mypages.services import clock, password_hasher, settings_of
from mypages.web.safety import safe_next


@view_config(route_name="account", renderer="mypages:templates/account.jinja2",
             permission="signed-in", request_method="GET")
def account(request):
    # the authenticator app has its own page; other methods link to theirs
    methods = [(method, method.set_up_for(request.dbsession, request.user.id))
               for method in login_methods(request.registry).values()
               if (method.enrol_route or method.unlink_route)
               and method.enrol_route != TWO_FACTOR_ROUTE]
    return {"languages": LANGUAGES,
            "two_factor": totp.is_enabled(request.dbsession, request.user.id),
            "methods": methods, "messages": request.session.pop_flash()}


@view_config(route_name="set_locale", request_method="POST")
def set_locale(request):
    """The language switcher: saved on the user, or in a cookie before sign-in."""
    code = supported(request.POST.get("locale"))
    response = HTTPSeeOther(safe_next(request.POST.get("next")))
    if code is None:
        return response
    if request.user is not None:
        request.dbsession.get(User, request.user.id).locale = code
    else:
        response.set_cookie(LOCALE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=settings_of(request).session_secure)
    return response


def active_sessions(request, user_id: int):
    return request.dbsession.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .order_by(UserSession.last_seen_at.desc())).all()


@view_config(route_name="sessions", renderer="mypages:templates/sessions.jinja2",
             permission="signed-in", request_method="GET")
def sessions(request):
    return {"sessions": active_sessions(request, request.user.id),
            "current": request.user_session.id, "device_of": device_of}


@view_config(route_name="sessions", permission="signed-in", request_method="POST")
def end_one_session(request):
    """End one of the user's own sessions; ending the current one signs out."""
    session_id = request.POST.get("session_id", "")
    if session_id == request.user_session.id:
        request.audit("session.ended", target=request.user.email, company=None, own=True)
        end_session(request)
        return HTTPSeeOther(request.route_url("login"))
    ended = request.dbsession.execute(
        update(UserSession).where(UserSession.id == session_id,
                                  UserSession.user_id == request.user.id,
                                  UserSession.ended_at.is_(None))
        .values(ended_at=clock(request).now())
        .execution_options(synchronize_session=False)).rowcount
    if ended:
        request.audit("session.ended", target=request.user.email, company=None)
        request.session.flash(request.translate(_("The session has been ended.")))
    return HTTPSeeOther(request.route_url("sessions"))


def _password_page(request, error=None, field_errors=None):
    """The form; ``field_errors``: each field's own error (or errors), shown beside it."""
    return {"error": error, "field_errors": field_errors or {},
            "min_length": sign_in_rules(request.registry).min_password_length(
                request.dbsession, request.user.id)}


@view_config(route_name="change_password", renderer="mypages:templates/password_change.jinja2",
             permission="signed-in", request_method="GET")
def change_password_form(request):
    return _password_page(request)


@view_config(route_name="change_password", renderer="mypages:templates/password_change.jinja2",
             permission="signed-in", request_method="POST")
def change_password(request):
    user = request.dbsession.get(User, request.user.id)
    rules = sign_in_rules(request.registry)
    if not rules.password_allowed(request.dbsession, user.id):
        request.response.status = 403
        return _password_page(request, _("Your company requires sign-in through Single Sign On, "
                                         "so your account has no password to change."))
    passwords = password_hasher(request)
    if not passwords.verify(user.password_hash, request.POST.get("current", "")):
        request.audit("account.password_change_refused", target=user.email, company=None)
        request.response.status = 400
        return _password_page(request, field_errors={
            "current": _("The current password is wrong.")})
    new = request.POST.get("new", "")
    if new != request.POST.get("repeat", ""):
        request.response.status = 400
        return _password_page(request, field_errors={
            "repeat": _("The two new passwords are not the same.")})
    found = problems(new, email=user.email,
                     min_length=rules.min_password_length(request.dbsession, user.id))
    if found:
        request.response.status = 400
        return _password_page(request, field_errors={"new": found})
    user.password_hash = passwords.hash(new)
    ended = end_user_sessions(request.dbsession, user.id, keep=request.user_session.id)
    add_methods(request, ["pwd"])
    request.audit("account.password_changed", target=user.email, company=None,
                  other_sessions_ended=ended)
    request.session.flash(request.translate(_("Your password has been changed. "
                                              "You have been signed out everywhere else.")))
    return HTTPSeeOther(request.route_url("account"))
