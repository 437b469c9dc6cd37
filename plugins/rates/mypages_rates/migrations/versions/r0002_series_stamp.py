"""rates: a stamp on each series that changes whenever its stored values change

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rates_series") as batch:
        batch.add_column(sa.Column("stamp", sa.String(32)))


def downgrade():
    with op.batch_alter_table("rates_series") as batch:
        batch.drop_column("stamp")
