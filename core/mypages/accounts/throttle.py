"""Throttling per address and per target, kept in the database so every worker sees it.

Each purpose (signing in, asking for a password-reset link, following a reset link,
accepting an invitation, starting a Single Sign On sign-in) counts twice: per address, the
connection's address as :mod:`mypages.client_address` decides it (never header text a client
wrote), and per target, what is being tried (an account, an e-mail address, a link, a
connection). A request waits while either counter says so. Counters are rows of
``login_throttles`` keyed ``<purpose>:ip:<address>`` and ``<purpose>:<target kind>:<target>``.

Two kinds of limit:

* :class:`Delays`, for sign-in (Keycloak's defaults): a number of free failures, then every
  failure doubles the wait from 1 second up to 15 minutes; a counter is forgotten 12 hours
  after its last failure. There is no hard lock, and a browser that has signed in to the
  account before (it carries a signed "known device" cookie) is not slowed down by failures
  on that account, so an attacker cannot keep the owner out (ASVS 6.1.1).
* :class:`Window`, for the rest (django-allauth's style): at most so many counted requests
  per period, then wait for the period to end. Requests that cost something (an e-mail, a
  sign-in at an identity provider) all count; for links, only the refused ones, so a whole
  office accepting its invitations from one address is never slowed down.

A refused request changes nothing: it is checked before anything is looked at or written.

The counting takes a :class:`~mypages.work.Work` (its session, clock and the actor's address),
so a view hands over ``work_of(request)``; only :func:`refusal` answers a request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from pyramid.renderers import render_to_response
from sqlalchemy import and_, case, delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from mypages.accounts.models import LoginThrottle
from mypages.i18n import _, ngettext
from mypages.work import Work, work_of

ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=12)
#: a target longer than this is keyed by its hash, so any key fits the column
LONGEST_TARGET = 200

TOO_MANY = _("Too many attempts")


def too_many(seconds: int):
    return ngettext("Too many attempts. Wait ${num} second and try again.",
                    "Too many attempts. Wait ${num} seconds and try again.", seconds)


@dataclass(frozen=True)
class Delays:
    """Growing delays after ``free`` failures (the columns: failures, last failure, and the
    end of the current delay)."""

    free: int
    max_delay: dt.timedelta = MAX_DELAY
    forget_after: dt.timedelta = FORGET_AFTER

    def delay_for(self, failures: int) -> dt.timedelta:
        if failures < self.free:
            return dt.timedelta(0)
        return min(dt.timedelta(seconds=2 ** (failures - self.free)), self.max_delay)

    def over(self, now):
        """SQL: the counter is forgotten and starts again from one."""
        return LoginThrottle.last_failure_at < now - self.forget_after

    def started(self, now) -> dt.datetime:
        return now + self.delay_for(1)

    def blocking(self, now):
        """SQL: rows of this kind that make a request wait."""
        return and_(LoginThrottle.blocked_until > now,
                    LoginThrottle.last_failure_at > now - self.forget_after)

    def settle(self, dbsession, key: str, now) -> None:
        """The delay follows the new count."""
        row = dbsession.get(LoginThrottle, key, populate_existing=True)
        row.blocked_until = now + self.delay_for(row.failures)


@dataclass(frozen=True)
class Window:
    """At most ``limit`` counted requests per ``period`` (the columns: requests in this period,
    the last one, and the end of this period)."""

    limit: int
    period: dt.timedelta

    def over(self, now):
        return LoginThrottle.blocked_until <= now

    def started(self, now) -> dt.datetime:
        return now + self.period

    def blocking(self, now):
        return and_(LoginThrottle.blocked_until > now, LoginThrottle.failures >= self.limit)

    def settle(self, dbsession, key: str, now) -> None:
        pass


Limit = Delays | Window


@dataclass(frozen=True)
class Purpose:
    name: str
    per_address: Limit
    target_kind: str
    per_target: Limit

    def address_key(self, address: str) -> str:
        return f"{self.name}:ip:{address}"

    def target_key(self, target) -> str:
        target = str(target)
        if len(target) > LONGEST_TARGET:
            target = "sha256:" + hashlib.sha256(target.encode()).hexdigest()
        return f"{self.name}:{self.target_kind}:{target}"


HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)

#: failed passwords and second-factor codes; the target is the account's e-mail address
SIGN_IN = Purpose("sign_in", Delays(ADDRESS_FREE_FAILURES), "account", Delays(ACCOUNT_FREE_FAILURES))
#: every request for a reset link; the target is the e-mail address typed, account or not
PASSWORD_RESET = Purpose("password_reset", Window(20, HOUR), "email", Window(5, HOUR))
#: refused uses of password-reset links: unknown links per address, refused forms per link
RESET_LINK = Purpose("reset_link", Window(20, HOUR), "link", Window(10, HOUR))
#: refused uses of invitation links, in the same way
INVITATION = Purpose("invitation", Window(20, HOUR), "link", Window(10, HOUR))
#: every sign-in sent to an identity provider; the target is the company's connection
SSO_START = Purpose("sso_start", Window(60, MINUTE), "connection", Window(600, MINUTE))
PURPOSES = (SIGN_IN, PASSWORD_RESET, RESET_LINK, INVITATION, SSO_START)


def _counters(address: str, purpose: Purpose, target) -> list[tuple[str, Limit]]:
    counters = [(purpose.address_key(address), purpose.per_address)]
    if target is not None and target != "":
        counters.append((purpose.target_key(target), purpose.per_target))
    return counters


def wait_seconds(work: Work, purpose: Purpose, target=None) -> int:
    """How long the actor (at their address) must wait; 0 means go ahead. ``target`` None
    counts the address only."""
    now = work.now()
    blocking = or_(*(and_(LoginThrottle.key == key, limit.blocking(now))
                     for key, limit in _counters(work.actor.ip, purpose, target)))
    blocked = work.dbsession.scalars(select(LoginThrottle.blocked_until).where(blocking)).all()
    if not blocked:
        return 0
    return max(1, int((max(blocked) - now).total_seconds() + 0.999))


def record(work: Work, purpose: Purpose, target=None) -> None:
    """Count one request (or failure) for the actor's address and, unless None, the target."""
    now = work.now()
    dbsession = work.dbsession
    insert = postgresql.insert if dbsession.bind.dialect.name == "postgresql" else sqlite.insert
    for key, limit in _counters(work.actor.ip, purpose, target):
        stmt = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now,
                                            blocked_until=limit.started(now))
        over = limit.over(now)
        dbsession.execute(stmt.on_conflict_do_update(index_elements=[LoginThrottle.key], set_={
            "failures": case((over, 1), else_=LoginThrottle.failures + 1),
            "blocked_until": case((over, limit.started(now)), else_=LoginThrottle.blocked_until),
            "last_failure_at": now,
        }))
        limit.settle(dbsession, key, now)


def clear(dbsession, purpose: Purpose, target) -> None:
    """Forget the target's counter (a sign-in that passed every factor)."""
    dbsession.execute(delete(LoginThrottle).where(
        LoginThrottle.key == purpose.target_key(target)))


def rate_limit(request, name: str, *, per_address: int, period: dt.timedelta = MINUTE,
               target=None, per_target: int | None = None) -> int:
    """Count this request against ``name``'s limits and say how long to wait: at most
    ``per_address`` requests per ``period`` from the client's address (the address
    :mod:`mypages.client_address` decides: trusted proxies only) and, with a ``target``
    (an account, a connection), at most ``per_target`` for that target. Returns 0 when the
    request may go ahead (it was counted), else the seconds to wait (it was not, and nothing
    else should be done: answer 429 with :func:`too_many`). The counters are in the
    database, shared by every worker. ``name`` keys the counters: use the plugin's prefix
    (``bankid.start``)."""
    limit = Window(per_address, period)
    purpose = Purpose(f"limit:{name}", limit, "target",
                      Window(per_target or per_address, period))
    work = work_of(request)
    wait = wait_seconds(work, purpose, target)
    if not wait:
        record(work, purpose, target)
    return wait


def refusal(request, seconds: int, action: str, **details):
    """The answer to a throttled request for a page without a form of its own: 429, the
    translated wait, and an audit event."""
    request.audit(action, wait=seconds, **details)
    response = render_to_response("mypages:templates/error.jinja2", {
        "title": TOO_MANY, "message": too_many(seconds), "reason": "throttled"}, request=request)
    response.status = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def forgotten(now: dt.datetime, settings):
    """Counters nobody has touched for longer than any limit remembers (for the purge)."""
    return and_(LoginThrottle.last_failure_at < now - FORGET_AFTER,
                LoginThrottle.blocked_until < now)
