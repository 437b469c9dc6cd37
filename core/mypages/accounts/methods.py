"""Sign-in methods: those that prove a user, which of them count as a second factor, and
how recently a session was proven.

A session records which methods proved the user and when (``amr``). The core's methods are
below; plugins add theirs through ``mypages_login_methods`` (Single Sign On adds one per
identity provider).
"""
from __future__ import annotations

import datetime as dt

from mypages.contract import LoginMethod
from mypages.db import utcnow
from mypages.i18n import _

#: how recent a proof must be for sensitive changes (turning 2FA off, new recovery codes)
REAUTH_WINDOW = dt.timedelta(minutes=10)

CORE_METHODS = [
    LoginMethod("pwd", _("Password"), is_mfa=False, is_local=True),
    LoginMethod("otp", _("Authenticator app (TOTP)"), is_mfa=True, is_local=True),
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


def has_second_factor(amr: dict, methods: dict) -> bool:
    """Whether a method that counts as a second factor proved the session."""
    return any(methods[key].is_mfa for key in amr if key in methods)


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


