"""The tables of watching the audit trail: how far each chain was read, and the alerts
raised (to raise each occurrence once)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class WatchCursor(Base):
    """The last event of a chain the watch rules have seen. Within a chain events are
    committed in the order of their ``seq`` (the head is locked until commit), so none
    is skipped and none is seen twice."""

    __tablename__ = "audit_watch_cursors"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)


class AuditAlert(Base):
    """An alert raised by a watch rule: ``key`` says what it is about (an account, an
    address); the same rule and key raise no second alert within the rule's window."""

    __tablename__ = "audit_alerts"
    __table_args__ = (Index("ix_audit_alerts_rule_key", "rule", "key", "raised_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(300))
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    event_id: Mapped[int | None] = mapped_column(Integer)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
