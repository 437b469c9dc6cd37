"""The hash chains of the audit trail: appending a link, verifying a chain, purging its
oldest links.

A row's hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of every
column but ``id`` and ``hash`` itself; ``prev_hash`` is among them, so a row changed,
removed or put in between breaks the links after it. One chain per company and one for the
platform; a chain's head (:class:`~mypages.audit.models.AuditChain`) is locked by the
transaction that appends to it until that commits: on PostgreSQL by the ``UPDATE`` of the
head row, on SQLite by the database's one write lock, which the same ``UPDATE`` takes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from mypages.audit.models import GENESIS, PLATFORM_CHAIN, AuditChain, AuditEvent

#: the columns a row's hash covers, in no particular order (the JSON's keys are sorted)
HASHED = ("chain_id", "seq", "created_at", "company_id", "company_label", "actor_id",
          "actor_label", "action", "target", "ip", "user_agent", "request_id", "api_token_id",
          "reason", "details", "prev_hash")


def chain_of(company_id: int | None) -> int:
    return company_id if company_id is not None else PLATFORM_CHAIN


def _value(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")
    return value


def canonical(event: AuditEvent) -> bytes:
    values = {name: _value(getattr(event, name)) for name in HASHED}
    return json.dumps(values, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def digest(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def _insert(dbsession):
    return (pg_insert if dbsession.get_bind().dialect.name == "postgresql" else sqlite_insert)


def _lock_head(dbsession, chain_id: int) -> tuple[int, str]:
    """Lock the chain's head and move it on by one: (the new link's seq, its prev_hash).
    The ``UPDATE`` comes first, before any read, so it is the statement that waits."""
    bump = (update(AuditChain).where(AuditChain.chain_id == chain_id)
            .values(last_seq=AuditChain.last_seq + 1)
            .returning(AuditChain.last_seq, AuditChain.last_hash)
            .execution_options(synchronize_session=False))
    row = dbsession.execute(bump).first()
    if row is None:  # the chain's first event: two writers may both get here
        dbsession.execute(_insert(dbsession)(AuditChain).values(
            chain_id=chain_id, last_seq=0, last_hash=GENESIS, start_seq=1,
            start_prev_hash=GENESIS).on_conflict_do_nothing(index_elements=["chain_id"]))
        row = dbsession.execute(bump).first()
    return row.last_seq, row.last_hash


def append(dbsession, event: AuditEvent) -> AuditEvent:
    """Link ``event`` (all but its chain fields set) to the end of its chain, in
    ``dbsession``'s transaction."""
    event.chain_id = chain_of(event.company_id)
    event.seq, event.prev_hash = _lock_head(dbsession, event.chain_id)
    event.hash = digest(event)
    dbsession.add(event)
    dbsession.execute(update(AuditChain).where(AuditChain.chain_id == event.chain_id)
                      .values(last_hash=event.hash)
                      .execution_options(synchronize_session=False))
    return event


# -- verifying ------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """What is wrong with a chain, naming the event (``kind``: altered, removed, inserted)."""

    chain_id: int
    kind: str
    text: str


def _name(event: AuditEvent) -> str:
    return (f"event {event.id} (#{event.seq} of the chain, {event.action}, "
            f"{_value(event.created_at)})")


def _chain_name(chain_id: int) -> str:
    return "platform" if chain_id == PLATFORM_CHAIN else f"company {chain_id}"


def verify_chain(dbsession, head: AuditChain, batch: int = 1000) -> tuple[int, list[Problem]]:
    """(how many events were checked, what is wrong): every event recomputed, every link
    followed from the anchor to the head."""
    problems: list[Problem] = []

    def problem(kind: str, text: str) -> None:
        problems.append(Problem(head.chain_id, kind, f"{_chain_name(head.chain_id)}: {text}"))

    expected_seq, expected_prev, checked, last_seq = head.start_seq, head.start_prev_hash, 0, None
    previous = None
    after = head.start_seq - 1
    while True:
        events = dbsession.scalars(
            select(AuditEvent).where(AuditEvent.chain_id == head.chain_id,
                                     AuditEvent.seq > after)
            .order_by(AuditEvent.seq, AuditEvent.id).limit(batch)).all()
        for event in events:
            checked += 1
            if event.seq > head.last_seq:
                problem("inserted", f"{_name(event)} was inserted: it is after the chain's "
                                    f"head (#{head.last_seq})")
                continue
            if event.seq == last_seq:
                problem("inserted", f"{_name(event)} was inserted: it repeats #{event.seq}")
                continue
            if event.seq > expected_seq:
                problem("removed", _gap(expected_seq, event.seq - 1, f"before {_name(event)}"))
            if digest(event) != event.hash:
                problem("altered", f"{_name(event)} was altered: its content does not match "
                                   "its hash")
            elif event.seq == expected_seq and event.prev_hash != expected_prev:
                if previous is not None:  # a consistent row whose successor links elsewhere
                    problem("altered", f"{_name(previous)} was altered and its hash made "
                                       "again: the event after it links to another")
                else:
                    problem("altered", f"{_name(event)} was altered or replaced: it does not "
                                       "link to where the chain starts")
            expected_seq, expected_prev, last_seq = event.seq + 1, event.hash, event.seq
            previous = event
        if len(events) < batch:
            break
        after = events[-1].seq
    if expected_seq <= head.last_seq:
        problem("removed", _gap(expected_seq, head.last_seq, "at the end of the chain"))
    elif expected_seq == head.last_seq + 1 and checked and expected_prev != head.last_hash:
        problem("altered", f"{_name(previous)} was altered and its hash made again: the "
                           "chain's head names another")
    return checked, problems


def _gap(first: int, last: int, where: str) -> str:
    span = f"#{first}" if first == last else f"#{first} to #{last}"
    count = last - first + 1
    return f"{count} event{'s' if count > 1 else ''} ({span}) removed {where}"


def heads(dbsession, company_id: int | None = None, platform: bool = False) -> list:
    """Every chain's head, or one company's, or the platform's."""
    query = select(AuditChain).order_by(AuditChain.chain_id)
    if company_id is not None or platform:
        query = query.where(AuditChain.chain_id == chain_of(company_id))
    return dbsession.scalars(query).all()


def verify(dbsession, company_id: int | None = None,
           platform: bool = False) -> tuple[int, list[Problem]]:
    """Verify every chain, or one company's (``company_id``), or the platform's; events of
    a chain that has no head are reported as inserted."""
    checked, problems = 0, []
    for head in heads(dbsession, company_id, platform):
        count, found = verify_chain(dbsession, head)
        checked += count
        problems.extend(found)
    known = select(AuditChain.chain_id)
    orphans = select(AuditEvent).where(AuditEvent.chain_id.not_in(known))
    if company_id is not None or platform:
        orphans = orphans.where(AuditEvent.chain_id == chain_of(company_id))
    for event in dbsession.scalars(orphans.order_by(AuditEvent.id).limit(100)):
        problems.append(Problem(event.chain_id, "inserted",
                                f"{_chain_name(event.chain_id)}: {_name(event)} was inserted: "
                                "its chain has no head"))
    return checked, problems


# -- purging --------------------------------------------------------------------------

def purge_batch(dbsession, chain_id: int, before: dt.datetime, size: int,
                now: dt.datetime) -> int:
    """Delete up to ``size`` of the chain's oldest events written before ``before``, and
    move the chain's anchor to the first event kept: how many went. The head is locked
    first, like a writer's, so a purge and a writer never wait on each other in turn."""
    dbsession.execute(update(AuditChain).where(AuditChain.chain_id == chain_id)
                      .values(purged_at=now).execution_options(synchronize_session=False))
    oldest = dbsession.execute(
        select(AuditEvent.seq, AuditEvent.hash)
        .where(AuditEvent.chain_id == chain_id, AuditEvent.created_at < before)
        .order_by(AuditEvent.seq).limit(size)).all()
    if not oldest:
        return 0
    last_seq, last_hash = oldest[-1]
    gone = dbsession.execute(delete(AuditEvent).where(AuditEvent.chain_id == chain_id,
                                                      AuditEvent.seq <= last_seq)
                             .execution_options(synchronize_session=False)).rowcount
    dbsession.execute(update(AuditChain).where(AuditChain.chain_id == chain_id)
                      .values(start_seq=last_seq + 1, start_prev_hash=last_hash)
                      .execution_options(synchronize_session=False))
    return gone


def chains_with_old_events(dbsession, before: dt.datetime) -> list[int]:
    return list(dbsession.scalars(select(AuditEvent.chain_id).where(
        AuditEvent.created_at < before).distinct().order_by(AuditEvent.chain_id)))
