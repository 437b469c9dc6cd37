"""Alembic with one history per distribution, run on empty databases; a failed upgrade
changes nothing; the models and the migrations agree (mypages.testing.checks)."""
import json
import re

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, String, Table, event, inspect, text
from sqlalchemy.orm import Session

from mypages.audit.chain import verify
from mypages.audit.models import AuditEvent
from mypages.db import Base, engine_from_url
from mypages.db.migrate import (MigrationFailed, alembic_config, current_revisions,
                                migration_sources, new_revision, upgrade_all)
from mypages.testing.checks import migration_problems
from tests.core.db.history import (ADD_COLOUR, ADD_COLOUR_THEN_FAIL, CREATE_THINGS, TABLE,
                                   History)

CORE, NOTES = "mypages", "mypages-example-notes"
VERSION_TABLES = {CORE: "alembic_version_mypages", NOTES: "alembic_version_mypages_example_notes"}
WRITES = re.compile(r"^\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


@pytest.fixture
def engine(mypages_db_kind, request, tmp_path):
    """An engine on a database with nothing in it."""
    if mypages_db_kind == "sqlite":
        url = f"sqlite:///{tmp_path}/empty.sqlite"
    else:
        url = request.getfixturevalue("postgres_server").create_database("mypages_migrations_empty")
    engine = engine_from_url(url)
    assert inspect(engine).get_table_names() == []
    yield engine
    engine.dispose()


@pytest.fixture
def sources(mypages_app):
    """The core's and every installed plugin's migrations, as ``mypages db upgrade`` finds them."""
    found = {source.distribution: source for source in migration_sources(mypages_app.registry)}
    assert list(found)[:1] == [CORE]  # the core first: plugins' tables refer to its tables
    assert NOTES in found
    return found


def head(source, engine) -> str:
    [revision] = ScriptDirectory.from_config(alembic_config(source, engine)).get_heads()
    return revision


def version_rows(engine, table) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text(f'SELECT version_num FROM "{table}"')))


def tables_of(distribution_prefix: str) -> set[str]:
    """Tables mapped by classes in the given package."""
    return {mapper.local_table.name for mapper in Base.registry.mappers
            if mapper.class_.__module__.startswith(distribution_prefix)}


def schema(engine) -> dict:
    """What the database holds, for before/after comparisons."""
    inspector = inspect(engine)
    return {table: {"columns": [(c["name"], str(c["type"]), c["nullable"])
                                for c in inspector.get_columns(table)],
                    "indexes": sorted(i["name"] for i in inspector.get_indexes(table)),
                    "foreign_keys": sorted(str(fk["name"]) for fk in inspector.get_foreign_keys(table))}
            for table in sorted(inspector.get_table_names())}


def test_upgrade_all_keeps_one_version_table_per_distribution(engine, sources):
    done = upgrade_all(engine, list(sources.values()))

    assert done[0] == CORE and NOTES in done
    tables = set(inspect(engine).get_table_names())
    assert "alembic_version" not in tables  # nobody shares the default history
    for distribution, version_table in VERSION_TABLES.items():
        source = sources[distribution]
        assert source.version_table == version_table
        assert version_rows(engine, version_table) == [head(source, engine)]
        assert current_revisions(engine, source) == ({head(source, engine)}, {head(source, engine)})
    assert tables_of("mypages.") <= tables
    assert "example_notes" in tables


def test_upgrade_all_twice_changes_nothing(engine, sources):
    upgrade_all(engine, list(sources.values()))
    before = schema(engine)
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(statement))

    upgrade_all(engine, list(sources.values()))

    assert [s for s in statements if WRITES.match(s)] == []
    assert schema(engine) == before


def test_a_plugin_history_is_removed_without_touching_the_core(engine, sources):
    upgrade_all(engine, list(sources.values()))
    core_tables_before = {table: columns for table, columns in schema(engine).items()
                          if table != "example_notes"}

    with engine.begin() as connection:
        command.downgrade(alembic_config(sources[NOTES], engine, connection), "base")

    assert "example_notes" not in inspect(engine).get_table_names()
    assert current_revisions(engine, sources[NOTES])[0] == set()
    assert version_rows(engine, VERSION_TABLES[CORE]) == [head(sources[CORE], engine)]
    assert schema(engine) == core_tables_before

    # Installed again, the plugin's history starts over on its own.
    upgrade_all(engine, list(sources.values()))
    assert "example_notes" in inspect(engine).get_table_names()
    assert version_rows(engine, VERSION_TABLES[NOTES]) == [head(sources[NOTES], engine)]


def test_every_table_of_the_core_is_mapped_once_the_app_is_built(engine, sources):
    """Nothing imports every model: each domain's package imports its own, so including the
    domains fills ``Base.metadata``, which ``alembic revision --autogenerate`` compares."""
    upgrade_all(engine, [sources[CORE]])

    created = set(inspect(engine).get_table_names()) - {VERSION_TABLES[CORE]}
    assert created == tables_of("mypages.")


@pytest.mark.parametrize("distribution", [CORE, NOTES])
def test_migrated_schema_matches_the_models(engine, mypages_app, distribution):
    # as a plugin's test calls it: the app under test gives the histories, a URL the database
    problems = migration_problems(mypages_app, distribution,
                                  engine.url.render_as_string(hide_password=False))

    assert problems == [], "\n".join(map(str, problems))
    assert tables_of("mypages.") <= set(inspect(engine).get_table_names())


def things(*columns) -> MetaData:
    """The models of the throwaway distribution: its one table with ``columns``."""
    metadata = MetaData()
    Table(TABLE, metadata, Column("id", Integer, primary_key=True),
          Column("name", String(100), nullable=False), *columns)
    return metadata


def test_the_check_finds_a_model_its_migrations_do_not_create(engine, tmp_path):
    history = History(tmp_path / "migrations", metadata=things(Column("colour", String(20))))
    history.add("t0001", None, CREATE_THINGS)

    problems = migration_problems([history.source], "mypages-throwaway", engine)

    [problem] = problems
    assert problem.what.startswith("mypages-throwaway: the models and the migrations differ: "
                                   "('add_column', None, 'throwaway_things', Column('colour'")
    assert "mypages db revision --plugin" in problem.fix


def test_a_failed_upgrade_leaves_the_schema_and_the_version_as_they_were(engine, tmp_path):
    history = History(tmp_path / "migrations")
    history.add("t0001", None, CREATE_THINGS)
    upgrade_all(engine, [history.source])
    before = schema(engine)
    history.add("t0002", "t0001", ADD_COLOUR_THEN_FAIL, title="colour of things")

    with pytest.raises(MigrationFailed) as failed:
        upgrade_all(engine, [history.source])

    assert str(failed.value) == ("migration failed: mypages-throwaway revision t0002 (colour of "
                                 "things): RuntimeError: the colour table is locked")
    assert schema(engine) == before  # no colour column
    assert version_rows(engine, history.source.version_table) == ["t0001"]
    with engine.connect() as connection:
        assert connection.scalar(text(f"SELECT count(*) FROM {TABLE}")) == 0

    history.add("t0002", "t0001", ADD_COLOUR, title="colour of things")  # fixed
    upgrade_all(engine, [history.source])
    assert "colour" in {column["name"] for column in inspect(engine).get_columns(TABLE)}
    assert version_rows(engine, history.source.version_table) == ["t0002"]


def test_a_new_revision_continues_the_historys_numbering_with_the_models_change(engine, tmp_path):
    history = History(tmp_path / "migrations", metadata=things(Column("colour", String(20))))
    history.add("t0001", None, CREATE_THINGS)
    upgrade_all(engine, [history.source])

    written = new_revision(engine, history.source, "colour of things", "throwaway")

    assert written.name == "t0002_colour_of_things.py"
    script = written.read_text()
    assert "down_revision = 't0001'" in script
    assert "batch_op.add_column(sa.Column('colour'" in script
    upgrade_all(engine, [history.source])
    assert migration_problems([history.source], "mypages-throwaway", engine) == []


def test_0004_keeps_a_stored_group_warning_both_ways(engine, sources):
    """The group-mapping warning became a message (each admin reads it in their language);
    a warning stored as text before is kept, and comes back as text on a downgrade."""
    core = sources[CORE]
    with engine.begin() as connection:
        command.upgrade(alembic_config(core, engine, connection), "0003")
        connection.execute(text("INSERT INTO companies (id, name, created_at) "
                                "VALUES (1, 'Acme AB', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO sso_connections (company_id, provider, protocol, settings, created_at, "
            "changed_at, require_all, jit_enabled, groups_warning) VALUES (1, 'azure', 'oidc', "
            "'{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, false, false, 'Grupper saknas (a@b.se)')"))
        command.upgrade(alembic_config(core, engine, connection), "0004")
    with engine.connect() as connection:
        [stored] = connection.scalars(text("SELECT groups_skipped FROM sso_connections")).all()
    stored = stored if isinstance(stored, dict) else json.loads(stored)
    assert stored["message"]["msgid"] == "Grupper saknas (a@b.se)"
    with engine.begin() as connection:
        command.downgrade(alembic_config(core, engine, connection), "0003")
    with engine.connect() as connection:
        assert connection.scalars(text("SELECT groups_warning FROM sso_connections")).all() == [
            "Grupper saknas (a@b.se)"]


def test_0009_chains_the_events_written_before_and_verify_passes(engine, sources):
    """Events written before the chains existed are linked, oldest first, per company and
    for the platform; their token id leaves the details for its column; the names of their
    people and companies are kept as they are then."""
    core = sources[CORE]
    with engine.begin() as connection:
        command.upgrade(alembic_config(core, engine, connection), "0008")
        connection.execute(text("INSERT INTO companies (id, name, created_at) "
                                "VALUES (1, 'Acme AB', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO users (id, email, display_name, is_operator, "
                                "is_active, created_at) VALUES (5, 'a@acme.se', 'Ada', false, "
                                "true, CURRENT_TIMESTAMP)"))
        for company, details in (("1", '{"api_token_id": 3}'), ("NULL", "{}"), ("1", "{}")):
            connection.execute(text(
                "INSERT INTO audit_events (created_at, company_id, actor_id, action, target, "
                f"ip, details) VALUES (CURRENT_TIMESTAMP, {company}, 5, 'x', '', '', "
                f"'{details}')"))
        command.upgrade(alembic_config(core, engine, connection), "0009")
    with Session(engine) as dbsession:
        rows = dbsession.query(AuditEvent).order_by(AuditEvent.id).all()
        assert [(e.chain_id, e.seq) for e in rows] == [(1, 1), (0, 1), (1, 2)]
        assert (rows[0].api_token_id, rows[0].details) == (3, {})
        assert (rows[0].actor_label, rows[0].company_label) == ("Ada <a@acme.se>", "Acme AB")
        assert verify(dbsession) == (3, [])
    with engine.begin() as connection:
        command.downgrade(alembic_config(core, engine, connection), "0008")
