"""the platform's sign-in policy, set by operators

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import mypages.db


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    platform_policy = op.create_table('platform_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('require_mfa', sa.Boolean(), nullable=False),
    sa.Column('updated_at', mypages.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('id = 1', name=op.f('ck_platform_policy_one_row')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_platform_policy_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_platform_policy'))
    )
    # the one row exists from the start, so a change locks it instead of racing to insert it
    op.bulk_insert(platform_policy, [{'id': 1, 'require_mfa': False,
                                      'updated_at': mypages.db.utcnow(), 'updated_by_id': None}])


def downgrade():
    op.drop_table('platform_policy')
