"""The application's services: the parts that talk to the world, each behind a seam.

A service is registered once, by the domain that owns it, with
pyramid_services (``config.register_service(instance, Key)``), and found with
the typed accessor below (``clock(where).now()``). ``where`` is anything that
knows the application's registry: the registry itself, a request, a
:class:`~mypages.contract.JobContext` or an
:class:`~mypages.events.EventContext`. Services are application-wide
singletons, so the command line and jobs find the same ones as a request does,
and a test replaces one with the ``replace_service`` fixture of :mod:`mypages.testing`.

The keys are the small classes here; what the core registers subclasses them:

=======================  ===============================================  =========================
key                      default                                          registered by
=======================  ===============================================  =========================
:class:`Clock`           the system clock (UTC)                           ``mypages.services``
:class:`AuditWriter`     rows of the audit trail                          ``mypages.audit``
:class:`JobQueue`        rows of the job queue                            ``mypages.jobs``
:class:`Mailer`          SMTP, or ``.eml`` files without an SMTP host     ``mypages.notifications``
:class:`PasswordHasher`  argon2id at the cost of ``mypages.passwords.*``  ``mypages.accounts``
:class:`SessionStore`    rows of ``user_sessions``, ``mypages.session.*``  ``mypages.accounts``
:class:`DnsResolver`     dnspython, ``mypages.dns.*``                     ``mypages.sso``
=======================  ===============================================  =========================

Outbound HTTP to addresses people type goes through one client that refuses
internal addresses: the :class:`~mypages.outbound.Outbound` service, registered by
``mypages.outbound`` and found with :func:`mypages.outbound.outbound_client`.
Blobs are kept by the :class:`~mypages.storage.BlobStore` service (local files or
S3), registered by ``mypages.storage`` and found, scoped to a company, with
:func:`mypages.storage.blob_store`.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, TypeVar

from pyramid.registry import Registry
from pyramid_services import IServiceRegistry, find_service_factory

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")
#: where :func:`mypages.settings.includeme` keeps the typed settings: in the registry itself,
#: as they are read while the configuration is built, before services can be found
SETTINGS_KEY = "mypages.settings"


class Clock:
    """What time it is: aware UTC datetimes. Tests register one they move by hand."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class AuditWriter:
    """Writes events to the audit trail. ``details`` never hold secrets."""

    def record(self, dbsession: Session, action: str, *, company_id: int | None = None,
               actor_id: int | None = None, target: str = "", ip: str = "", **details):
        """Record ``action`` in ``dbsession``'s transaction: kept only if it commits."""
        raise NotImplementedError

    def record_now(self, action: str, *, company_id: int | None = None,
                   actor_id: int | None = None, target: str = "", ip: str = "",
                   **details) -> None:
        """Record ``action`` in a transaction of its own, committed at once (for refusals,
        whose own transaction is rolled back)."""
        raise NotImplementedError


class JobQueue:
    """Queues jobs of the registered :class:`~mypages.contract.QueuedJobType` s."""

    def enqueue(self, dbsession: Session, name: str, payload: dict | None = None,
                run_after: dt.datetime | None = None, *, dedupe_key: str | None = None):
        """Queue ``name`` in ``dbsession``'s transaction: the job exists only if it commits.
        With ``dedupe_key``, while a job of that name and key is queued or running, nothing
        is added and that job is returned. Raises :class:`KeyError` for a name no job type
        has."""
        raise NotImplementedError


class Mailer:
    """Sends plain-text e-mail; raises on failure, so the job that sends is tried again."""

    def send(self, to: str, subject: str, body: str) -> None:
        raise NotImplementedError


class PasswordHasher:
    """Hashes passwords for storing, and checks a password against a stored hash."""

    def hash(self, password: str) -> str:
        raise NotImplementedError

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password_hash`` is of ``password``; with no hash (no such account),
        ``False`` after the same work as a real check."""
        raise NotImplementedError

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made at another cost than today's, to be made again."""
        raise NotImplementedError


class SessionStore:
    """The server-side sessions of signed-in browsers, found by the digest of the token their
    cookie holds, and the platform's rules on how long one lasts."""

    def open(self, dbsession: Session, user_id: int, amr: dict, *, ip: str, user_agent: str,
             created_at: dt.datetime | None = None) -> tuple[str, object]:
        """A new session: (the token for the cookie, the stored row)."""
        raise NotImplementedError

    def end(self, dbsession: Session, session_id: str) -> None:
        raise NotImplementedError

    def end_all(self, dbsession: Session, user_id: int, keep: str | None = None) -> int:
        """End every session of a user but ``keep``; returns how many were ended."""
        raise NotImplementedError

    def judge(self, session, user):
        """What a session found at the start of a request needs (a ``SessionUpkeep``, or
        ``None`` when it simply goes on)."""
        raise NotImplementedError

    def keep_up(self, session, upkeep) -> None:
        """Write what :meth:`judge` said, in a transaction of its own."""
        raise NotImplementedError


class DnsLookupFailed(Exception):
    """The name servers could not be asked (as opposed to: they say there is no record)."""


class DnsResolver:
    """Reads DNS records."""

    def txt(self, name: str) -> list[str]:
        """The TXT records of ``name`` (empty when there are none); raises
        :class:`DnsLookupFailed` when the look-up itself fails."""
        raise NotImplementedError


class SystemClock(Clock):
    pass


def registry_of(where) -> Registry:
    """The registry itself, or that of a request, a configurator, a job's or an event's
    context."""
    return where if isinstance(where, Registry) else where.registry


#: the services found so far in a registry, with the generation of its factories
_FOUND_KEY = "services.found"


class _Holder:
    """What pyramid_services looks services up on: something with a ``registry``."""

    def __init__(self, registry: Registry):
        self.registry = registry


def find(where, key: type[T]) -> T:
    """The service registered under ``key``, found without a request.

    Kept per registry until a service is registered again: the factories' adapter registry
    counts its changes (``_generation``), so a service replaced later is found at once."""
    registry = registry_of(where)
    factories = registry.getUtility(IServiceRegistry)._factories
    found = registry.get(_FOUND_KEY)
    if found is None or found[0] != factories._generation:
        found = registry[_FOUND_KEY] = (factories._generation, {})
    services = found[1]
    if key not in services:
        services[key] = find_service_factory(_Holder(registry), key)(None, None)
    return services[key]


def settings_of(where):
    """The typed :class:`~mypages.settings.Settings`, parsed once at start-up (not annotated:
    the settings build on this module)."""
    return registry_of(where)[SETTINGS_KEY]


def clock(where) -> Clock:
    """The application's :class:`Clock`; ``where`` is the registry, a request, or a job's or
    an event's context."""
    return find(where, Clock)


def audit_writer(where) -> AuditWriter:
    """The application's :class:`AuditWriter`."""
    return find(where, AuditWriter)


def job_queue(where) -> JobQueue:
    """The application's :class:`JobQueue`."""
    return find(where, JobQueue)


def mailer(where) -> Mailer:
    """The application's :class:`Mailer`; ``where`` is the registry, a request, or a job's
    or an event's context."""
    return find(where, Mailer)


def password_hasher(where) -> PasswordHasher:
    """The application's :class:`PasswordHasher`."""
    return find(where, PasswordHasher)


def session_store(where) -> SessionStore:
    """The application's :class:`SessionStore`."""
    return find(where, SessionStore)


def dns_resolver(where) -> DnsResolver:
    """The application's :class:`DnsResolver`."""
    return find(where, DnsResolver)


def includeme(config):
    config.include("pyramid_services")
    config.register_service(SystemClock(), Clock)
