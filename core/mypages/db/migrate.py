"""Alembic with one version table per distribution.

The core and every plugin keep their own migration history in their own
version table (``alembic_version_<distribution>``), so a plugin can be
installed or removed without touching anyone else's history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from alembic import command, context
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

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


def alembic_config(source: MigrationSource, engine: Engine, connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", source.script_location)
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["version_table"] = source.version_table
    cfg.attributes["target_metadata"] = source.metadata
    cfg.attributes["connection"] = connection
    cfg.attributes["engine"] = engine
    return cfg


def upgrade_all(engine: Engine, sources: list[MigrationSource], revision: str = "heads") -> list[str]:
    """Upgrade every distribution, the core first; returns what was upgraded."""
    done = []
    for source in sources:
        with engine.begin() as connection:
            command.upgrade(alembic_config(source, engine, connection), revision)
        done.append(source.distribution)
    return done


def current_revisions(engine: Engine, source: MigrationSource) -> tuple[set[str], set[str]]:
    """(applied, head) revisions of one distribution."""
    with engine.connect() as connection:
        applied = applied_revisions(connection, source)
    return applied, head_revisions(source, engine)


def migration_sources(registry) -> list[MigrationSource]:
    """The core's migrations, then every plugin's. ``Base.metadata`` holds every table of
    the core: including a domain imports its models."""
    sources = [MigrationSource("mypages", "mypages:db/migrations", Base.metadata)]
    for offered in registry["plugins.manager"].hook.mypages_migrations():
        if offered is not None:
            sources.append(offered)
    return sources


def head_revisions(source: MigrationSource, engine: Engine) -> set[str]:
    """The newest revisions of a distribution's scripts."""
    return set(ScriptDirectory.from_config(alembic_config(source, engine)).get_heads())


def applied_revisions(connection, source: MigrationSource) -> set[str]:
    """The revisions the database is at, for one distribution."""
    migration_context = MigrationContext.configure(
        connection, opts={"version_table": source.version_table})
    return set(migration_context.get_current_heads())


def run_env() -> None:
    """Body of every distribution's ``env.py``."""
    cfg = context.config
    options = dict(
        target_metadata=cfg.attributes.get("target_metadata"),
        version_table=cfg.attributes["version_table"],
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
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
