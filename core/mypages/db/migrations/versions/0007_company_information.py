"""what invoices need of a company: address, invoice e-mail, VAT number

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-30 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = (
    ('street_address', 200),
    ('postal_code', 16),
    ('city', 100),
    ('invoice_email', 254),
    ('vat_number', 20),
)


def upgrade():
    with op.batch_alter_table('companies') as batch:
        for name, length in COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade():
    with op.batch_alter_table('companies') as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
