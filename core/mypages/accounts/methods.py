"""Sign-in methods: those that prove a user, which of them a user has set up, which count as
a second factor where, and how recently a session was proven.

A session records which methods proved the user and when (``amr``). The core's methods are
below, described like any plugin's (:class:`~mypages.contract.LoginMethod`): the pages ask
every method the same questions, so the authenticator app is one method among others. Plugins
add theirs through ``mypages_login_methods`` (Single Sign On adds one per identity provider).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from mypages.accounts import totp
from mypages.accounts.models import User
from mypages.contract import LoginMethod
from mypages.db import utcnow
from mypages.i18n import _

#: how recent a proof must be for sensitive changes (turning 2FA off, new recovery codes)
REAUTH_WINDOW = dt.timedelta(minutes=10)
#: the route of the second step, where the authenticator app's code is typed
VERIFY_ROUTE = "login_verify"
#: where the authenticator app is set up and turned off
TWO_FACTOR_ROUTE = "two_factor"


def has_password(dbsession, user_id: int) -> bool:
    user = dbsession.get(User, user_id)
    return user is not None and user.password_hash is not None


CORE_METHODS = [
    LoginMethod("pwd", _("Password"), is_mfa=False, is_local=True, is_set_up=has_password),
    LoginMethod("otp", _("Authenticator app (TOTP)"), is_mfa=True, is_local=True,
                step_up_route=VERIFY_ROUTE, enrol_route=TWO_FACTOR_ROUTE,
                unlink_route=TWO_FACTOR_ROUTE, is_set_up=totp.is_enabled,
                set_up_among=totp.enabled_among),
    # typed where the app's code is: offered with it, never on its own
    LoginMethod("recovery", _("Recovery code"), is_mfa=True, is_local=True),
]


def login_methods(registry) -> dict[str, LoginMethod]:
    return registry["accounts.login_methods"]


def build_on_ready(registry) -> None:
    methods = {}
    for offered in registry["plugins.manager"].hook.mypages_login_methods():
        for method in offered or []:
            methods[method.key] = method
    registry["accounts.login_methods"] = methods


def has_second_factor(amr: dict, methods: dict, entitled: Iterable[str] = frozenset()) -> bool:
    """Whether a method that counts as a second factor where ``entitled`` modules are (a
    company's; none outside companies) proved the session."""
    entitled = frozenset(entitled)
    return any(methods[key].counts_as_second_factor(entitled) for key in amr if key in methods)


def set_up_by(dbsession, user_id: int, methods: dict) -> list[LoginMethod]:
    """The methods the user has set up, in the order they were offered."""
    return [method for method in methods.values() if method.set_up_for(dbsession, user_id)]


def second_factors_of(dbsession, user_id: int, methods: dict,
                      entitled: Iterable[str] | None = None) -> list[LoginMethod]:
    """The second factors the user has set up: every one (``entitled`` None), or those that
    count where ``entitled`` modules are."""
    return [method for method in set_up_by(dbsession, user_id, methods) if method.is_mfa and (
        entitled is None or method.counts_as_second_factor(frozenset(entitled)))]


def second_factors_among(dbsession, user_ids: list[int], methods: dict,
                         entitled: Iterable[str]) -> dict[int, list[LoginMethod]]:
    """For each of ``user_ids`` who has any, the second factors they have set up that count
    where ``entitled`` modules are: one query a method, not one a person."""
    found: dict[int, list[LoginMethod]] = {}
    entitled = frozenset(entitled)
    for method in methods.values():
        if user_ids and method.counts_as_second_factor(entitled):
            for user_id in sorted(method.set_up_by_any(dbsession, user_ids)):
                found.setdefault(user_id, []).append(method)
    return found


def recently_proven(user_session, window: dt.timedelta | None = None,
                    now: dt.datetime | None = None) -> bool:
    """True if the user proved themselves within ``window`` before ``now`` (for sensitive
    changes)."""
    if user_session is None:
        return False
    window = REAUTH_WINDOW if window is None else window
    now = now or utcnow()
    for when in (user_session.amr or {}).values():
        if now - dt.datetime.fromisoformat(when) <= window:
            return True
    return False
