"""the group-mapping warning is stored as a message, shown in each reader's language

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 15:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

connections = sa.table(
    'sso_connections', sa.column('id', sa.Integer), sa.column('groups_warning', sa.String),
    sa.column('groups_skipped', sa.JSON))


def upgrade():
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('groups_skipped', sa.JSON(), nullable=True))
    # a warning stored before was text in the language of that sign-in: kept as it is
    bind = op.get_bind()
    for id_, text in bind.execute(sa.select(connections.c.id, connections.c.groups_warning)
                                  .where(connections.c.groups_warning.is_not(None))).all():
        bind.execute(connections.update().where(connections.c.id == id_).values(groups_skipped={
            "message": {"domain": "mypages", "msgid": text, "default": None, "mapping": {}},
            "email": None}))
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.drop_column('groups_warning')


def downgrade():
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('groups_warning', sa.String(length=500), nullable=True))
    bind = op.get_bind()
    for id_, skipped in bind.execute(sa.select(connections.c.id, connections.c.groups_skipped)
                                     .where(connections.c.groups_skipped.is_not(None))).all():
        text = skipped["message"]["default"] or skipped["message"]["msgid"]
        if skipped.get("email"):
            text = f"{text} ({skipped['email']})"
        bind.execute(connections.update().where(connections.c.id == id_)
                     .values(groups_warning=text[:500]))
    with op.batch_alter_table('sso_connections', schema=None) as batch_op:
        batch_op.drop_column('groups_skipped')
