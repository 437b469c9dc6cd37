"""The sign-in policy's tables: each company's policy and break-glass admins, and the
platform's policy."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class CompanyPolicy(Base):
    """How the people of a company must sign in. No row means the platform defaults."""

    __tablename__ = "company_policies"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            primary_key=True)
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    # switched off by Single Sign On's "Require from all"; break-glass admins keep it
    password_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    password_min_length: Mapped[int] = mapped_column(Integer, default=12)
    idle_minutes: Mapped[int | None] = mapped_column(Integer)
    absolute_hours: Mapped[int | None] = mapped_column(Integer)
    #: days without a sign-in after which a membership is disabled; None: never (dormant access)
    dormant_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class BreakGlassAdmin(Base):
    """An admin who keeps password + TOTP sign-in when the company requires SSO."""

    __tablename__ = "break_glass_admins"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlatformPolicy(Base):
    """The sign-in rules operators set for the whole platform: one row (id 1), read by every
    worker. No row means the defaults (nothing beyond each company's own policy)."""

    __tablename__ = "platform_policy"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # a second factor for every signed-in page, whatever each company requires
    require_mfa: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
