"""jobs v2: success and error times of periodic jobs; de-duplication keys and rerun keys of
queued jobs, and indexes over the unfinished ones

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import mypages.db


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('periodic_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_success_at', mypages.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_error_at', mypages.db.UTCDateTime(timezone=True), nullable=True))
    # the hourly throttle clean-up became part of the nightly purge
    op.execute("DELETE FROM periodic_jobs WHERE name = 'accounts.clear_out_throttles'")

    with op.batch_alter_table('queued_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('key', sa.String(length=32), nullable=True))
    unfinished = sa.text('finished_at IS NULL')
    op.create_index('uq_queued_jobs_unfinished_dedupe_key', 'queued_jobs', ['name', 'dedupe_key'],
                    unique=True, sqlite_where=unfinished, postgresql_where=unfinished)
    op.create_index('ix_queued_jobs_unfinished', 'queued_jobs', ['name', 'run_after'],
                    unique=False, sqlite_where=unfinished, postgresql_where=unfinished)


def downgrade():
    op.drop_index('ix_queued_jobs_unfinished', table_name='queued_jobs')
    op.drop_index('uq_queued_jobs_unfinished_dedupe_key', table_name='queued_jobs')
    with op.batch_alter_table('queued_jobs', schema=None) as batch_op:
        batch_op.drop_column('key')
        batch_op.drop_column('dedupe_key')
    with op.batch_alter_table('periodic_jobs', schema=None) as batch_op:
        batch_op.drop_column('last_error_at')
        batch_op.drop_column('last_success_at')
