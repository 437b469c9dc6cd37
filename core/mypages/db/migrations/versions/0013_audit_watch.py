"""the watch over the audit trail: how far it read each chain, and its security alerts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 21:00:00
"""
from alembic import op
import sqlalchemy as sa
import mypages.db


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_watch',
    sa.Column('chain_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('watched_seq', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('chain_id', name=op.f('pk_audit_watch'))
    )
    # the watch starts at today's heads: the history before it raises no alerts
    op.execute("INSERT INTO audit_watch (chain_id, watched_seq) "
               "SELECT chain_id, last_seq FROM audit_chains")

    op.create_table('security_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=100), nullable=False),
    sa.Column('chain_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('company_label', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('event_seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('happened_at', mypages.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('quiet_until', mypages.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('raised_at', mypages.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('text', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_security_alerts')),
    sa.UniqueConstraint('rule', 'event_id', name=op.f('uq_security_alerts_rule'))
    )
    with op.batch_alter_table('security_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_security_alerts_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_security_alerts_happened_at'), ['happened_at'], unique=False)
        batch_op.create_index('ix_security_alerts_rule_chain_subject', ['rule', 'chain_id', 'subject'], unique=False)


def downgrade():
    with op.batch_alter_table('security_alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_security_alerts_rule_chain_subject')
        batch_op.drop_index(batch_op.f('ix_security_alerts_happened_at'))
        batch_op.drop_index(batch_op.f('ix_security_alerts_company_id'))
    op.drop_table('security_alerts')
    op.drop_table('audit_watch')
