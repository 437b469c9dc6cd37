"""What the operator's command line says about plugins that cannot be loaded, and about
migrations: ``plugins list`` and ``db current`` name a broken plugin and why instead of
crashing; a failing migration is named in one line; ``db revision --plugin`` writes into the
plugin's own history."""
from __future__ import annotations

import textwrap

from sqlalchemy import inspect

from mypages.db import engine_from_url
from mypages.testing.cli import OperatorCli
from tests.core.db.history import (ADD_COLOUR, ADD_COLOUR_THEN_FAIL, CREATE_THINGS, TABLE,
                                   History)

WITH_MODULE = '''
    from mypages.toolkit import Module, hookimpl

    mypages_hookspec = "2.0"

    @hookimpl
    def mypages_modules():
        return [Module(key="shelf", title="Shelf", description="Shelves.")]
'''


def rows_by_name(rows, key="name") -> dict:
    return {row[key]: row for row in rows}


def test_plugins_list_shows_a_broken_plugin_with_why_and_the_others_working(site, cli_ini):
    site.add_plugin("crashing", 'raise RuntimeError("licence file missing")\n')
    site.add_plugin("future", 'mypages_hookspec = "3.0"\n')
    site.add_plugin("shelf", WITH_MODULE)
    cli = OperatorCli(ini=cli_ini(deny="sso_google"))

    plugins = rows_by_name(cli.json("plugins", "list"))

    assert plugins["crashing"]["status"] == "refused"
    assert "importing mypages_test_crashing failed" in plugins["crashing"]["reason"]
    assert "licence file missing" in plugins["crashing"]["reason"]
    assert plugins["future"]["status"] == "refused"
    assert "it was written for hookspec 3.0" in plugins["future"]["reason"]
    assert (plugins["shelf"]["status"], plugins["shelf"]["modules"], plugins["shelf"]["hooks"]) == (
        "ok", ["shelf"], ["mypages_modules"])
    assert plugins["sso_google"]["status"] == "denied"
    assert plugins["notes"]["status"] == "ok"
    assert "mypages_migrations" in plugins["notes"]["hooks"]
    table = cli("plugins", "list").stdout
    assert "refused" in table and "shelf" in table


def test_plugins_list_names_the_plugin_whose_includeme_fails(site, cli_ini):
    site.add_plugin("halfbaked", '''
        mypages_hookspec = "2.0"

        def includeme(config):
            raise LookupError("no route table for halfbaked")
    ''')

    plugins = rows_by_name(OperatorCli(ini=cli_ini()).json("plugins", "list"))

    assert plugins["halfbaked"]["status"] == "refused"
    assert "its includeme failed" in plugins["halfbaked"]["reason"]


def test_db_current_marks_the_broken_plugin_and_shows_the_others(site, cli_ini, tmp_path):
    site.add_plugin("crashing", 'raise RuntimeError("licence file missing")\n')
    ini = cli_ini()
    engine = engine_from_url(f"sqlite:///{tmp_path}/cli.sqlite")  # the ini's database
    with engine.begin() as connection:  # what an earlier, working release of it migrated
        connection.exec_driver_sql("CREATE TABLE alembic_version_mypages_test_crashing "
                                   "(version_num VARCHAR(32) NOT NULL)")
        connection.exec_driver_sql("INSERT INTO alembic_version_mypages_test_crashing "
                                   "VALUES ('c0003')")
    engine.dispose()

    rows = rows_by_name(OperatorCli(ini=ini).json("db", "current"), "distribution")

    broken = rows["mypages-test-crashing"]
    assert (broken["applied"], broken["head"], broken["up_to_date"]) == ("c0003", "?", None)
    assert broken["status"].startswith("refused: importing mypages_test_crashing failed")
    assert rows["mypages"]["status"] == "ok" and rows["mypages"]["head"] != "?"
    assert rows["mypages-example-notes"]["applied"] == "-"


def throwaway_plugin(site, folder) -> History:
    history = History(folder, distribution="mypages-test-throwaway")
    site.add_plugin("throwaway", f'''
        from mypages.toolkit import MigrationSource, hookimpl

        mypages_hookspec = "2.0"

        @hookimpl
        def mypages_migrations():
            return MigrationSource("mypages-test-throwaway", {str(folder)!r})
    ''')
    return history


def test_a_failing_migration_is_named_in_one_line_and_changes_nothing(site, cli_ini, tmp_path):
    history = throwaway_plugin(site, tmp_path / "migrations")
    history.add("t0001", None, CREATE_THINGS)
    cli = OperatorCli(ini=cli_ini())
    cli("db", "upgrade")
    history.add("t0002", "t0001", ADD_COLOUR_THEN_FAIL, title="colour of things")

    result = cli("db", "upgrade", status=1)

    lines = result.stderr.splitlines()
    assert lines[0] == ("Error: migration failed: mypages-test-throwaway revision t0002 (colour "
                        "of things): RuntimeError: the colour table is locked")
    assert lines[1] == "Traceback (most recent call last):"
    assert "upgraded mypages\n" in result.stdout  # the others before it stay upgraded
    rows = rows_by_name(cli.json("db", "current"), "distribution")
    assert rows["mypages-test-throwaway"]["applied"] == "t0001"
    engine = engine_from_url(f"sqlite:///{tmp_path}/cli.sqlite")
    assert "colour" not in {column["name"] for column in inspect(engine).get_columns(TABLE)}
    engine.dispose()

    history.add("t0002", "t0001", ADD_COLOUR, title="colour of things")
    assert "upgraded mypages-test-throwaway" in cli("db", "upgrade").stdout
    assert rows_by_name(cli.json("db", "current"), "distribution")[
        "mypages-test-throwaway"]["applied"] == "t0002"


def test_db_revision_writes_into_the_plugins_own_history(site, cli_ini, tmp_path):
    history = throwaway_plugin(site, tmp_path / "migrations")
    history.add("t0001", None, CREATE_THINGS)
    cli = OperatorCli(ini=cli_ini())
    cli("db", "upgrade")

    unchanged = cli("db", "revision", "--plugin", "throwaway", "-m", "no change")
    assert "the models and the migrations agree, nothing written" in unchanged.stdout
    assert list((tmp_path / "migrations/versions").glob("t0002*")) == []

    written = cli("db", "revision", "--plugin", "throwaway", "-m", "nothing yet", "--empty")

    assert written.stdout.strip().endswith("migrations/versions/t0002_nothing_yet.py")
    assert "down_revision = 't0001'" in (tmp_path / "migrations/versions/t0002_nothing_yet.py").read_text()
    refused = cli("db", "revision", "--plugin", "nosuch", "-m", "x", status=2)
    assert "no enabled plugin is called 'nosuch'" in refused.stderr
    assert "offers no migrations" in cli("db", "revision", "--plugin", "sso_google", "-m", "x",
                                         status=2).stderr
