"""the audit trail in hash chains that outlive users and companies; dormant access
(memberships disabled after days without a sign-in)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 10:00:00
"""
import datetime as dt
import hashlib
import json
import types

from alembic import op
import sqlalchemy as sa
import mypages.db


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

GENESIS = '0' * 64
# a frozen copy of mypages.audit.chain's hash, as it was when this ran
HASHED = ('chain_id', 'seq', 'created_at', 'company_id', 'company_label', 'actor_id',
          'actor_label', 'action', 'target', 'ip', 'user_agent', 'request_id', 'api_token_id',
          'reason', 'details', 'prev_hash')


def digest(event) -> str:
    def value(v):
        if isinstance(v, dt.datetime):
            return v.astimezone(dt.timezone.utc).isoformat(timespec='microseconds')
        return v
    values = {name: value(getattr(event, name)) for name in HASHED}
    return hashlib.sha256(json.dumps(values, sort_keys=True, separators=(',', ':'),
                                     ensure_ascii=False).encode('utf-8')).hexdigest()


def _chain_existing_events():
    """Link the events written before chains existed, oldest first, and keep the names of
    their people and companies as they are now."""
    bind = op.get_bind()
    events = sa.table('audit_events', sa.column('id', sa.Integer),
                      sa.column('created_at', mypages.db.UTCDateTime(timezone=True)),
                      *(sa.column(name, sa.Integer) for name in
                        ('chain_id', 'seq', 'company_id', 'actor_id', 'api_token_id')),
                      *(sa.column(name, sa.String) for name in
                        ('company_label', 'actor_label', 'action', 'target', 'ip', 'user_agent',
                         'request_id', 'reason', 'prev_hash', 'hash')),
                      sa.column('details', sa.JSON))
    chains = sa.table('audit_chains', sa.column('chain_id', sa.Integer),
                      sa.column('last_seq', sa.Integer), sa.column('last_hash', sa.String),
                      sa.column('start_seq', sa.Integer), sa.column('start_prev_hash', sa.String))
    users = {row.id: f'{row.display_name} <{row.email}>' if row.display_name else row.email
             for row in bind.execute(
        sa.text('SELECT id, display_name, email FROM users'))}
    companies = {row.id: row.name for row in bind.execute(sa.text('SELECT id, name FROM companies'))}
    heads = {}
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        event = types.SimpleNamespace(**row)
        details = dict(event.details or {})
        event.api_token_id = details.pop('api_token_id', None)
        event.details = details
        event.chain_id = event.company_id or 0
        event.company_label = companies.get(event.company_id, '')
        event.actor_label = users.get(event.actor_id, '')
        event.user_agent = event.request_id = event.reason = ''
        seq, prev = heads.get(event.chain_id, (0, GENESIS))
        event.seq, event.prev_hash = seq + 1, prev
        event.hash = digest(event)
        heads[event.chain_id] = (event.seq, event.hash)
        bind.execute(events.update().where(events.c.id == event.id).values(
            {name: getattr(event, name) for name in (
                'chain_id', 'seq', 'company_label', 'actor_label', 'api_token_id', 'details',
                'user_agent', 'request_id', 'reason', 'prev_hash', 'hash')}))
    if heads:
        op.bulk_insert(chains, [{'chain_id': chain_id, 'last_seq': seq, 'last_hash': last,
                                 'start_seq': 1, 'start_prev_hash': GENESIS}
                                for chain_id, (seq, last) in sorted(heads.items())])


def upgrade():
    op.create_table('audit_chains',
    sa.Column('chain_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('start_seq', sa.Integer(), nullable=False),
    sa.Column('start_prev_hash', sa.String(length=64), nullable=False),
    sa.Column('purged_at', mypages.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('chain_id', name=op.f('pk_audit_chains'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_events_actor_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_audit_events_company_id_companies', type_='foreignkey')
        batch_op.add_column(sa.Column('chain_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('company_label', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('actor_label', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('user_agent', sa.String(length=300), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('request_id', sa.String(length=128), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('api_token_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_events()
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        for name in ('chain_id', 'seq', 'prev_hash', 'hash'):
            batch_op.alter_column(name, nullable=False)
        for name in ('company_label', 'actor_label', 'user_agent', 'request_id', 'reason'):
            batch_op.alter_column(name, server_default=None)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_chain_id'), ['chain_id', 'seq'])
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)

    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_at', mypages.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('dormancy_warned_at', mypages.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('restored_at', mypages.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('company_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dormant_days', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('company_policies', schema=None) as batch_op:
        batch_op.drop_column('dormant_days')
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('restored_at')
        batch_op.drop_column('dormancy_warned_at')
        batch_op.drop_column('disabled_at')
    # the chains go; rows whose people or companies are gone lose their ids again
    bind = op.get_bind()
    bind.execute(sa.text('UPDATE audit_events SET actor_id = NULL WHERE actor_id NOT IN '
                         '(SELECT id FROM users)'))
    bind.execute(sa.text('UPDATE audit_events SET company_id = NULL WHERE company_id NOT IN '
                         '(SELECT id FROM companies)'))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_constraint(batch_op.f('uq_audit_events_chain_id'), type_='unique')
        for name in ('hash', 'prev_hash', 'reason', 'api_token_id', 'request_id', 'user_agent',
                     'actor_label', 'company_label', 'seq', 'chain_id'):
            batch_op.drop_column(name)
        batch_op.create_foreign_key('fk_audit_events_company_id_companies', 'companies', ['company_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key('fk_audit_events_actor_id_users', 'users', ['actor_id'], ['id'], ondelete='SET NULL')
    op.drop_table('audit_chains')
