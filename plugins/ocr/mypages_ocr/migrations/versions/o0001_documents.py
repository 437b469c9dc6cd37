"""documents, pages, fields and the Swedish full-text index

Revision ID: o0001
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

import mypages.toolkit

revision = "o0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite: an FTS5 index over ocr_pages.text kept by triggers (external content), so a page's
# entry goes with the page however it is deleted. unicode61 without removing diacritics: å, ä
# and ö are letters of their own in Swedish, not a, a and o.
SQLITE_INDEX = [
    """CREATE VIRTUAL TABLE ocr_pages_fts USING fts5(
        text, content='ocr_pages', content_rowid='id',
        tokenize="unicode61 remove_diacritics 0")""",
    """CREATE TRIGGER ocr_pages_fts_insert AFTER INSERT ON ocr_pages BEGIN
        INSERT INTO ocr_pages_fts(rowid, text) VALUES (new.id, new.text); END""",
    """CREATE TRIGGER ocr_pages_fts_delete AFTER DELETE ON ocr_pages BEGIN
        INSERT INTO ocr_pages_fts(ocr_pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
    """CREATE TRIGGER ocr_pages_fts_update AFTER UPDATE OF text ON ocr_pages BEGIN
        INSERT INTO ocr_pages_fts(ocr_pages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO ocr_pages_fts(rowid, text) VALUES (new.id, new.text); END""",
]
# PostgreSQL: the text's lexemes by the swedish configuration (its Snowball stemmer), a
# generated column, so no row can be without its entry.
POSTGRESQL_INDEX = [
    """ALTER TABLE ocr_pages ADD COLUMN search tsvector
        GENERATED ALWAYS AS (to_tsvector('swedish', text)) STORED""",
    "CREATE INDEX ix_ocr_pages_search ON ocr_pages USING gin (search)",
]


def upgrade():
    op.create_table(
        "ocr_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", mypages.toolkit.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", mypages.toolkit.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name="fk_ocr_documents_company_id_companies"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_ocr_documents_uploaded_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_ocr_documents"),
    )
    op.create_index("ix_ocr_documents_company_id", "ocr_documents", ["company_id"])
    op.create_table(
        "ocr_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["ocr_documents.id"], ondelete="CASCADE",
                                name="fk_ocr_pages_document_id_ocr_documents"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name="fk_ocr_pages_company_id_companies"),
        sa.PrimaryKeyConstraint("id", name="pk_ocr_pages"),
        sa.UniqueConstraint("document_id", "number", name="uq_ocr_pages_document_id"),
    )
    op.create_index("ix_ocr_pages_document_id", "ocr_pages", ["document_id"])
    op.create_index("ix_ocr_pages_company_id", "ocr_pages", ["company_id"])
    op.create_table(
        "ocr_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("corrected_by", sa.Integer(), nullable=True),
        sa.Column("corrected_at", mypages.toolkit.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["document_id"], ["ocr_documents.id"], ondelete="CASCADE",
                                name="fk_ocr_fields_document_id_ocr_documents"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name="fk_ocr_fields_company_id_companies"),
        sa.ForeignKeyConstraint(["corrected_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_ocr_fields_corrected_by_users"),
        sa.PrimaryKeyConstraint("id", name="pk_ocr_fields"),
        sa.UniqueConstraint("document_id", "name", name="uq_ocr_fields_document_id"),
    )
    op.create_index("ix_ocr_fields_document_id", "ocr_fields", ["document_id"])
    op.create_index("ix_ocr_fields_company_id", "ocr_fields", ["company_id"])
    for statement in (POSTGRESQL_INDEX if op.get_bind().dialect.name == "postgresql"
                      else SQLITE_INDEX):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS ocr_pages_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS ocr_pages_fts")
    op.drop_table("ocr_fields")
    op.drop_table("ocr_pages")
    op.drop_table("ocr_documents")
