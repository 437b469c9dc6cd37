"""Services for tests: a clock moved by hand, a mailer that keeps what it is given, and
replacing any service of a built app (the ``replace_service`` fixture restores it)."""
from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from pyramid.config import Configurator
from pyramid.registry import Registry

from mypages.services import Clock, Mailer, find


def _registry(app_or_registry) -> Registry:
    return app_or_registry if isinstance(app_or_registry, Registry) else app_or_registry.registry


def register_service(app_or_registry, key: type, service) -> None:
    """Register ``service`` under ``key`` in a built app, in place of what was there, through
    pyramid_services' own directive (every later look-up finds it)."""
    config = Configurator(registry=_registry(app_or_registry))
    config.register_service(service, key)
    config.commit()


@contextmanager
def replaced_service(app_or_registry, key: type, service):
    """``service`` stands in for the app's service under ``key`` inside the block."""
    previous = find(app_or_registry, key)
    register_service(app_or_registry, key, service)
    try:
        yield service
    finally:
        register_service(app_or_registry, key, previous)


class SettableClock(Clock):
    """Stands still at ``start`` until moved: ``clock.advance(days=10)``, ``clock.set(when)``."""

    def __init__(self, start: dt.datetime | None = None):
        self._now = start or dt.datetime(2030, 1, 1, 9, 0, tzinfo=dt.timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock keeps aware UTC times")
        with self._lock:
            self._now = when

    def advance(self, delta: dt.timedelta | None = None, **kw) -> dt.datetime:
        """Move on by ``delta`` (or ``timedelta(**kw)``); returns the new time."""
        with self._lock:
            self._now += delta if delta is not None else dt.timedelta(**kw)
            return self._now


@dataclass(frozen=True)
class SentMail:
    to: str
    subject: str
    body: str


class RecordingMailer(Mailer):
    """Keeps every message instead of sending it: ``mailer.sent``, ``mailer.to(address)``."""

    def __init__(self):
        self.sent: list[SentMail] = []

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append(SentMail(to, subject, body))

    def to(self, address: str) -> list[SentMail]:
        return [mail for mail in self.sent if mail.to == address]
