"""Users, passwords, server-side sessions and sign-in."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from pyramid.security import Allowed, Denied
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from sqlalchemy import bindparam, select, update

from mypages.accounts.models import TotpCredential, User, UserSession
from mypages.accounts.policy import build_on_ready, policy_view_deriver
from mypages.db import utcnow

SESSION_COOKIE = "mypages_session"
AUTH_KEY = "auth"
#: seen-at is written at most this often, so reading a page does not write
TOUCH_EVERY = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_session_row(request, user: User, amr: dict, created_at=None) -> UserSession:
    """A fresh session id in a fresh cookie session, with a new CSRF token."""
    request.session.invalidate()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = UserSession(
        id=_digest(token), user_id=user.id, created_at=created_at or now, last_seen_at=now,
        amr=amr, ip=request.client_addr or "", user_agent=(request.user_agent or "")[:300],
    )
    request.dbsession.add(row)
    request.session[AUTH_KEY] = token
    request.session.new_csrf_token()
    request.user = user
    request.user_session = row
    return row


def start_session(request, user: User, methods: dict[str, str]) -> UserSession:
    """Sign ``user`` in; ``methods`` maps each method that proved them to when (ISO time)."""
    row = _new_session_row(request, user, dict(methods))
    user.last_sign_in_at = utcnow()
    return row


def add_methods(request, methods: list[str]) -> UserSession:
    """Record newly proven methods (step-up); the session id changes with the privilege."""
    old = request.user_session
    now = utcnow().isoformat()
    amr = dict(old.amr or {})
    amr.update({method: now for method in methods})
    old.ended_at = utcnow()
    return _new_session_row(request, request.user, amr, created_at=old.created_at)


def end_user_sessions(dbsession, user_id: int, keep: str | None = None) -> int:
    """End every session of a user (but ``keep``); returns how many were ended."""
    conditions = [UserSession.user_id == user_id, UserSession.ended_at.is_(None)]
    if keep is not None:
        conditions.append(UserSession.id != keep)
    result = dbsession.execute(update(UserSession).where(*conditions).values(ended_at=utcnow())
                               .execution_options(synchronize_session=False))
    return result.rowcount


def end_session(request) -> None:
    token = request.session.get(AUTH_KEY)
    if token:
        request.dbsession.execute(
            update(UserSession).where(UserSession.id == _digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    request.session.invalidate()
    request.user = None


#: the signed-in browser's session and user, by the digest of the cookie's token
SESSION_BY_DIGEST = (
    select(UserSession, User).join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("digest"), UserSession.ended_at.is_(None))
)


def session_digest(request) -> str | None:
    token = request.session.get(AUTH_KEY)
    return _digest(token) if token else None


def adopt_session(request, user_session: UserSession, user: User) -> User | None:
    """Check a loaded session (account enabled, platform timeouts), note when it was last
    seen, and make it the request's. Returns the user, or None if the session is over."""
    request.user_session = None
    request.user = None
    settings = request.registry.settings
    now = utcnow()
    if not user.is_active:
        # ended, not just refused, so enabling the account again revives none of them
        # (ASVS 7.4.2); in a transaction of its own, as an error page aborts the request's
        with request.registry["db.session_factory"].begin() as own:
            end_user_sessions(own, user.id)
        return None
    if (now - user_session.last_seen_at > settings["mypages.session.idle_timeout"]
            or now - user_session.created_at > settings["mypages.session.absolute_timeout"]):
        user_session.ended_at = now
        return None
    # the idle time before this request, for the company policies to judge
    user_session.idle_since = user_session.last_seen_at
    if now - user_session.last_seen_at > TOUCH_EVERY:
        user_session.last_seen_at = now
    request.user_session = user_session
    request.user = user
    return user


def _user(request):
    digest = session_digest(request)
    row = request.dbsession.execute(SESSION_BY_DIGEST, {"digest": digest}).first() if digest else None
    if row is None:
        request.user_session = None
        return None
    return adopt_session(request, *row)


def _user_session(request):
    request.user  # loading the user sets the session row too
    return request.__dict__.get("user_session")


class SecurityPolicy:
    """Identity from the server-side session; permissions from the context.

    Company-scoped contexts answer ``company.view`` for members and
    ``company.admin`` for that company's admins; ``operator`` is for platform
    operators only.
    """

    def identity(self, request):
        return request.user

    def authenticated_userid(self, request):
        user = request.user
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        user = request.user
        if user is None:
            return Denied("not signed in")
        if permission == "signed-in":
            return Allowed("signed in")
        if permission == "operator":
            return Allowed("operator") if user.is_operator else Denied("not an operator")
        check = getattr(context, "permits", None)
        if check is not None and check(user, permission):
            return Allowed(permission)
        return Denied(permission)

    def remember(self, request, userid, **kw):
        return []

    def forget(self, request, **kw):
        return []


def includeme(config):
    settings = config.get_settings()
    settings["mypages.session.idle_timeout"] = dt.timedelta(
        minutes=int(settings.get("mypages.session.idle_minutes", 8 * 60)))
    settings["mypages.session.absolute_timeout"] = dt.timedelta(
        hours=int(settings.get("mypages.session.absolute_hours", 7 * 24)))
    config.set_session_factory(SignedCookieSessionFactory(
        settings["mypages.secret"], cookie_name=SESSION_COOKIE,
        secure=settings["mypages.session.secure"], httponly=True, samesite="Lax",
        serializer=JSONSerializer(), timeout=None, reissue_time=None,
    ))
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(SecurityPolicy())
    config.add_request_method(_user, "user", reify=True)
    config.add_request_method(_user_session, "user_session", reify=True)
    config.register_core_hooks("core.accounts", "mypages.accounts.hooks")
    config.add_encrypted_column(TotpCredential.secret_encrypted)
    config.on_plugins_ready(build_on_ready)
    config.add_view_deriver(policy_view_deriver, name="company_policy")
    config.add_route("login", "/login")
    config.add_route("login_verify", "/login/verify")
    config.add_route("logout", "/logout")
    config.add_route("account", "/account")
    config.add_route("reauth", "/account/confirm")
    config.add_route("two_factor", "/account/two-factor")
    config.add_route("two_factor_qr", "/account/two-factor/qr.svg")
    config.add_route("recovery_codes", "/account/two-factor/recovery-codes")
    config.add_route("change_password", "/account/password")
    config.add_route("sessions", "/account/sessions")
    config.add_route("password_forgot", "/password/forgot")
    config.add_route("password_reset", "/password/reset/{token}")
    config.scan(".views")
