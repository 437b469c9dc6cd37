"""The plugin's tables: documents, what was read on each page, and the key fields.

Every row carries ``company_id``; pages and fields go with their document (ON DELETE
CASCADE), and with a page its search-index entry (a trigger on SQLite, a generated column
on PostgreSQL: see the first migration).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mypages.toolkit import Base, UTCDateTime, utcnow

from mypages_ocr.files import safe_filename

QUEUED, PROCESSING, DONE, FAILED = "queued", "processing", "done", "failed"
STATUSES = (QUEUED, PROCESSING, DONE, FAILED)
KINDS = ("contract", "invoice", "other")


class Document(Base):
    """An uploaded document; its original is the blob ``documents/<id>/original`` of the
    company's blob store."""

    __tablename__ = "ocr_documents"
    # the health check's look at the queue and at the day's failures
    __table_args__ = (Index("ix_ocr_documents_status_created_at", "status", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="other")
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    #: why it failed, or why it waits for another try: a code of mypages_ocr.reading.REASONS
    reason: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    engine: Mapped[str | None] = mapped_column(String(20))
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    pages: Mapped[list["Page"]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan",
        passive_deletes=True)
    fields: Mapped[list["Field"]] = relationship(
        back_populates="document", order_by="Field.id", cascade="all, delete-orphan",
        passive_deletes=True)

    @property
    def blob_key(self) -> str:
        return f"documents/{self.id}/original"

    @property
    def blob_prefix(self) -> str:
        return f"documents/{self.id}/"


class Page(Base):
    """What was read on one page: its text, and its lines with their words, each with a
    confidence (0-100) and a box (left, top, width, height as ratios of the page)."""

    __tablename__ = "ocr_pages"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("ocr_documents.id", ondelete="CASCADE"),
                                             index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    number: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[float | None] = mapped_column(Float)
    #: [{"text", "confidence", "box": [l, t, w, h], "words": [{"text", "confidence", "box"}]}]
    lines: Mapped[list] = mapped_column(JSON, default=list)

    document: Mapped[Document] = relationship(back_populates="pages")

    @property
    def image_key(self) -> str:
        return f"documents/{self.document_id}/page-{self.number}.png"


class Field(Base):
    """A key field of a document. A member's correction (``corrected_by``) is kept over
    every later reading of the document."""

    __tablename__ = "ocr_fields"
    __table_args__ = (UniqueConstraint("document_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("ocr_documents.id", ondelete="CASCADE"),
                                             index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(500), default="")
    #: 0-100; None for a value a person gave
    confidence: Mapped[float | None] = mapped_column(Float)
    page: Mapped[int | None] = mapped_column(Integer)
    #: "text" (read from the text), "expense" or "query" (Textract), "person"
    source: Mapped[str] = mapped_column(String(20), default="text")
    corrected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    corrected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    document: Mapped[Document] = relationship(back_populates="fields")


def add_document(dbsession, company_id: int, user_id: int | None, filename: str | None,
                 kind: str, data: bytes, facts, now: dt.datetime) -> Document:
    """A new document, queued, of an upload that passed its checks (``facts``: its
    :class:`~mypages_ocr.files.FileFacts`); flushed, so it has its id. The caller keeps the
    bytes under its ``blob_key`` and queues the reading."""
    document = Document(company_id=company_id, uploaded_by=user_id,
                        filename=safe_filename(filename), content_type=facts.content_type,
                        size=len(data), page_count=facts.page_count, kind=kind, status=QUEUED,
                        attempts=0, created_at=now)
    dbsession.add(document)
    dbsession.flush()
    return document


def correct_field_value(dbsession, document: Document, name: str, value: str,
                        user_id: int | None, now: dt.datetime) -> Field:
    """Keep a person's value of a field: it wins over every later reading."""
    field = dbsession.scalars(select(Field).where(Field.document_id == document.id,
                                                  Field.name == name)).first()
    if field is None:
        field = Field(document_id=document.id, company_id=document.company_id, name=name)
        dbsession.add(field)
    field.value, field.confidence, field.source = value, None, "person"
    field.corrected_by, field.corrected_at = user_id, now
    dbsession.flush()
    return field


def filtered(query, filters):
    """``query`` of documents narrowed to ``filters`` (kind, status, since, until)."""
    if filters["kind"]:
        query = query.where(Document.kind == filters["kind"])
    if filters["status"]:
        query = query.where(Document.status == filters["status"])
    if filters["since"]:
        query = query.where(Document.created_at >= dt.datetime.combine(
            filters["since"], dt.time(), dt.timezone.utc))
    if filters["until"]:
        query = query.where(Document.created_at < dt.datetime.combine(
            filters["until"] + dt.timedelta(days=1), dt.time(), dt.timezone.utc))
    return query
