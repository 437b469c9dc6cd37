"""notes table

Revision ID: n0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

import mypages.toolkit

revision = "n0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "example_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("created_at", mypages.toolkit.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                name="fk_example_notes_company_id_companies"),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_example_notes_author_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_example_notes"),
    )
    op.create_index("ix_example_notes_company_id", "example_notes", ["company_id"])


def downgrade():
    op.drop_index("ix_example_notes_company_id", table_name="example_notes")
    op.drop_table("example_notes")
