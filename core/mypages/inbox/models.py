from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class Notification(Base):
    """One notification to one person. Title, body and their values are stored as
    translation strings (see mypages.inbox.messages), so each reader sees them in the
    language they read in, not the one of whoever caused them."""

    __tablename__ = "notifications"
    __table_args__ = (
        # a dedupe key is delivered once per person, however often it is posted
        UniqueConstraint("user_id", "dedupe_key"),
        # the bell's count: the unread of one person
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[dict] = mapped_column(JSON)
    body: Mapped[dict] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(500))
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NotificationPreference(Base):
    """Whether a person wants a kind of notification by e-mail too; without a row, the
    kind's default."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean)
