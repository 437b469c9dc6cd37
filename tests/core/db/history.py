"""A throwaway migration history in a folder of its own, for the tests of migrations that
fail, of models that differ from their migrations and of new revisions."""
from __future__ import annotations

import textwrap
from pathlib import Path

from sqlalchemy import MetaData

from mypages.db.migrate import MigrationSource

ENV = "from mypages.db.migrate import run_env\n\nrun_env()\n"
TABLE = "throwaway_things"


class History:
    """``history.add("t0001", None, "op.create_table(...)")`` writes a revision; ``source``
    is the distribution's MigrationSource, its models in ``metadata``."""

    def __init__(self, folder: Path, distribution: str = "mypages-throwaway",
                 metadata: MetaData | None = None):
        self.folder = folder
        (folder / "versions").mkdir(parents=True)
        (folder / "env.py").write_text(ENV)
        script = Path(__file__).resolve().parents[3] / "core/mypages/db/migrations/script.py.mako"
        (folder / "script.py.mako").write_text(script.read_text())
        self.source = MigrationSource(distribution, str(folder), metadata)

    def add(self, revision: str, down: str | None, upgrade: str, title: str = "") -> Path:
        path = self.folder / "versions" / f"{revision}.py"
        path.write_text(textwrap.dedent(f'''\
            """{title or revision}"""
            import sqlalchemy as sa
            from alembic import op

            revision = {revision!r}
            down_revision = {down!r}
            branch_labels = None
            depends_on = None


            def upgrade():
            ''') + textwrap.indent(textwrap.dedent(upgrade), "    ") + "\n")
        return path


CREATE_THINGS = f"""\
op.create_table("{TABLE}", sa.Column("id", sa.Integer(), primary_key=True),
                sa.Column("name", sa.String(100), nullable=False))
"""
ADD_COLOUR_THEN_FAIL = f"""\
op.add_column("{TABLE}", sa.Column("colour", sa.String(20), nullable=True))
op.execute("INSERT INTO {TABLE} (id, name, colour) VALUES (1, 'half-way', 'red')")
raise RuntimeError("the colour table is locked")
"""
ADD_COLOUR = f"""\
op.add_column("{TABLE}", sa.Column("colour", sa.String(20), nullable=True))
"""
