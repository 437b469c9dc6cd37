"""The tables of data export and erasure: the archives being built or waiting to be
downloaded, and what is left of an erased company."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow

QUEUED, RUNNING, READY, FAILED, DOWNLOADED, EXPIRED = (
    "queued", "running", "ready", "failed", "downloaded", "expired")
#: states whose archive may still be on its way or waiting: at most one a company
PENDING = (QUEUED, RUNNING, READY)


class DataExport(Base):
    """An archive of all a company's data, built by a queued job and downloaded once by the
    person who asked for it, before ``expires_at``; then its blob is deleted. Goes with the
    company (an erased company leaves no export behind)."""

    __tablename__ = "data_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    #: who asked: a company admin or an operator (who alone may download it)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=QUEUED)
    #: how far the job is: parts written of all it has to write
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    steps_total: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int | None] = mapped_column(Integer)
    #: the archive's key in the company's blob store, while it is kept
    blob_key: Mapped[str | None] = mapped_column(String(200))
    #: why it failed: the plugin that failed, or "core" (never an error's message)
    error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CompanyErasure(Base):
    """All that is left of an erased company: which company number, when, and who erased
    it (the operator's id; their name is in the platform's audit trail)."""

    __tablename__ = "company_erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_number: Mapped[str | None] = mapped_column(String(32))
    erased_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_by_id: Mapped[int | None] = mapped_column(Integer)
