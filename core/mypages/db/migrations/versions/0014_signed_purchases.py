"""signed purchases: a company's policy to confirm purchases by signing, and the signature
of each order so confirmed

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 21:00:00
"""
from alembic import op
import sqlalchemy as sa

from mypages.db import UTCDateTime


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('companies') as batch:
        batch.add_column(sa.Column('sign_purchases', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('signature_method', sa.String(length=32), nullable=True))
        batch.add_column(sa.Column('signature_reference', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('signed_by', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('signed_at', UTCDateTime(timezone=True), nullable=True))
        batch.create_unique_constraint('uq_orders_signature_reference', ['signature_reference'])


def downgrade():
    with op.batch_alter_table('orders') as batch:
        batch.drop_constraint('uq_orders_signature_reference', type_='unique')
        for name in ('signed_at', 'signed_by', 'signature_reference', 'signature_method'):
            batch.drop_column(name)
    with op.batch_alter_table('companies') as batch:
        batch.drop_column('sign_purchases')
