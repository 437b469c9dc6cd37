"""The value types of the plugin contract (re-exported by :mod:`mypages.toolkit`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from pyramid.i18n import TranslationString


@dataclass(frozen=True)
class Price:
    """A price shown in the catalogue, formatted per locale by Babel."""

    amount: Decimal
    currency: str = "SEK"
    per: TranslationString | None = None  # for example _("per month")


@dataclass(frozen=True)
class Module:
    """Something a company can activate: offered by a plugin through ``mypages_modules``."""

    key: str
    title: TranslationString
    description: TranslationString
    trial_days: int = 10
    price: Price | None = None


@dataclass(frozen=True)
class SettingsTab:
    """A tab under company settings, linking to a route with a ``company_id`` placeholder."""

    key: str
    title: TranslationString
    route_name: str
    order: int = 100


@dataclass(frozen=True)
class DashboardCard:
    """A card on the company dashboard."""

    title: TranslationString
    body: TranslationString | str = ""
    route_name: str | None = None
    order: int = 100


@dataclass(frozen=True)
class JobContext:
    """What a job function receives: a session in its own transaction."""

    dbsession: object
    registry: object
    now: dt.datetime
    payload: dict


@dataclass(frozen=True)
class PeriodicJob:
    """``func(job_context)`` runs every ``every`` on one worker at a time."""

    name: str
    func: Callable[[JobContext], None]
    every: dt.timedelta


@dataclass(frozen=True)
class QueuedJobType:
    """``func(job_context)`` runs once per ``request.enqueue(name, payload)``."""

    name: str
    func: Callable[[JobContext], None]
    max_attempts: int = 5


class PurchaseRefused(Exception):
    """Raised by a ``mypages_purchase`` implementation; ``message`` is shown to the admin."""

    def __init__(self, message: TranslationString):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class LoginMethod:
    """A way of proving who someone is; its ``key`` is what sessions record (amr).

    ``is_mfa``: satisfies a company's "require two-factor authentication"
    (TOTP, recovery codes, BankID and SSO do). ``is_local``: a credential kept
    by mypages itself (password, TOTP, recovery codes); local methods are
    closed for a company that requires Single Sign On, except for its
    break-glass admins.
    """

    key: str
    title: TranslationString
    is_mfa: bool = False
    is_local: bool = False
