"""The watch over the audit trail: how far it has read each chain, and the alerts it raised."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime


class AuditWatch(Base):
    """How far the watch has read one chain of the audit trail: every event up to
    ``watched_seq`` has been shown to the rules. Within a chain events are committed in the
    order of their ``seq`` (a writer holds the chain's head until it commits), so nothing
    committed later can land behind it."""

    __tablename__ = "audit_watch"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    watched_seq: Mapped[int] = mapped_column(Integer, default=0)


class SecurityAlert(Base):
    """What a rule of the watch raised about an event. Like the trail, it names people and
    companies by id and by their labels of the time, with no foreign key."""

    __tablename__ = "security_alerts"
    __table_args__ = (
        # one alert per rule and event, however often the watch might see it
        UniqueConstraint("rule", "event_id"),
        # the quiet window of a rule and subject in a trail
        Index("ix_security_alerts_rule_chain_subject", "rule", "chain_id", "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(100))
    chain_id: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[int | None] = mapped_column(Integer, index=True)
    company_label: Mapped[str] = mapped_column(String(200), default="")
    event_id: Mapped[int] = mapped_column(Integer)
    event_seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200), default="")
    #: when the event was written; the alert is about then
    happened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    #: until when the rule raises nothing more about ``subject`` in the chain
    quiet_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: the alert's words, stored as translation strings (mypages.inbox.messages.record)
    text: Mapped[dict] = mapped_column(JSON)
