from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow

#: the chain of the platform's own events (no company); a company's chain is its id
PLATFORM_CHAIN = 0
#: the previous hash of a chain's first event
GENESIS = "0" * 64


class AuditEvent(Base):
    """Who did what, when, from where, in which company. Rows are only ever added (and
    purged, oldest first, after the retention time).

    Each row is a link of its chain (``chain_id``: the company's id, or
    :data:`PLATFORM_CHAIN`): ``hash`` is SHA-256 over the row's canonical JSON, which holds
    ``prev_hash``, the hash of the row before it. Nothing refers to users or companies by a
    foreign key, so deleting one changes no row: the ids stay, and ``actor_label`` and
    ``company_label`` keep the names shown at the time.
    """

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    company_label: Mapped[str] = mapped_column(String(200), default="")
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    request_id: Mapped[str] = mapped_column(String(128), default="")
    api_token_id: Mapped[int | None] = mapped_column(Integer)
    #: why, in the words of the admin who made the change (optional)
    reason: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChain(Base):
    """The head of one chain, and its anchor: where the chain starts since the last purge.

    A writer updates the head in the transaction that adds the event, the row locked
    first, so two writers never link two events to one predecessor."""

    __tablename__ = "audit_chains"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    #: the first event kept (the ones before were purged) and the hash it links to
    start_seq: Mapped[int] = mapped_column(Integer, default=1)
    start_prev_hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
