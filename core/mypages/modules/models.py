from __future__ import annotations

import datetime as dt
import enum

from decimal import Decimal

from sqlalchemy import JSON, Enum, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class ModuleState(str, enum.Enum):
    available = "available"  # never stored: the absence of a row
    trial = "trial"
    active = "active"
    expired = "expired"
    inactive = "inactive"


ENTITLED_STATES = (ModuleState.trial, ModuleState.active)


class ModuleActivation(Base):
    """A company's relation to one module. One row per company and module.

    The unique constraint is what makes "one trial per company and module"
    hold under concurrent clicks: the second INSERT fails.
    """

    __tablename__ = "module_activations"
    __table_args__ = (UniqueConstraint("company_id", "module_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    module_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[ModuleState] = mapped_column(
        Enum(ModuleState, native_enum=False, length=16, validate_strings=True)
    )
    trial_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    trial_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    purchased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when the paid period starts: the purchase, or the end of a trial it was bought in
    billing_starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ModuleSettings(Base):
    """A module's settings for one company; kept through expiry and deactivation."""

    __tablename__ = "module_settings"
    __table_args__ = (UniqueConstraint("company_id", "module_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    module_key: Mapped[str] = mapped_column(String(64))
    values: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(Base):
    """A purchase recorded by the default billing hook: operators invoice from them, the
    company sees them on its Billing tab. ``amount`` is the price a ``period`` excluding VAT;
    the company is billed from ``starts_at`` until ``ends_at`` (open while the module is on).
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    module_key: Mapped[str] = mapped_column(String(64))
    ordered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    price: Mapped[str] = mapped_column(String(100), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    vat_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    period: Mapped[str | None] = mapped_column(String(16))
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: a purchase confirmed by signing: the signer's key, the signature's reference there
    #: (used once), and who signed and when, as the signing service vouched for them
    signature_method: Mapped[str | None] = mapped_column(String(32))
    signature_reference: Mapped[str | None] = mapped_column(String(100), unique=True)
    signed_by: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
