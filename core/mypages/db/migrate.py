"""Alembic with one version table per distribution.

The core and every plugin keep their own migration history in their own
version table (``alembic_version_<distribution>``), so a plugin can be
installed or removed without touching anyone else's history.

Each distribution is upgraded in one transaction, on SQLite too: a migration
that fails leaves the schema and the recorded version as they were.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from alembic import command, context, op
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pyramid.exceptions import ConfigurationError
from sqlalchemy import Column, MetaData, String, Text
from sqlalchemy.engine import Connection, Engine

from mypages.db import Base
from mypages.services import settings_of

log = logging.getLogger(__name__)

CORE_DISTRIBUTION = "mypages"

from mypages.db import Base


@dataclass(frozen=True)
class MigrationSource:
    """Where a distribution keeps its Alembic scripts.

    ``script_location`` is a ``package:path`` resource spec, for example
    ``mypages_example_notes:migrations``. ``metadata`` is used by
    ``alembic revision --autogenerate``.
    """

    distribution: str
    script_location: str
    metadata: MetaData | None = field(default=None, compare=False)

    @property
    def version_table(self) -> str:
        return "alembic_version_" + re.sub(r"[^a-z0-9]+", "_", self.distribution.lower()).strip("_")


class MigrationFailed(Exception):
    """A migration of one distribution failed; nothing of that distribution's upgrade stayed."""

    def __init__(self, distribution: str, revision: str, cause: BaseException):
        self.distribution, self.revision, self.cause = distribution, revision, cause
        reason = (str(cause).strip().splitlines() or [""])[0]
        super().__init__(f"migration failed: {distribution} revision {revision}: "
                         f"{type(cause).__name__}: {reason}")


class PendingMigrations(ConfigurationError):
    """Production refuses to start on a database some distribution's migrations have not
    reached."""


def migration_sources(registry) -> list[MigrationSource]:
    """The core's migrations, then every enabled plugin's. ``Base.metadata`` holds every table
    of the core: including a domain imports its models."""
    sources = [MigrationSource(CORE_DISTRIBUTION, "mypages:db/migrations", Base.metadata)]
    for offered in registry["plugins.manager"].hook.mypages_migrations():
        if offered is not None:
            sources.append(offered)
    return sources


def alembic_config(source: MigrationSource, engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", source.script_location)
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["version_table"] = source.version_table
    cfg.attributes["target_metadata"] = source.metadata
    cfg.attributes["connection"] = connection
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def _transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that holds the DDL too. Python's sqlite3 driver begins a
    transaction only before INSERT, UPDATE and DELETE, so a CREATE or ALTER would be committed
    at once: on SQLite the transaction is begun here, by hand."""
    with engine.connect() as connection:
        if engine.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        driver = connection.connection.driver_connection
        level = driver.isolation_level
        driver.isolation_level = None  # the driver begins nothing; COMMIT/ROLLBACK still work
        try:
            with connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                yield connection
        finally:
            driver.isolation_level = level


def _failing_revision(script: ScriptDirectory, error: BaseException) -> str:
    """The revision whose script the error came out of, found in its traceback."""
    scripts = {Path(revision.path).resolve(): revision for revision in script.walk_revisions()}
    found = None
    traceback = error.__traceback__
    while traceback is not None:
        revision = scripts.get(Path(traceback.tb_frame.f_code.co_filename).resolve())
        found = revision or found
        traceback = traceback.tb_next
    if found is None:
        return "(none: the error came before any migration ran)"
    title = (found.doc or "").strip().splitlines()
    return f"{found.revision}" + (f" ({title[0]})" if title else "")


def upgrade(engine: Engine, source: MigrationSource, revision: str = "heads") -> None:
    """Upgrade one distribution in one transaction; :class:`MigrationFailed` names the
    distribution, the revision and the cause."""
    try:
        with _transaction(engine) as connection:
            command.upgrade(alembic_config(source, engine, connection), revision)
    except Exception as exc:
        script = ScriptDirectory.from_config(alembic_config(source, engine))
        raise MigrationFailed(source.distribution, _failing_revision(script, exc), exc) from exc


def upgrade_all(engine: Engine, sources: list[MigrationSource], revision: str = "heads") -> list[str]:
    """Upgrade every distribution, the core first; returns what was upgraded."""
    done = []
    for source in sources:
        upgrade(engine, source, revision)
        done.append(source.distribution)
    return done


def current_revisions(engine: Engine, source: MigrationSource) -> tuple[set[str], set[str]]:
    """(applied, head) revisions of one distribution."""
    return applied_revisions(engine, source.version_table), head_revisions(source, engine)


def head_revisions(source: MigrationSource, engine: Engine) -> set[str]:
    """The newest revisions of a distribution's scripts."""
    return set(ScriptDirectory.from_config(alembic_config(source, engine)).get_heads())


def applied_revisions(bind: Engine | Connection, version_table: str) -> set[str]:
    """The revisions a version table records (none when it does not exist yet), read on an
    open connection or on one of the engine's."""
    if isinstance(bind, Connection):
        migration_context = MigrationContext.configure(bind, opts={"version_table": version_table})
        return set(migration_context.get_current_heads())
    with bind.connect() as connection:
        return applied_revisions(connection, version_table)


def pending(engine: Engine, sources: list[MigrationSource]) -> list[str]:
    """The distributions whose database is behind their newest revision."""
    behind = []
    for source in sources:
        applied, heads = current_revisions(engine, source)
        if applied != heads:
            behind.append(source.distribution)
    return behind


def check_pending(registry, config_file: str = "production.ini") -> None:
    """At start-up: production refuses to run on a database some distribution's migrations
    have not reached; development warns loudly; tests build their apps on their own terms."""
    settings = settings_of(registry)
    if settings.environment == "test":
        return
    behind = pending(registry["db.engine"], migration_sources(registry))
    if not behind:
        return
    message = (f"pending database migrations of {', '.join(behind)}: run "
               f"`mypages -c {config_file} db upgrade`")
    if settings.production:
        raise PendingMigrations(f"Refusing to start in production: {message}")
    log.warning("\n%s\n!! %s\n!! the pages that use the new tables or columns will fail\n%s",
                "!" * 78, message, "!" * 78)


# -- the models and their migrations ---------------------------------------------

def package_of(source: MigrationSource) -> str:
    """The package whose models the distribution's history creates."""
    return source.script_location.split(":", 1)[0]


def owned_tables(package: str) -> set[str]:
    """The tables mapped by classes of ``package`` (the core: ``mypages``)."""
    return {mapper.local_table.name for mapper in Base.registry.mappers
            if mapper.class_.__module__ == package
            or mapper.class_.__module__.startswith(package + ".")}


def tables_of(source: MigrationSource) -> set[str]:
    """The tables a distribution's migrations look after: those of its own metadata, or, on the
    shared ``Base.metadata``, those its package's models map."""
    if source.metadata is not None and source.metadata is not Base.metadata:
        return set(source.metadata.tables)
    return owned_tables(package_of(source))


def _only(tables: set[str]):
    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return name in tables
        table = getattr(obj, "table", None)
        return table is None or table.name in tables
    return include_object


def model_differences(engine: Engine, source: MigrationSource) -> list:
    """What ``mypages db revision`` would write for the distribution's own tables: empty when
    its migrations create exactly what its models describe."""
    with engine.connect() as connection:
        migration_context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": _only(tables_of(source))})
        return compare_metadata(migration_context, source.metadata or Base.metadata)


def next_revision_id(script: ScriptDirectory, name: str) -> str:
    """The next id in the history's own numbering (``n0001`` is followed by ``n0002``); a new
    history is numbered ``<name>_0001``."""
    numbered = [re.fullmatch(r"(.*?)(\d+)", revision.revision)
                for revision in script.walk_revisions()]
    numbered = [match for match in numbered if match]
    if not numbered:
        return f"{re.sub(r'[^a-z0-9]+', '_', name.lower()).strip('_')}_0001"
    newest = max(numbered, key=lambda match: int(match.group(2)))
    prefix, number = newest.group(1), newest.group(2)
    return f"{prefix}{int(number) + 1:0{len(number)}d}"


def _unless_empty(context, revision, directives) -> None:
    """Alembic's hook on the scripts it is about to write: none when the models and the
    migrations already agree (an empty revision would only be noise in the history)."""
    if directives and directives[0].upgrade_ops.is_empty():
        directives[:] = []


def new_revision(engine: Engine, source: MigrationSource, message: str, name: str,
                 autogenerate: bool = True) -> Path | None:
    """Write the distribution's next migration script (compared with its models on ``engine``,
    which must be at the distribution's newest revision); returns its path, or ``None`` when
    the comparison found nothing to write."""
    cfg = alembic_config(source, engine)
    cfg.attributes["target_metadata"] = source.metadata or Base.metadata
    cfg.attributes["include_object"] = _only(tables_of(source))
    if autogenerate:
        cfg.attributes["process_revision_directives"] = _unless_empty
    script = ScriptDirectory.from_config(cfg)
    written = command.revision(cfg, message=message, autogenerate=autogenerate,
                               rev_id=next_revision_id(script, name))
    return Path(written.path) if written else None


def run_env() -> None:
    """Body of every distribution's ``env.py``."""
    cfg = context.config
    options = dict(
        target_metadata=cfg.attributes.get("target_metadata"),
        version_table=cfg.attributes["version_table"],
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    for option in ("include_object", "process_revision_directives"):
        if cfg.attributes.get(option) is not None:
            options[option] = cfg.attributes[option]
    connection = cfg.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    with cfg.attributes["engine"].begin() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


def add_encrypted_column(table_name: str, column_name: str, *, blind_index: str | None = None,
                         nullable: bool = True) -> None:
    """In a migration's ``upgrade()``: add a column for a model's
    :class:`~mypages.crypto.EncryptedText` (text: a value grows by about a third, plus
    some 60 characters), and, with ``blind_index``, the indexed column of its
    :class:`~mypages.crypto.BlindIndex` (64 characters). Make the model's columns of the
    same names and types."""
    op.add_column(table_name, Column(column_name, Text(), nullable=nullable))
    if blind_index is not None:
        op.add_column(table_name, Column(blind_index, String(64), nullable=True))
        op.create_index(f"ix_{table_name}_{blind_index}", table_name, [blind_index])
