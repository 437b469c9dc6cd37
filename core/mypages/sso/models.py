from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mypages.db import Base, UTCDateTime, utcnow


class SsoConnection(Base):
    """A company's connection to its identity provider. One per company."""

    __tablename__ = "sso_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            unique=True)
    provider: Mapped[str] = mapped_column(String(64))         # SsoProvider.key
    protocol: Mapped[str] = mapped_column(String(8))          # "oidc" or "saml"
    settings: Mapped[dict] = mapped_column(JSON, default=dict)  # never secrets
    secrets_encrypted: Mapped[str | None] = mapped_column(String(4000))  # JSON, encrypted
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # an admin of the company signed in through this connection since its last change
    admin_tested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    require_all: Mapped[bool] = mapped_column(Boolean, default=False)
    jit_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # the last time group mapping was skipped (e.g. Entra ID group overage), shown to the
    # admins in their own language: {"message": mypages.i18n.message_record(...), "email": ...}
    groups_skipped: Mapped[dict | None] = mapped_column(JSON)


class SsoLink(Base):
    """A person at the identity provider (its stable subject) is this user."""

    __tablename__ = "sso_links"
    __table_args__ = (UniqueConstraint("connection_id", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connections.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SsoAttempt(Base):
    """One sign-in sent to an identity provider: single use, bound to the browser."""

    __tablename__ = "sso_attempts"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connections.id", ondelete="CASCADE"))
    browser_hash: Mapped[str] = mapped_column(String(64))
    # OIDC: the nonce; SAML: the AuthnRequest's ID (checked against InResponseTo)
    nonce: Mapped[str] = mapped_column(String(100))
    code_verifier: Mapped[str] = mapped_column(String(200), default="")
    next_url: Mapped[str] = mapped_column(String(500), default="")
    # an admin testing the connection from the Single Sign On tab
    is_test: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SamlAssertionSeen(Base):
    """SAML assertion ids already used, kept until they expire (replay protection)."""

    __tablename__ = "saml_assertions_seen"

    assertion_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connections.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class VerifiedDomain(Base):
    """A mail domain a company claims; verified by a DNS TXT record. One company a domain."""

    __tablename__ = "verified_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    token: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class SsoGroupMapping(Base):
    """An identity provider's group (by its id) gives membership of a company group."""

    __tablename__ = "sso_group_mappings"
    __table_args__ = (UniqueConstraint("connection_id", "idp_group", "group_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("sso_connections.id", ondelete="CASCADE"))
    idp_group: Mapped[str] = mapped_column(String(300))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
