"""BankID signatures: what was signed, and BankID's evidence; operators' phone
identifications; the certificate warnings sent

Revision ID: b0002
Revises: b0001
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from mypages.toolkit import UTCDateTime, add_encrypted_column

revision = "b0002"
down_revision = "b0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bankid_signatures",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(36), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("next_url", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=True),
        sa.Column("signed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("ocsp_response", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_bankid_signatures_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_bankid_signatures"),
    )
    add_encrypted_column("bankid_signatures", "completion")
    op.create_index("ix_bankid_signatures_user_id", "bankid_signatures", ["user_id"])
    op.create_index("ix_bankid_signatures_order_id", "bankid_signatures", ["order_id"])
    add_encrypted_column("bankid_orders", "phone_number")
    with op.batch_alter_table("bankid_orders") as batch:
        batch.add_column(sa.Column("call_initiator", sa.String(8), nullable=True))
        batch.add_column(sa.Column("identified_name", sa.String(200), nullable=True))
    op.create_table(
        "bankid_certificate_warnings",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("warned_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_bankid_certificate_warnings"),
    )


def downgrade():
    op.drop_table("bankid_certificate_warnings")
    with op.batch_alter_table("bankid_orders") as batch:
        for name in ("identified_name", "call_initiator", "phone_number"):
            batch.drop_column(name)
    op.drop_table("bankid_signatures")
