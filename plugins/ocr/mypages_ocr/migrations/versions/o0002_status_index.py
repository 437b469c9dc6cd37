"""when a document failed, and an index for the health check's look at the queue

Revision ID: o0002
Revises: o0001
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

import mypages.toolkit

revision = "o0002"
down_revision = "o0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("ocr_documents") as batch:
        batch.add_column(sa.Column("failed_at", mypages.toolkit.UTCDateTime(timezone=True),
                                   nullable=True))
    op.create_index("ix_ocr_documents_status_created_at", "ocr_documents",
                    ["status", "created_at"])


def downgrade():
    op.drop_index("ix_ocr_documents_status_created_at", "ocr_documents")
    with op.batch_alter_table("ocr_documents") as batch:
        batch.drop_column("failed_at")
