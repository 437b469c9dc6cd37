"""data export and erasure: archives of a company's data, and what is left of an erased
company

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 21:00:00
"""
from alembic import op
import sqlalchemy as sa

from mypages.db import UTCDateTime


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('steps_done', sa.Integer(), nullable=False),
        sa.Column('steps_total', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('blob_key', sa.String(length=200), nullable=True),
        sa.Column('error', sa.String(length=200), nullable=True),
        sa.Column('created_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('expires_at', UTCDateTime(timezone=True), nullable=True),
        sa.Column('downloaded_at', UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                                name=op.f('fk_data_exports_company_id_companies'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                                name=op.f('fk_data_exports_requested_by_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    )
    op.create_index(op.f('ix_data_exports_company_id'), 'data_exports', ['company_id'])
    op.create_index(op.f('ix_data_exports_requested_by_id'), 'data_exports',
                    ['requested_by_id'])
    op.create_table(
        'company_erasures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_number', sa.String(length=32), nullable=True),
        sa.Column('erased_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('erased_by_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_company_erasures')),
    )


def downgrade():
    op.drop_table('company_erasures')
    op.drop_index(op.f('ix_data_exports_requested_by_id'), table_name='data_exports')
    op.drop_index(op.f('ix_data_exports_company_id'), table_name='data_exports')
    op.drop_table('data_exports')
