from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class PeriodicJobState(Base):
    """When a periodic job runs next, how it went, and who holds its lease."""

    __tablename__ = "periodic_jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the latest failure, kept after later successes (compare the two times)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    runs: Mapped[int] = mapped_column(Integer, default=0)


def _new_key() -> str:
    return secrets.token_hex(16)


class QueuedJob(Base):
    """One piece of queued work; claimed by exactly one worker through its lease."""

    __tablename__ = "queued_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_after: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # at most one unfinished job per name and key (the partial unique index below)
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    # random, the same on every attempt: what a rerun derives its links from
    key: Mapped[str | None] = mapped_column(String(32), default=_new_key)

    __table_args__ = (
        Index("uq_queued_jobs_unfinished_dedupe_key", "name", "dedupe_key", unique=True,
              sqlite_where=finished_at.is_(None), postgresql_where=finished_at.is_(None)),
        # what workers look through: the unfinished jobs only, however many finished ones
        Index("ix_queued_jobs_unfinished", "name", "run_after",
              sqlite_where=finished_at.is_(None), postgresql_where=finished_at.is_(None)),
    )
