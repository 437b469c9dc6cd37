"""BankID identities and orders

Revision ID: b0001
Revises:
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from mypages.toolkit import UTCDateTime, add_encrypted_column

revision = "b0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bankid_identities",
        sa.Column("user_id", sa.Integer(), nullable=False),
        # EncryptedText and its BlindIndex (the columns add_encrypted_column adds), in the
        # table itself so that the index is a unique constraint on SQLite too
        sa.Column("personal_number", sa.Text(), nullable=False),
        sa.Column("personal_number_index", sa.String(64), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("registered_by_company_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_bankid_identities_user_id_users"),
        sa.ForeignKeyConstraint(["registered_by_company_id"], ["companies.id"],
                                ondelete="SET NULL",
                                name="fk_bankid_identities_registered_by_company_id_companies"),
        sa.PrimaryKeyConstraint("user_id", name="pk_bankid_identities"),
        sa.UniqueConstraint("personal_number_index",
                            name="uq_bankid_identities_personal_number_index"),
    )
    op.create_table(
        "bankid_orders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("device", sa.String(8), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("browser", sa.String(64), nullable=False),
        sa.Column("pending_key", sa.String(80), nullable=True),
        sa.Column("order_ref", sa.String(64), nullable=True),
        sa.Column("qr_start_token", sa.String(64), nullable=True),
        sa.Column("auto_start_token", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("hint_code", sa.String(40), nullable=True),
        sa.Column("rfa", sa.String(8), nullable=True),
        sa.Column("problem", sa.String(24), nullable=True),
        sa.Column("next_url", sa.String(500), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("collected_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_bankid_orders_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_bankid_orders"),
        sa.UniqueConstraint("pending_key", name="uq_bankid_orders_pending_key"),
    )
    add_encrypted_column("bankid_orders", "qr_start_secret")
    op.create_index("ix_bankid_orders_user_id", "bankid_orders", ["user_id"])
    op.create_index("ix_bankid_orders_order_ref", "bankid_orders", ["order_ref"])


def downgrade():
    op.drop_table("bankid_orders")
    op.drop_table("bankid_identities")
