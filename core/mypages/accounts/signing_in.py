"""Signing in and stepping up, whatever the method: the password, the authenticator app, Single
Sign On and every plugin's method go through :func:`sign_in` and :func:`step_up` (both in
:mod:`mypages.toolkit`).

Each comes in two parts. The domain part takes a :class:`~mypages.work.Work` and plain values
and writes what a sign-in writes (:func:`refusal_of`, :func:`second_step_needed`,
:func:`record_sign_in`); the request part around it (:func:`sign_in`) translates the request
into that call and the answer into a browser's cookies: the session's token, the known-device
cookie, the ``mypages_user_signed_in`` event and where the browser goes next.

A sign-in by a first factor alone (a password, say) of someone who has a second factor set up
is not finished: it waits, for :data:`PENDING_SECONDS`, in the browser's signed session for
the second step (the "verify" page and any method's step-up route), which :func:`step_up`
finishes.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from mypages.accounts import add_methods, adopt_session, throttle
from mypages.accounts.devices import known_user_ids, remember_device
from mypages.accounts.methods import login_methods, second_factors_of
from mypages.accounts.models import User, UserSession
from mypages.accounts.rules import sign_in_rules
from mypages.accounts.throttle import SIGN_IN
from mypages.contract import CompanyInfo, SignInRefused, UserInfo
from mypages.i18n import LOCALE_COOKIE, _, supported
from mypages.plugins import notify
from mypages.services import clock, session_store
from mypages.web.inputs import as_id
from mypages.web.safety import safe_next
from mypages.work import Actor, Work, work_of

#: where a sign-in waiting for its second step is kept in the browser's signed session
PENDING = "pending_sign_in"
PENDING_SECONDS = 300

SSO_ONLY = _("Your company requires sign-in through Single Sign On. "
             "Password sign-in is closed for your account.")
DISABLED = _("This account is disabled.")

#: what proved someone: method keys (proven now), or keys mapped to when (ISO text or datetime)
Methods = Iterable[str] | Mapping[str, "str | dt.datetime"]


def proven_at(methods: Methods, now: dt.datetime) -> dict[str, str]:
    """``methods`` as a session records them: each key mapped to an ISO time."""
    if isinstance(methods, Mapping):
        return {key: when.isoformat() if isinstance(when, dt.datetime) else str(when)
                for key, when in methods.items()}
    return {key: now.isoformat() for key in methods}


def _known(registry, proven: Mapping[str, str]) -> None:
    """Only registered methods prove anyone: a typing error must not open a session."""
    unknown = sorted(set(proven) - set(login_methods(registry)))
    if unknown or not proven:
        raise ValueError(f"not sign-in methods: {unknown or 'none given'}")


# -- the domain part ------------------------------------------------------------

def refusal_of(work: Work, user: User, proven: Mapping[str, str]) -> SignInRefused | None:
    """Why ``user`` may not sign in with ``proven``, else None: a disabled account, or a local
    method (a password, the authenticator app) of someone a company requires Single Sign On
    of (its break-glass admins excepted)."""
    if not user.is_active:
        return SignInRefused(DISABLED).audited("account.sign_in_refused", target=user.email,
                                               reason="disabled", subject_id=user.id)
    methods = login_methods(work.registry)
    local = any(methods[key].is_local for key in proven if key in methods)
    if local and not sign_in_rules(work.registry).password_allowed(work.dbsession, user.id):
        return SignInRefused(SSO_ONLY).audited("account.sign_in_refused", target=user.email,
                                               reason="sso_required", subject_id=user.id)
    return None


def second_step_needed(work: Work, user_id: int, proven: Mapping[str, str]) -> bool:
    """A sign-in by no second factor, of someone who has one set up, waits for it."""
    methods = login_methods(work.registry)
    if any(methods[key].is_mfa for key in proven if key in methods):
        return False
    return bool(second_factors_of(work.dbsession, user_id, methods))


def record_sign_in(work: Work, user: User, proven: Mapping[str, str], *, user_agent: str = "",
                   locale: str | None = None, company: CompanyInfo | None = None,
                   new_device: bool = False) -> tuple[str, UserSession]:
    """Write a sign-in: a new session (its token and row), the time of the sign-in, the
    language chosen before it (``locale``) if the account has none, the account's throttle
    counter cleared (every factor passed), and the audit event, by the user, in ``company``'s
    trail if the sign-in was for a company (and the trails of the person's companies), saying
    whether the browser is one the person never signed in on (``new_device``)."""
    if user.locale is None and locale:
        user.locale = locale
    user.last_sign_in_at = work.now()
    token, row = session_store(work.registry).open(
        work.dbsession, user.id, dict(proven), ip=work.actor.ip, user_agent=user_agent)
    throttle.clear(work.dbsession, SIGN_IN, user.email)
    by_user = Work(work.dbsession, work.registry, Actor(UserInfo.of(user), work.actor.ip, row.id))
    by_user.audit("account.signed_in", company=company, target=user.email,
                  methods=sorted(proven), new_device=new_device)
    return token, row


# -- the request part -----------------------------------------------------------

def _user_row(dbsession, user) -> User | None:
    user_id = user if isinstance(user, int) else user.id
    return dbsession.get(User, user_id)


def sign_in(request, user: UserInfo | int, methods: Methods, next_url: str = "", *,
            company: CompanyInfo | None = None):
    """Sign ``user`` (a :class:`~mypages.toolkit.UserInfo` or a user id) in: ``methods`` are
    the keys of the sign-in methods that proved them just now (or a mapping of key to when).

    Everything the password sign-in does: refuses a disabled account and, for a local
    method, a person a company requires Single Sign On of (:class:`SignInRefused`, audited);
    ends the session already signed in in this browser, if any; waits for the second step if
    no method given is a second factor and the person has one set up; else starts a session
    under a new id with the methods and their times (amr),
    keeps the language chosen before signing in, audits ``account.signed_in`` and announces
    ``mypages_user_signed_in``. Returns the redirect to ``next_url`` (checked to stay on this
    site), or to the person's home: the company chooser for people of several companies.
    """
    work = work_of(request)
    proven = proven_at(methods, work.now())
    _known(request.registry, proven)
    row = _user_row(request.dbsession, user)
    if row is None:
        raise ValueError(f"no user {user!r}")
    refused = refusal_of(work, row, proven)
    if refused is not None:
        raise refused
    next_url = safe_next(next_url, "")
    if request.user_session is not None:
        # someone signed in already in this browser: their session ends with this one
        session_store(request).end(request.dbsession, request.user_session.id)
    if second_step_needed(work, row.id, proven):
        request.session.invalidate()  # nothing from before sign-in survives it
        request.session[PENDING] = {"user_id": row.id, "proven": proven, "next": next_url,
                                    "started": time.time()}
        return HTTPSeeOther(request.route_url("login_verify"))
    token, session_row = record_sign_in(
        work, row, proven, user_agent=request.user_agent or "",
        locale=supported(request.cookies.get(LOCALE_COOKIE)), company=company,
        new_device=row.id not in known_user_ids(request))
    adopt_session(request, token, session_row, row)
    remember_device(request, row.id)
    notify(request.hooks.mypages_user_signed_in, request, request=request, user=request.user)
    return HTTPSeeOther(next_url or request.route_url("home"))


def pending_sign_in(request) -> dict | None:
    """The sign-in waiting for its second step in this browser, if any and not too old."""
    pending = request.session.get(PENDING)
    if (not pending or "proven" not in pending
            or time.time() - pending["started"] > PENDING_SECONDS):
        return None
    return pending


def user_to_prove(request) -> UserInfo | None:
    """Whom a step-up proves: the signed-in user, or the person whose sign-in waits for its
    second step in this browser; None if neither."""
    if request.user is not None:
        return request.user
    pending = pending_sign_in(request)
    user = request.dbsession.get(User, pending["user_id"]) if pending else None
    return UserInfo.of(user) if user is not None and user.is_active else None


def step_up(request, methods: Methods, next_url: str | None = None, *,
            company: CompanyInfo | None = None):
    """Record that ``methods`` (keys, proven just now) proved :func:`user_to_prove`: for the
    signed-in user, the session gets them under a new id (audited ``account.stepped_up``);
    for a sign-in waiting for its second step, the sign-in is finished with every method of
    both steps (:func:`sign_in`). Returns the redirect to ``next_url`` (``next`` of the
    request by default), or to the sign-in page when there is nobody to prove."""
    if next_url is None:
        next_url = request.params.get("next", "")
    proven = proven_at(methods, clock(request).now())
    _known(request.registry, proven)
    if request.user is not None:
        add_methods(request, proven)
        request.audit("account.stepped_up", target=request.user.email, company=company,
                      methods=sorted(proven))
        return HTTPSeeOther(safe_next(next_url))
    pending = pending_sign_in(request)
    if pending is None:
        return HTTPSeeOther(request.route_url("login"))
    both = dict(pending["proven"], **proven)
    return sign_in(request, pending["user_id"], both, next_url or pending["next"],
                   company=company)


def asking_company_modules(request, user_id: int) -> frozenset[str] | None:
    """What the company in ``?company=`` (the one whose policy sent the person here) is
    entitled to, if the person is its member; else None."""
    company_id = as_id(request.params.get("company", ""))
    if company_id is None:
        return None
    return sign_in_rules(request.registry).entitled_modules(
        request.dbsession, user_id, company_id, clock(request).now())


def user_by_email(dbsession, email: str) -> User | None:
    return dbsession.scalars(select(User).where(User.email == email)).one_or_none()
