"""Users, passwords, server-side sessions and sign-in."""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pyramid.security import Allowed, Denied
from sqlalchemy import update

from mypages.accounts.models import TotpCredential, User, UserSession
from mypages.accounts.methods import build_on_ready
from mypages.accounts.session_cookie import session_factory
from mypages.contract import UserInfo
from mypages.db import ColumnGroup, committed_on_its_own, utcnow
from mypages.services import SessionStore, clock, session_store, settings_of

if TYPE_CHECKING:  # the settings read the password cost of this package
    from mypages.settings import Settings

SESSION_COOKIE = "mypages_session"
AUTH_KEY = "auth"
#: seen-at is written at most this often, so reading a page does not write
TOUCH_EVERY = dt.timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def adopt_session(request, token: str, row: UserSession, user) -> None:
    """The request's part of a new session: a fresh cookie session holding its token (and a
    new CSRF token), and the request acting for ``user`` from now on."""
    request.session.invalidate()
    request.session[AUTH_KEY] = token
    request.session.new_csrf_token()
    request.request_context.act_as(
        SessionInfo(row.id, row.user_id, row.created_at, row.last_seen_at, dict(row.amr)),
        user if isinstance(user, UserInfo) else UserInfo.of(user))


def _new_session_row(request, user, amr: dict, created_at=None) -> UserSession:
    """A fresh session id in a fresh cookie session, with a new CSRF token."""
    token, row = session_store(request).open(
        request.dbsession, user.id, amr, ip=request.client_addr,
        user_agent=request.user_agent or "", created_at=created_at)
    adopt_session(request, token, row, user)
    return row


def start_session(request, user: User, methods: dict[str, str]) -> UserSession:
    """Sign ``user`` in; ``methods`` maps each method that proved them to when (ISO time)."""
    user.last_sign_in_at = clock(request).now()
    return _new_session_row(request, user, dict(methods))


def add_methods(request, methods: list[str] | dict[str, str]) -> UserSession:
    """Record newly proven methods (step-up), each proven now or at the time ``methods``
    maps it to; the session id changes with the privilege."""
    old = request.user_session
    now = clock(request).now().isoformat()
    amr = dict(old.amr or {})
    amr.update(methods if isinstance(methods, dict) else {method: now for method in methods})
    session_store(request).end(request.dbsession, old.id)
    return _new_session_row(request, request.user, amr, created_at=old.created_at)


def note_proof(request, key: str) -> None:
    """Add ``key``, proven now, to the session this request has just opened or stepped up
    (under its new id already): what a layer above records of the proof, such as whose Single
    Sign On connection it went through. Not a sign-in method: no plugin's sign-in records it."""
    session = request.user_session
    row = request.dbsession.get(UserSession, session.id)
    amr = dict(row.amr or {}, **{key: clock(request).now().isoformat()})
    row.amr = amr
    request.request_context.act_as(replace(session, amr=amr), request.user)


def end_user_sessions(dbsession, user_id: int, keep: str | None = None,
                      now: dt.datetime | None = None) -> int:
    """End every session of a user (but ``keep``); returns how many were ended."""
    conditions = [UserSession.user_id == user_id, UserSession.ended_at.is_(None)]
    if keep is not None:
        conditions.append(UserSession.id != keep)
    result = dbsession.execute(update(UserSession).where(*conditions)
                               .values(ended_at=now or utcnow())
                               .execution_options(synchronize_session=False))
    return result.rowcount


def end_session(request) -> None:
    token = request.session.get(AUTH_KEY)
    if token:
        session_store(request).end(request.dbsession, _digest(token))
    request.session.invalidate()
    request.request_context.act_as(None, None)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """The signed-in browser's session as read when the request began: ``request.user_session``
    (``last_seen_at`` is the time before this request, for idle timeouts to judge)."""

    id: str
    user_id: int
    created_at: dt.datetime
    last_seen_at: dt.datetime
    amr: dict


#: :class:`SessionInfo` and :class:`UserInfo` in a row: ``SESSION_GROUP.from_mapping(row._mapping)``
#: (None where no session was found) from the labelled ``SESSION_COLUMNS``, and so on
SESSION_GROUP = ColumnGroup.of(SessionInfo, "session")
USER_GROUP = ColumnGroup.of(UserInfo, "user")
SESSION_COLUMNS = SESSION_GROUP.columns(UserSession.__table__)
USER_COLUMNS = USER_GROUP.columns(User.__table__)


def session_digest(request) -> str | None:
    """The digest of the session cookie's token; None without one, and always None where
    another security policy rules (:func:`add_security_realm`): there the cookie is not read."""
    if _realm_of(request) is not None:
        return None
    token = request.session.get(AUTH_KEY)
    return _digest(token) if token else None


def _realm_of(request):
    """The security policy of the realm ``request`` is in, or None (the session's)."""
    for claims, policy in request.registry.get("accounts.realms", ()):
        if claims(request):
            return policy
    return None


def add_security_realm(config, claims, policy) -> None:
    """Directive: requests for which ``claims(request)`` is true are judged by ``policy`` (a
    Pyramid security policy) alone, never by the browser's session: its cookie is not even
    read there, so a signed-in browser brings none of its rights along (the REST API's
    tokens, core/mypages/api/)."""
    config.registry.setdefault("accounts.realms", []).append((claims, policy))


class SessionUpkeep(enum.Enum):
    """What a session found at the start of a request needs written."""

    #: seen again more than :data:`TOUCH_EVERY` after it was last noted: note the time
    touch = "touch"
    #: idle or open longer than the platform allows: end it
    end = "end"
    #: its account is disabled: end every session of the account, so enabling the account
    #: again revives none of them (ASVS 7.4.2)
    end_all = "end_all"


def check_session(settings: Settings, user_session: SessionInfo, user: UserInfo,
                  now: dt.datetime) -> SessionUpkeep | None:
    """Judge a session found by its digest against the platform's rules (the company's own
    are judged per page, by the policy engine). The session goes on unless the answer is
    :attr:`SessionUpkeep.end` or :attr:`SessionUpkeep.end_all`; the answer is written by
    :func:`session_upkeep`."""
    if not user.is_active:
        return SessionUpkeep.end_all
    if (now - user_session.last_seen_at > settings.session_idle
            or now - user_session.created_at > settings.session_absolute):
        return SessionUpkeep.end
    if now - user_session.last_seen_at > TOUCH_EVERY:
        return SessionUpkeep.touch
    return None


def session_upkeep(registry, user_session: SessionInfo, upkeep: SessionUpkeep) -> None:
    """The one place where reading a page writes to its session: last seen (at most once a
    minute), or ended at a timeout or because the account is disabled. In a transaction of
    its own, after the page is made, so an error page (which aborts the request's
    transaction) ends the session all the same."""
    session_store(registry).keep_up(user_session, upkeep)


class DatabaseSessionStore(SessionStore):
    """Sessions as rows of ``user_sessions``, keyed by the SHA-256 digest of the cookie's
    token (a stolen database holds no usable token), timed by the application's clock."""

    def __init__(self, registry):
        self.registry = registry

    def _now(self) -> dt.datetime:
        return clock(self.registry).now()

    def open(self, dbsession, user_id: int, amr: dict, *, ip: str, user_agent: str,
             created_at: dt.datetime | None = None) -> tuple[str, UserSession]:
        token = secrets.token_urlsafe(32)
        now = self._now()
        row = UserSession(id=_digest(token), user_id=user_id, created_at=created_at or now,
                          last_seen_at=now, amr=amr, ip=ip, user_agent=user_agent[:300])
        dbsession.add(row)
        return token, row

    def end(self, dbsession, session_id: str) -> None:
        dbsession.execute(update(UserSession).where(UserSession.id == session_id,
                                                    UserSession.ended_at.is_(None))
                          .values(ended_at=self._now()))

    def end_all(self, dbsession, user_id: int, keep: str | None = None) -> int:
        return end_user_sessions(dbsession, user_id, keep, now=self._now())

    def judge(self, session: SessionInfo, user: UserInfo) -> SessionUpkeep | None:
        return check_session(settings_of(self.registry), session, user, self._now())

    def keep_up(self, session: SessionInfo, upkeep: SessionUpkeep) -> None:
        with committed_on_its_own(self.registry) as own:
            if upkeep is SessionUpkeep.end_all:
                self.end_all(own, session.user_id)
            elif upkeep is SessionUpkeep.end:
                self.end(own, session.id)
            else:
                own.execute(update(UserSession).where(UserSession.id == session.id,
                                                      UserSession.ended_at.is_(None))
                            .values(last_seen_at=self._now())
                            .execution_options(synchronize_session=False))


class SecurityPolicy:
    """Identity from the server-side session; permissions from the context.

    Company-scoped contexts answer ``company.view`` for members and
    ``company.admin`` for that company's admins; ``operator`` is for platform
    operators only. A request of a realm (:func:`add_security_realm`) is judged by that
    realm's policy instead.
    """

    def identity(self, request):
        realm = _realm_of(request)
        if realm is not None:
            return realm.identity(request)
        return request.user

    def authenticated_userid(self, request):
        realm = _realm_of(request)
        if realm is not None:
            return realm.authenticated_userid(request)
        user = request.user
        return user.id if user is not None else None

    def permits(self, request, context, permission):
        realm = _realm_of(request)
        if realm is not None:
            return realm.permits(request, context, permission)
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
    settings = settings_of(config)
    config.set_session_factory(session_factory(settings.secret, SESSION_COOKIE,
                                               secure=settings.session_secure))
    config.register_service(DatabaseSessionStore(config.registry), SessionStore)
    config.include(".passwords")
    config.set_default_csrf_options(require_csrf=True)
    config.set_security_policy(SecurityPolicy())
    config.add_directive("add_security_realm", add_security_realm)
    config.include(".rules")
    config.include(".purge")  # ended sessions, used e-mail links, old throttling counters
    config.register_core_hooks("core.accounts", "mypages.accounts.hooks")
    config.register_encrypted_column(TotpCredential.secret_encrypted)
    config.on_plugins_ready(build_on_ready)
    config.include(".reauth")  # the require_reauth= view option
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
