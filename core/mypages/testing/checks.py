"""Checks a plugin (or the core) should pass before it is released, each returning the
problems it found, every one naming what is wrong and how to fix it, rather than asserting:
a test asserts ``== []``, a command can print them.

* :func:`catalog_problems`: the message catalogs are fresh and complete in all eight languages;
* :func:`csrf_problems`: every POST route refuses a missing or wrong CSRF token, and changes
  nothing;
* :func:`migration_problems`: the migrations create what the models describe;
* :func:`hook_problems`: the hook implementations fit the hookspecs.

The core's own tests run the same functions on the core and on the plugins in this repository.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from webtest import TestApp

from mypages import plugins
from mypages.db import engine_from_url
from mypages.db.migrate import (MigrationFailed, migration_sources, model_differences,
                                upgrade_all)
from mypages.i18n import LANGUAGES, _, localizer_for
from mypages.i18n import catalogs
from mypages.testing.hostile import fill, routes_of

__all__ = ["Problem", "catalog_problems", "csrf_problems", "hook_problems",
           "migration_problems"]


@dataclass(frozen=True)
class Problem:
    """What is wrong, and how to fix it."""

    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}\n    fix: {self.fix}"


# -- message catalogs ----------------------------------------------------------------

def catalog_problems(plugin: str | None = None) -> list[Problem]:
    """The catalogs of ``plugin`` (its entry-point name; ``None``: the core's): each .pot
    matches the source (when run in a source checkout, which has the babel.cfg), and every
    one of the eight languages has a .po that translates every message, without fuzzy
    flags, with the message's placeholders and the language's plural forms.

    Every message of a plugin, from its code and its templates, belongs in the plugin's own
    catalog, even one the core's catalog also has."""
    try:
        domains = catalogs.plugin_domains(plugin) if plugin else catalogs.core_domains()
    except catalogs.UnknownPlugin as unknown:
        return [Problem(str(unknown), "install the plugin (pip install -e .) in this environment")]
    return [Problem(what, fix) for domain in domains for what, fix in catalogs.problems(domain)]


# -- CSRF -----------------------------------------------------------------------------

def _rows(engine: Engine, but: Iterable[str]) -> dict[str, list]:
    with engine.connect() as connection:
        return {table: sorted(map(repr, connection.execute(text(f'SELECT * FROM "{table}"'))))
                for table in inspect(connection).get_table_names() if table not in but}


def csrf_problems(app, browser: TestApp, packages: Iterable[str] | None = None,
                  placeholders: dict | None = None, fields: dict | None = None,
                  skip: Iterable[str] = ()) -> list[Problem]:
    """Every route that takes a POST (of the views in ``packages``, such as your plugin's;
    ``None``: all) refuses one without the CSRF token and one with a wrong token: a 400 with
    the "form has expired" page, and no row of any table changed (the audit trail aside).

    ``browser`` is a WebTest app, signed in as whoever could do most with the forms (an admin
    of a company with your module active). ``placeholders`` gives the values of the route
    patterns' placeholders (``{"company_id": 7, "contract_id": 3}``; ``"route.placeholder"``
    keys are for one route only; a missing one is ``1``); ``fields`` is the forged form, which
    should be enough to change something were it accepted; ``skip`` names routes that carry no
    token by design (a callback signed by someone else), each one worth a comment."""
    engine = app.registry["db.engine"]
    expired = {localizer_for(app.registry, language).translate(_("The form has expired"))
               for language in LANGUAGES}
    before = _rows(engine, but=("audit_events",))
    problems = []
    for route in routes_of(app, packages):
        if "POST" not in route.methods or route.name in skip:
            continue
        url = fill(route.pattern, dict(placeholders or {}), route.name)
        for forged, label in (({}, "without a CSRF token"),
                              ({"csrf_token": "forged"}, "with a wrong CSRF token")):
            response = browser.post(url, dict(fields or {}, **forged), status="*",
                                    expect_errors=True)
            if response.status_int != 400 or not any(text in response.text for text in expired):
                problems.append(Problem(
                    f"route {route.name!r} ({url}) answered a POST {label} with "
                    f"{response.status}, not the 400 of a refused token",
                    "do not turn CSRF checking off for the view (require_csrf=False); if the "
                    "route is a callback that cannot carry a token, check its signature "
                    "instead and pass it in skip"))
    changed = sorted(table for table, rows in _rows(engine, but=("audit_events",)).items()
                     if rows != before.get(table))
    if changed:
        problems.append(Problem(
            f"POSTs without a valid CSRF token changed the tables {', '.join(changed)}",
            "a view must not write before the token is checked: keep Pyramid's CSRF check "
            "(the default for every view) and do not write in a subscriber or a view deriver "
            "that runs before it"))
    return problems


# -- migrations -------------------------------------------------------------------------

def migration_problems(sources, distribution: str, database: str | Engine) -> list[Problem]:
    """Upgrade an empty database (a URL, or an engine) with ``sources`` (the app under test,
    whose core and plugins give them, or a list of :class:`~mypages.toolkit.MigrationSource`,
    the core's first), then compare ``distribution``'s models with what its migrations created:
    a table, column, index or type that differs is a problem."""
    if hasattr(sources, "registry"):
        sources = migration_sources(sources.registry)
    [source] = [source for source in sources if source.distribution == distribution] or [None]
    if source is None:
        return [Problem(f"{distribution} offers no migrations",
                        "implement the mypages_migrations hook, returning a MigrationSource")]
    engine = engine_from_url(database) if isinstance(database, str) else database
    try:
        upgrade_all(engine, sources)
        differences = model_differences(engine, source)
    except MigrationFailed as failed:
        return [Problem(str(failed), "fix the migration; it must run on an empty database, "
                                     "on SQLite and on PostgreSQL")]
    finally:
        if engine is not database:
            engine.dispose()
    return [Problem(f"{distribution}: the models and the migrations differ: {difference!r}",
                    "write a migration for the change: `mypages db revision --plugin NAME "
                    "-m \"...\"` (on a database at the newest revision), and check what it "
                    "wrote")
            for difference in differences]


# -- hooks -----------------------------------------------------------------------------------

def hook_problems(plugin: str, module=None) -> list[Problem]:
    """The plugin (its entry-point name; ``module``, when given, instead of importing the
    entry point's) declares a hookspec version this core runs, implements only hooks that
    exist, and takes only arguments their specs offer."""
    if module is None:
        found = [ep for ep in entry_points(group=plugins.ENTRY_POINT_GROUP) if ep.name == plugin]
        if not found:
            return [Problem(f"no installed plugin is called {plugin!r}",
                            "install it (pip install -e .) and check its entry point in the "
                            "mypages.plugins group")]
        try:
            module = found[0].load()
        except Exception as exc:
            return [Problem(f"importing {found[0].value} failed: {exc!r}",
                            "run `python -c 'import ...'` on the module and fix the error")]
    fix = ("compare the function with the hookspec in the plugin-author guide's hook reference "
           "(name, arguments) and the declared mypages_hookspec with the changelog")
    return [Problem(f"plugin {plugin!r}: {why}", fix) for why in plugins.hook_problems(plugin, module)]
