"""rates: series, observations and their revisions, sources' state, follows, keys, alerts

Revision ID: r0001
Revises:
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

from mypages.toolkit import UTCDateTime, add_encrypted_column

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def _decimal():
    # exact on both: NUMERIC on PostgreSQL, text on SQLite (see models.ExactDecimal)
    return sa.Numeric(28, 10).with_variant(sa.String(40), "sqlite")


def _company(table):
    return sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_company_id_companies")


def upgrade():
    op.create_table(
        "rates_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("code", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("precision", sa.Integer(), nullable=False),
        sa.Column("base", sa.String(3)),
        sa.Column("quote", sa.String(3)),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("last_day", sa.Date()),
        sa.Column("checked_at", UTCDateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_rates_series"),
        sa.UniqueConstraint("source", "code", name="uq_rates_series_source_code"),
    )
    op.create_table(
        "rates_observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", _decimal(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True)),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["series_id"], ["rates_series.id"], ondelete="CASCADE",
                                name="fk_rates_observations_series_id_rates_series"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_observations"),
        sa.UniqueConstraint("series_id", "day", name="uq_rates_observations_series_id"),
    )
    op.create_table(
        "rates_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("value", _decimal(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["observation_id"], ["rates_observations.id"], ondelete="CASCADE",
                                name="fk_rates_revisions_observation_id_rates_observations"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_revisions"),
    )
    op.create_index("ix_rates_revisions_observation_id", "rates_revisions", ["observation_id"])
    op.create_table(
        "rates_source_states",
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("next_call_at", UTCDateTime(timezone=True)),
        sa.Column("last_success_at", UTCDateTime(timezone=True)),
        sa.Column("last_error_at", UTCDateTime(timezone=True)),
        sa.Column("last_error", sa.String(40)),
        sa.Column("last_error_detail", sa.String(200)),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("republications", sa.Integer(), nullable=False),
        sa.Column("last_republication_at", UTCDateTime(timezone=True)),
        sa.Column("last_run_on", sa.Date()),
        sa.PrimaryKeyConstraint("source", name="pk_rates_source_states"),
    )
    op.create_table(
        "rates_follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        _company("rates_follows"),
        sa.ForeignKeyConstraint(["series_id"], ["rates_series.id"], ondelete="CASCADE",
                                name="fk_rates_follows_series_id_rates_series"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_follows"),
        sa.UniqueConstraint("company_id", "series_id", name="uq_rates_follows_company_id"),
    )
    op.create_index("ix_rates_follows_company_id", "rates_follows", ["company_id"])
    op.create_table(
        "rates_company_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        _company("rates_company_keys"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_company_keys"),
        sa.UniqueConstraint("company_id", "source", name="uq_rates_company_keys_company_id"),
    )
    add_encrypted_column("rates_company_keys", "key", nullable=False)
    op.create_table(
        "rates_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("threshold", _decimal()),
        sa.Column("basis_points", sa.Integer()),
        sa.Column("side", sa.String(10)),
        sa.Column("checked_day", sa.Date()),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        _company("rates_alerts"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_rates_alerts_user_id_users"),
        sa.ForeignKeyConstraint(["series_id"], ["rates_series.id"], ondelete="CASCADE",
                                name="fk_rates_alerts_series_id_rates_series"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_alerts"),
    )
    op.create_index("ix_rates_alerts_company_id", "rates_alerts", ["company_id"])
    op.create_index("ix_rates_alerts_series_id", "rates_alerts", ["series_id"])
    op.create_table(
        "rates_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("alert_kind", sa.String(10), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", _decimal(), nullable=False),
        sa.Column("previous", _decimal()),
        sa.Column("threshold", _decimal()),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", UTCDateTime(timezone=True)),
        _company("rates_notices"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_rates_notices_user_id_users"),
        sa.ForeignKeyConstraint(["series_id"], ["rates_series.id"], ondelete="CASCADE",
                                name="fk_rates_notices_series_id_rates_series"),
        sa.PrimaryKeyConstraint("id", name="pk_rates_notices"),
    )
    op.create_index("ix_rates_notices_user_id", "rates_notices", ["user_id"])


def downgrade():
    for table in ("rates_notices", "rates_alerts", "rates_company_keys", "rates_follows",
                  "rates_source_states", "rates_revisions", "rates_observations", "rates_series"):
        op.drop_table(table)
