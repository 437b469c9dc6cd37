"""The plugin's tables: who has which personal number, and the orders in progress."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mypages.toolkit import Base, BlindIndex, EncryptedText, UTCDateTime, utcnow

from mypages_bankid.personal_numbers import normalize

metadata: MetaData = Base.metadata


class Identity(Base):
    """A user's personal number: encrypted, found by its blind index, one user a number.

    ``confirmed_at`` is empty while a number a company admin entered waits for its owner's
    first BankID sign-in."""

    __tablename__ = "bankid_identities"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    personal_number: Mapped[str] = mapped_column(EncryptedText())
    personal_number_index: Mapped[str | None] = mapped_column(
        BlindIndex("personal_number", normalize=normalize), unique=True)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    registered_by_company_id: Mapped[int | None] = mapped_column(
        ForeignKey("companies.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(Base):
    """An identification at BankID, from its start until the browser finishes it.

    ``pending_key`` (``user:<id>`` or ``browser:<key>``) is unique while the order is
    pending: a second tab gets the same order, never a second one. The QR secret is kept
    encrypted and never leaves the server. No personal number is kept here."""

    __tablename__ = "bankid_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    device: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    browser: Mapped[str] = mapped_column(String(64))
    pending_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    order_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    qr_start_token: Mapped[str | None] = mapped_column(String(64))
    qr_start_secret: Mapped[str | None] = mapped_column(EncryptedText())
    auto_start_token: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="starting")
    hint_code: Mapped[str | None] = mapped_column(String(40))
    rfa: Mapped[str | None] = mapped_column(String(8))
    problem: Mapped[str | None] = mapped_column(String(24))
    next_url: Mapped[str] = mapped_column(String(500), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    collected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: an operator's phone identification (``phone``): the number asked for (encrypted) and
    #: the name BankID gave once complete; ``call_initiator`` as BankID has it
    phone_number: Mapped[str | None] = mapped_column(EncryptedText())
    call_initiator: Mapped[str | None] = mapped_column(String(8))
    identified_name: Mapped[str | None] = mapped_column(String(200))


class Signature(Base):
    """A text a person is asked to sign with BankID (the toolkit's signing service), and once
    signed, BankID's evidence kept with it: the XML signature and the OCSP response as BankID
    sent them (base64), and the rest of the completion data, encrypted (it holds the
    personal number). ``id`` is the reference the caller is given back."""

    __tablename__ = "bankid_signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    order_id: Mapped[str | None] = mapped_column(String(36), index=True)
    purpose: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    next_url: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signature: Mapped[str | None] = mapped_column(Text)
    ocsp_response: Mapped[str | None] = mapped_column(Text)
    completion: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CertificateWarning(Base):
    """That the operators were warned of an RP certificate's expiry (by its SHA-256
    fingerprint): once per certificate."""

    __tablename__ = "bankid_certificate_warnings"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    warned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
