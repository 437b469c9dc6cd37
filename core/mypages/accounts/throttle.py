"""Brute-force defence: growing delays per account and per address, kept in the database.

Every worker sees the same counters. Delays double from 1 second after a
number of free failures up to 15 minutes, and a counter is forgotten 12
hours after its last failure (Keycloak's defaults). There is no hard lock:
and a browser that has signed in to the account before (it carries a
signed "known device" cookie) is not slowed down by failures on that
account, so an attacker cannot keep the owner out (ASVS 6.1.1).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from mypages.accounts.models import LoginThrottle
from mypages.db import utcnow

ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
MAX_DELAY = dt.timedelta(minutes=15)
FORGET_AFTER = dt.timedelta(hours=12)


def _keys(email: str, ip: str, known_device: bool) -> list[tuple[str, int]]:
    keys = [(f"ip:{ip}", ADDRESS_FREE_FAILURES)]
    if not known_device:
        keys.append((f"account:{email.lower()}", ACCOUNT_FREE_FAILURES))
    return keys


def delay_for(failures: int, free: int) -> dt.timedelta:
    if failures < free:
        return dt.timedelta(0)
    return min(dt.timedelta(seconds=2 ** (failures - free)), MAX_DELAY)


def wait_seconds(dbsession, email: str, ip: str, known_device: bool = False) -> int:
    """How long this attempt must wait; 0 means go ahead."""
    now = utcnow()
    keys = [key for key, _free in _keys(email, ip, known_device)]
    blocked = dbsession.scalars(select(LoginThrottle.blocked_until).where(
        LoginThrottle.key.in_(keys), LoginThrottle.blocked_until > now,
        LoginThrottle.last_failure_at > now - FORGET_AFTER)).all()
    if not blocked:
        return 0
    return max(1, int((max(blocked) - now).total_seconds() + 0.999))


def record_failure(dbsession, email: str, ip: str, known_device: bool = False) -> None:
    now = utcnow()
    insert = postgresql.insert if dbsession.bind.dialect.name == "postgresql" else sqlite.insert
    for key, free in _keys(email, ip, known_device):
        # counters older than FORGET_AFTER start again from one
        stmt = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now,
                                            blocked_until=now + delay_for(1, free))
        dbsession.execute(stmt.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": _next_count(stmt, now), "last_failure_at": now},
        ))
        row = dbsession.get(LoginThrottle, key, populate_existing=True)
        row.blocked_until = now + delay_for(row.failures, free)


def _next_count(stmt, now):
    from sqlalchemy import case

    return case((LoginThrottle.last_failure_at < now - FORGET_AFTER, 1),
                else_=LoginThrottle.failures + 1)


def record_success(dbsession, email: str) -> None:
    dbsession.execute(delete(LoginThrottle).where(LoginThrottle.key == f"account:{email.lower()}"))
