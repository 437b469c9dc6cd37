"""billing: when a module's paid period starts, and what an order bills

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 10:00:00
"""
from alembic import op
import sqlalchemy as sa

from mypages.db import UTCDateTime


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('module_activations') as batch:
        batch.add_column(sa.Column('billing_starts_at', UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('amount', sa.Numeric(12, 2), nullable=True))
        batch.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch.add_column(sa.Column('vat_percent', sa.Numeric(5, 2), nullable=True))
        batch.add_column(sa.Column('period', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('starts_at', UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('ends_at', UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('orders') as batch:
        for name in ('ends_at', 'starts_at', 'period', 'vat_percent', 'currency', 'amount'):
            batch.drop_column(name)
    with op.batch_alter_table('module_activations') as batch:
        batch.drop_column('billing_starts_at')
