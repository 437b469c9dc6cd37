from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (Boolean, Date, ForeignKey, Integer, Numeric, String, UniqueConstraint,
                        types)
from sqlalchemy.orm import Mapped, mapped_column

from mypages.toolkit import Base, EncryptedText, UTCDateTime, utcnow


class ExactDecimal(types.TypeDecorator):
    """A decimal kept exactly: NUMERIC on PostgreSQL; text on SQLite, whose NUMERIC is a
    binary float. Read back without the trailing zeros of the column's scale."""

    impl = Numeric(28, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(28, 10, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        value = Decimal(value)
        return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


class Series(Base):
    """A series of a source (the policy rate of the Riksbank's SWEA, say), shared by every
    company; what its provider's metadata says of it."""

    __tablename__ = "rates_series"
    __table_args__ = (UniqueConstraint("source", "code", name="uq_rates_series_source_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(10), default="rate")
    precision: Mapped[int] = mapped_column(Integer, default=2)
    base: Mapped[str | None] = mapped_column(String(3))
    quote: Mapped[str | None] = mapped_column(String(3))
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_day: Mapped[dt.date | None] = mapped_column(Date)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: a new random value whenever a value of the series is stored or republished, so what
    #: is read from its values may be kept until it changes (None: never stored)
    stamp: Mapped[str | None] = mapped_column(String(32))


class Observation(Base):
    """The value of a series on a day: one row per (series, day), as last published."""

    __tablename__ = "rates_observations"
    __table_args__ = (UniqueConstraint("series_id", "day", name="uq_rates_observations_series_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("rates_series.id", ondelete="CASCADE"))
    day: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: how many times the value was republished (the earlier ones are in rates_revisions)
    revision: Mapped[int] = mapped_column(Integer, default=0)


class Revision(Base):
    """A value that a republication replaced, and when it was fetched and replaced."""

    __tablename__ = "rates_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    observation_id: Mapped[int] = mapped_column(
        ForeignKey("rates_observations.id", ondelete="CASCADE"), index=True)
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceState(Base):
    """How a source is doing, and when any worker may call its provider next (the pacing
    every worker shares)."""

    __tablename__ = "rates_source_states"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    next_call_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the kind of the last failure (see mypages_rates.sources.FAILURES) and a safe detail
    last_error: Mapped[str | None] = mapped_column(String(40))
    last_error_detail: Mapped[str | None] = mapped_column(String(200))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    republications: Mapped[int] = mapped_column(Integer, default=0)
    last_republication_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_run_on: Mapped[dt.date | None] = mapped_column(Date)


class Follow(Base):
    """A series a company follows (chosen by its admins)."""

    __tablename__ = "rates_follows"
    __table_args__ = (UniqueConstraint("company_id", "series_id",
                                       name="uq_rates_follows_company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("rates_series.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanyKey(Base):
    """A company's own key for a source (Fixer), encrypted at rest."""

    __tablename__ = "rates_company_keys"
    __table_args__ = (UniqueConstraint("company_id", "source",
                                       name="uq_rates_company_keys_company_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(EncryptedText())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """A member's alert on a series: ``above``/``below`` a threshold, or a ``move`` of more
    than ``basis_points`` from one observation to the next. ``side`` is where the last
    value stood (``above``/``below``), so a crossing fires once."""

    __tablename__ = "rates_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    series_id: Mapped[int] = mapped_column(ForeignKey("rates_series.id", ondelete="CASCADE"),
                                           index=True)
    kind: Mapped[str] = mapped_column(String(10))
    threshold: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    basis_points: Mapped[int | None] = mapped_column(Integer)
    side: Mapped[str | None] = mapped_column(String(10))
    checked_day: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Notice(Base):
    """An in-app notice of a fired alert, for its member."""

    __tablename__ = "rates_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("rates_series.id", ondelete="CASCADE"))
    alert_kind: Mapped[str] = mapped_column(String(10))
    day: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    previous: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    threshold: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
