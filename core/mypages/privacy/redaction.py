"""Taking people's and erased companies' data out of what the platform keeps as free text:
the audit trail, queued jobs' payloads, sign-in throttles and notifications.

The audit trail's chains stay verifiable: a chain with an event to redact is linked anew
from that event on (each later event's ``prev_hash`` and ``hash`` made again), its head
moved to the new last hash, and an ``audit.redacted`` event appended that says how many
events, from which one, why, and what the head's hash was before. The head is locked for
the whole rewrite, as by any writer, so no event is linked to a hash that is replaced."""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update

from mypages.accounts.models import LoginThrottle
from mypages.api.models import RateLimitCounter
from mypages.audit.chain import digest
from mypages.audit import SUBJECT
from mypages.audit.models import PLATFORM_CHAIN, AuditChain, AuditEvent
from mypages.governance.models import SecurityAlert
from mypages.inbox.models import Notification
from mypages.jobs.models import PeriodicJobState, QueuedJob
from mypages.services import audit_writer

#: what a redacted value reads as
REDACTED = "[erased]"
#: shorter values are not looked for: they would be found in too much that is not theirs
SHORTEST = 3
BATCH = 500
#: the payload keys that name a company or a person by id
COMPANY_KEYS = ("company_id", "company")
USER_KEYS = ("user_id", "subject_id", "actor_id", "requested_by_id")


@dataclass
class Erasing:
    """What is to go: free text (``values``, looked for case-insensitively), the people
    (``user_ids``) and the company (``company_id``) whose ids payloads may name, and the
    API tokens whose rate-limit counters go too."""

    values: list[str]
    user_ids: set[int] = field(default_factory=set)
    company_id: int | None = None
    token_ids: set[int] = field(default_factory=set)
    connection_ids: set[int] = field(default_factory=set)

    def __post_init__(self):
        unique = {value.strip().lower() for value in self.values
                  if isinstance(value, str) and len(value.strip()) >= SHORTEST}
        self.values = sorted(unique, key=len, reverse=True)  # the longest replaced first
        # whole words only: a person called Ann leaves "channel" alone
        self._pattern = (re.compile("(?<!\\w)(?:" + "|".join(re.escape(value)
                                                           for value in self.values)
                                    + ")(?!\\w)", re.IGNORECASE) if self.values else None)

    def found_in(self, text: str) -> bool:
        return self._pattern is not None and bool(self._pattern.search(text))

    def scrub(self, value):
        """``value`` (text, or lists and dicts of them) with every value to go replaced."""
        if isinstance(value, str):
            return self._pattern.sub(REDACTED, value) if self._pattern is not None else value
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {self.scrub(key): self.scrub(item) for key, item in value.items()}
        return value

    def names_ids(self, value) -> bool:
        """Whether a payload names the company or one of the people by id."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key in COMPANY_KEYS and self.company_id is not None \
                        and item == self.company_id:
                    return True
                if key in USER_KEYS and item in self.user_ids:
                    return True
                if self.names_ids(item):
                    return True
        if isinstance(value, list):
            return any(self.names_ids(item) for item in value)
        return False


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)


# -- the audit trail --------------------------------------------------------------------

_TEXT_COLUMNS = ("actor_label", "company_label", "target", "reason", "user_agent")


def _theirs(event, erasing: Erasing) -> bool:
    """Whether the event is by one of the people, or about them with nobody signed in (a
    wrong password typed for them): its address and browser are theirs, most likely."""
    subject = (event.details or {}).get(SUBJECT) if isinstance(event.details, dict) else None
    return ((event.actor_id is not None and event.actor_id in erasing.user_ids)
            or (subject is not None and subject in erasing.user_ids))


def _touches(event: AuditEvent, erasing: Erasing) -> bool:
    if _theirs(event, erasing):
        return True
    return erasing.found_in(" ".join([*(getattr(event, name) or "" for name in _TEXT_COLUMNS),
                                      _text(event.details or {})]))


def _redact(event: AuditEvent, erasing: Erasing) -> None:
    for name in _TEXT_COLUMNS:
        setattr(event, name, erasing.scrub(getattr(event, name) or ""))
    event.details = erasing.scrub(event.details or {})
    if _theirs(event, erasing):
        # from where: the ids stay, numbers that name nobody now
        event.ip, event.user_agent = "", ""
    if event.actor_id is not None and event.actor_id in erasing.user_ids:
        event.actor_label = REDACTED


def chains_to_redact(dbsession, erasing: Erasing, leave: Iterable[int] = ()) -> dict[int, int]:
    """{chain: the first seq to redact} of every chain but those to ``leave``."""
    found: dict[int, int] = {}
    after = 0
    # columns, not rows: a long trail is read through, not kept in the session
    query = select(AuditEvent.id, AuditEvent.chain_id, AuditEvent.seq, AuditEvent.actor_id,
                   AuditEvent.details, *(getattr(AuditEvent, name) for name in _TEXT_COLUMNS)
                   ).where(AuditEvent.chain_id.not_in(list(leave)))
    while True:
        events = dbsession.execute(query.where(AuditEvent.id > after)
                                   .order_by(AuditEvent.id).limit(BATCH)).all()
        for event in events:
            if _touches(event, erasing) and event.seq < found.get(event.chain_id, 2**62):
                found[event.chain_id] = event.seq
        if len(events) < BATCH:
            return found
        after = events[-1].id


def redact_chain(dbsession, registry, chain_id: int, first_seq: int, erasing: Erasing,
                 why: str) -> int:
    """Redact the chain's events from ``first_seq`` on and link them anew; how many events
    were changed. Appends ``audit.redacted``."""
    # the head locked first, as a writer locks it
    head = dbsession.execute(update(AuditChain).where(AuditChain.chain_id == chain_id)
                             .values(last_seq=AuditChain.last_seq)
                             .returning(AuditChain.last_hash, AuditChain.start_seq,
                                        AuditChain.start_prev_hash)
                             .execution_options(synchronize_session=False)).first()
    if head is None:
        return 0
    before = dbsession.scalar(select(AuditEvent.hash).where(
        AuditEvent.chain_id == chain_id, AuditEvent.seq < first_seq)
        .order_by(AuditEvent.seq.desc()).limit(1))
    previous = before if before is not None else head.start_prev_hash
    changed, after = 0, first_seq - 1
    while True:
        events = dbsession.scalars(select(AuditEvent).where(
            AuditEvent.chain_id == chain_id, AuditEvent.seq > after)
            .order_by(AuditEvent.seq).limit(BATCH)).all()
        for event in events:
            if _touches(event, erasing):
                _redact(event, erasing)
                changed += 1
            event.prev_hash = previous
            event.hash = previous = digest(event)
        dbsession.flush()
        if len(events) < BATCH:
            break
        after = events[-1].seq
    dbsession.execute(update(AuditChain).where(AuditChain.chain_id == chain_id)
                      .values(last_hash=previous).execution_options(synchronize_session=False))
    audit_writer(registry).record(
        dbsession, "audit.redacted",
        company_id=None if chain_id == PLATFORM_CHAIN else chain_id,
        events=changed, from_seq=first_seq, previous_head=head.last_hash, why=why)
    return changed


def redact_trail(dbsession, registry, erasing: Erasing, why: str,
                 leave: Iterable[int] = ()) -> int:
    """Redact every chain (but those to ``leave``); how many events were changed."""
    return sum(redact_chain(dbsession, registry, chain_id, first_seq, erasing, why)
               for chain_id, first_seq in sorted(chains_to_redact(dbsession, erasing,
                                                                  leave).items()))


def drop_chain(dbsession, chain_id: int) -> int:
    """Delete a whole chain, events and head (an erased company's); how many events."""
    gone = dbsession.execute(delete(AuditEvent).where(AuditEvent.chain_id == chain_id)
                             .execution_options(synchronize_session=False)).rowcount
    dbsession.execute(delete(AuditChain).where(AuditChain.chain_id == chain_id)
                      .execution_options(synchronize_session=False))
    return gone


# -- the rest of the free text -----------------------------------------------------------

def drop_jobs(dbsession, erasing: Erasing) -> int:
    """Delete the queued jobs (done or not) whose payload or error names what goes; blank
    the periodic jobs' errors that do."""
    doomed, after = [], 0
    while True:
        rows = dbsession.execute(select(QueuedJob.id, QueuedJob.payload, QueuedJob.last_error)
                                 .where(QueuedJob.id > after).order_by(QueuedJob.id)
                                 .limit(BATCH)).all()
        doomed += [row.id for row in rows
                   if erasing.names_ids(row.payload or {})
                   or erasing.found_in(_text(row.payload or {}) + " " + (row.last_error or ""))]
        if len(rows) < BATCH:
            break
        after = rows[-1].id
    for start in range(0, len(doomed), BATCH):
        dbsession.execute(delete(QueuedJob).where(QueuedJob.id.in_(doomed[start:start + BATCH]))
                          .execution_options(synchronize_session=False))
    for state in dbsession.scalars(select(PeriodicJobState).where(
            PeriodicJobState.last_error.is_not(None))):
        if erasing.found_in(state.last_error):
            state.last_error = erasing.scrub(state.last_error)
    return len(doomed)


def drop_throttles(dbsession, erasing: Erasing) -> int:
    """Delete the sign-in throttles and rate-limit counters keyed by what goes."""
    suffixes = tuple(f":connection:{i}" for i in erasing.connection_ids)
    keys = [key for key in dbsession.scalars(select(LoginThrottle.key))
            if erasing.found_in(key) or key.endswith(suffixes)]
    gone = 0
    if keys:
        gone += dbsession.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys))
                                  .execution_options(synchronize_session=False)).rowcount
    if erasing.token_ids:
        # a token's counter is keyed "LIMITER/<token id>/<limit>" (an address is never a
        # bare number)
        ids = {str(token_id) for token_id in erasing.token_ids}
        counters = [key for key in dbsession.scalars(select(RateLimitCounter.key))
                    if len(key.split("/")) > 2 and key.split("/")[1] in ids]
        if counters:
            gone += dbsession.execute(delete(RateLimitCounter).where(
                RateLimitCounter.key.in_(counters))
                .execution_options(synchronize_session=False)).rowcount
    return gone


def drop_notifications(dbsession, erasing: Erasing) -> int:
    """Delete others' notifications whose text names what goes."""
    doomed = [row.id for row in dbsession.execute(
        select(Notification.id, Notification.title, Notification.body))
        if erasing.found_in(_text(row.title) + " " + _text(row.body))]
    if doomed:
        dbsession.execute(delete(Notification).where(Notification.id.in_(doomed))
                          .execution_options(synchronize_session=False))
    return len(doomed)


def redact_alerts(dbsession, erasing: Erasing) -> int:
    """Security alerts: an erased company's go; others that name what goes (a person's
    address in the subject, a company's name in the label or the words) are redacted. How
    many of them changed."""
    changed = 0
    if erasing.company_id is not None:
        changed += dbsession.execute(
            delete(SecurityAlert).where(SecurityAlert.company_id == erasing.company_id)
            .execution_options(synchronize_session=False)).rowcount
    if not erasing.values:
        return changed
    # read in Python, in batches: SQL's LIKE folds the case of ASCII letters only, and the
    # words are JSON, where other letters may be escaped
    after = 0
    while True:
        alerts = dbsession.scalars(select(SecurityAlert).where(SecurityAlert.id > after)
                                   .order_by(SecurityAlert.id).limit(BATCH)).all()
        for alert in alerts:
            if erasing.found_in(_text([alert.subject, alert.company_label, alert.text])):
                alert.subject = erasing.scrub(alert.subject)
                alert.company_label = erasing.scrub(alert.company_label)
                alert.text = erasing.scrub(alert.text)
                changed += 1
        dbsession.flush()
        if len(alerts) < BATCH:
            return changed
        after = alerts[-1].id


def sweep(dbsession, erasing: Erasing) -> dict[str, int]:
    """Everything but the audit trail: how many of each went."""
    return {"jobs": drop_jobs(dbsession, erasing),
            "throttles": drop_throttles(dbsession, erasing),
            "notifications": drop_notifications(dbsession, erasing),
            "alerts": redact_alerts(dbsession, erasing)}
