"""Checks a plugin (or the core) should pass before it is released, each returning the
problems it found, every one naming what is wrong and how to fix it, rather than asserting:
a test asserts ``== []``, a command can print them.

* :func:`catalog_problems`: the message catalogs are fresh and complete in all eight languages;
* :func:`csrf_problems`: every POST route refuses a missing or wrong CSRF token, and changes
  nothing;
* :func:`migration_problems`: the migrations create what the models describe;
* :func:`hook_problems`: the hook implementations fit the hookspecs;
* :func:`entitlement_problems`: every company page answers as the module's lifecycle says,
  to the company's admin and member and to an admin of another company;
* :func:`plugin_problems`: all of them on one plugin, on a throwaway database
  (``mypages plugin check``).

The core's own tests run the same functions on the core and on the plugins in this repository.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points

from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from webtest import TestApp

from mypages import main, plugins
from mypages.companies.models import Company
from mypages.db import Base, engine_from_url
from mypages.db.migrate import (MigrationFailed, migration_sources, model_differences,
                                upgrade_all)
from mypages.i18n import LANGUAGES, _, localizer_for
from mypages.i18n import catalogs
from mypages.testing.factories import make_company, make_user, testing_settings
from mypages.testing.hostile import fill, placeholders_of, routes_of
from mypages.testing.lifecycle import ModuleSwitch
from mypages.testing.web import enrol_two_factor, new_browser, sign_in

__all__ = ["Problem", "catalog_problems", "csrf_problems", "entitlement_problems",
           "hook_problems", "migration_problems", "plugin_problems"]


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


# -- entitlement -------------------------------------------------------------------------

#: what the "Page not found" of a company page whose module is not active carries
MODULE_NOT_ACTIVE = 'data-reason="module-not-active"'
COMPANY_PREFIX = "/c/{company_id}"
#: what each role may see of a page guarded by each of the core's company permissions
ALLOWED = {"company.view": {"admin", "member"}, "company.admin": {"admin"}}


@dataclass(frozen=True)
class CompanyRoute:
    """A company page of a plugin: its route, the modules its views need and the
    permissions they ask for."""

    name: str
    pattern: str
    modules: tuple[str, ...]
    permissions: frozenset[str]

    def extra_placeholders(self) -> list[str]:
        return [name for name in placeholders_of(self.pattern) if name != "company_id"]


def plugin_package(app, plugin: str) -> str | None:
    """The package of the entry point ``plugin`` as the app loaded it (``None`` if it did
    not)."""
    for info in app.registry["plugins.found"]:
        if info.name == plugin and info.enabled:
            return info.module_name
    return None


def company_routes(app, package: str) -> list[CompanyRoute]:
    """The routes under ``/c/{company_id}`` with a GET view in ``package``."""
    introspector = app.registry.introspector
    by_route = app.registry["modules.by_route"]
    permissions: dict[str, set[str]] = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        module = getattr(intr["callable"], "__module__", "") or ""
        if intr["route_name"] is None or not (module == package or module.startswith(package + ".")):
            continue
        methods = intr["request_methods"]
        if methods is not None and "GET" not in ({methods} if isinstance(methods, str) else set(methods)):
            continue
        found = permissions.setdefault(intr["route_name"], set())
        found.update(related.discriminator for related in view["related"]
                     if related.category_name == "permissions")
    routes = []
    for name, asked in sorted(permissions.items()):
        pattern = introspector.get("routes", name)["pattern"]
        if pattern.startswith(COMPANY_PREFIX):
            routes.append(CompanyRoute(name, pattern, tuple(by_route.get(name, ())),
                                       frozenset(asked)))
    return routes


@dataclass
class _World:
    home: object
    other: object
    missing_id: int
    browsers: dict  # role -> a signed-in WebTest app


def _world(app, keys) -> _World:
    """A company with an admin and a member, and another company with every one of
    ``keys`` active and its own admin; each person signed in on a browser of their own."""
    session = sessionmaker(bind=app.registry["db.engine"], expire_on_commit=False)()
    try:
        home, other = make_company(session), make_company(session)
        people = {"admin": make_user(session, company=home, role="admin"),
                  "member": make_user(session, company=home, role="member"),
                  "admin of another company": make_user(session, company=other, role="admin")}
        session.commit()
        missing_id = session.scalar(select(func.max(Company.id))) + 1000
    finally:
        session.close()
    switch = ModuleSwitch(app)
    for key in keys:
        switch.buy(other, key)
    browsers = {}
    for number, (role, person) in enumerate(people.items(), start=10):
        browsers[role] = new_browser(app, ip=f"192.0.2.{number}")
        sign_in(browsers[role], person.email)
    return _World(home, other, missing_id, browsers)


def _general(response, company_id: int) -> tuple:
    """The answer with the company's id taken out, to compare answers about two companies."""
    def general(text: str) -> str:
        return (text.replace(f"/c/{company_id}/", "/c/ID/")
                .replace(f"%2Fc%2F{company_id}%2F", "%2Fc%2FID%2F"))

    return (response.status_int, general(response.headers.get("Location", "")),
            general(response.text))


FIX_MODULE = ("give every view of the route the module predicate, @view_config(..., "
              "module=\"{key}\"): the core then answers \"module not active\" to a company "
              "that is not entitled to it")
FIX_ALLOWED = ("check the view's permission (\"company.view\": every member, "
               "\"company.admin\": the company's admins) and that it needs no module but "
               "{key!r}; if the route needs rows (an id in its address), give their values in "
               "placeholders (`--placeholder NAME=VALUE`)")
FIX_FORBIDDEN = "a page for the company's admins only needs permission=\"company.admin\""
FIX_HIDDEN = ("register the route with config.add_company_route, which answers whoever is not "
              "a member of the company as if it did not exist, and take the company from "
              "request.company, never from the address")


def entitlement_problems(app, plugin: str, module_key: str | None = None,
                         placeholders: dict | None = None, skip: Iterable[str] = ()
                         ) -> list[Problem]:
    """Every company page (a GET route under ``/c/{company_id}``) of ``plugin`` (its
    entry-point name), for its module (``module_key``; ``None``: each page's own, from its
    ``module=`` predicate), answers as the contract says as the module goes through its
    lifecycle for a company: "module not active" (404) before activation, after the trial
    expired and after deactivation, to the company's admin and member alike; the page
    during the trial and once bought, to whom its permission lets in (403 for the others);
    and to an admin of another company (which has the module) always the same 404 as for a
    company that does not exist.

    It makes its own companies and people (in the app's database: the ``app`` fixture
    empties it after the test). ``placeholders`` gives values for the route patterns'
    other placeholders (``"route.placeholder"`` for one route; a missing one is ``1``, and
    a page that then answers 404 while the module is active is let be: it found no row);
    ``skip`` names routes to leave out."""
    package = plugin_package(app, plugin)
    if package is None:
        return [Problem(f"the app did not load a plugin called {plugin!r}",
                        "install the plugin and allow it (mypages.plugins.allow)")]
    catalogue = app.registry["modules.catalogue"]
    offered = [key for key, owner in catalogue.owners.items() if owner == plugin]
    routes = [route for route in company_routes(app, package) if route.name not in skip]
    problems = []
    checked: dict[str, list[CompanyRoute]] = {}
    for route in routes:
        keys = (module_key,) if module_key is not None else route.modules
        if module_key is not None and module_key not in route.modules or not keys:
            if offered or module_key is not None:
                key = module_key or offered[0]
                problems.append(Problem(
                    f"route {route.name!r} ({route.pattern}) answers every company, whether "
                    f"it is entitled to the module {key!r} or not",
                    FIX_MODULE.format(key=key)))
            continue
        for key in keys:
            checked.setdefault(key, []).append(route)
    unguarded = [route for route in routes if not route.modules]
    if unguarded:
        world = _world(app, [])
        for route in unguarded:
            problems.extend(_hidden_problems(world, route, dict(placeholders or {}),
                                             "(a page of no module)"))
    for key in sorted(checked):
        if catalogue.get(key) is None:
            problems.append(Problem(f"no plugin offers the module {key!r} that the routes "
                                    f"{', '.join(r.name for r in checked[key])} need",
                                    "return it from the plugin's mypages_modules hook"))
            continue
        problems.extend(_lifecycle_problems(app, key, checked[key], dict(placeholders or {})))
    return problems


def _hidden_problems(world: _World, route: CompanyRoute, placeholders: dict,
                     stage: str) -> list[Problem]:
    """An admin of another company gets the same 404 for the page of ``world.home`` as for
    a company that does not exist."""
    path = fill(route.pattern, placeholders, route.name, company_id=world.home.id)
    stranger = world.browsers["admin of another company"]
    seen = stranger.get(path, status="*", expect_errors=True)
    missing = stranger.get(fill(route.pattern, placeholders, route.name,
                                company_id=world.missing_id), status="*", expect_errors=True)
    if (seen.status_int != 404 or world.home.name in seen.text
            or _general(seen, world.home.id) != _general(missing, world.missing_id)):
        return [Problem(f"route {route.name!r} ({path}) {stage}, for an admin of another "
                        f"company: answered {seen.status}, not the same 404 as for a company "
                        f"that does not exist", FIX_HIDDEN)]
    return []


def _lifecycle_problems(app, key: str, routes: list[CompanyRoute], placeholders: dict):
    world = _world(app, [key])
    switch = ModuleSwitch(app)
    problems = []

    def url(route, company_id):
        return fill(route.pattern, placeholders, route.name, company_id=company_id)

    def expect(stage: str, entitled: bool):
        for route in routes:
            path = url(route, world.home.id)
            for role in ("admin", "member"):
                response = world.browsers[role].get(path, status="*", expect_errors=True)
                status = response.status_int
                if not entitled:
                    if status != 404 or MODULE_NOT_ACTIVE not in response.text:
                        problems.append(Problem(
                            f"route {route.name!r} ({path}) {stage}, for the company's {role}: "
                            f"answered {response.status}, not the 404 \"module not active\"",
                            FIX_MODULE.format(key=key)))
                    continue
                [permission] = route.permissions if len(route.permissions) == 1 else [None]
                # another permission (or several views): whoever it lets in, a page
                allowed = ALLOWED.get(permission, {"admin", "member"})
                unfilled = [name for name in route.extra_placeholders()
                            if name not in placeholders and f"{route.name}.{name}" not in placeholders]
                if role in allowed:
                    # a page, or a 404 of its own when no row has the id it was given
                    ok = status < 400 or (bool(unfilled) and status == 404
                                          and MODULE_NOT_ACTIVE not in response.text)
                    wanted, fix = "the page (2xx or 3xx)", FIX_ALLOWED.format(key=key)
                else:
                    ok, wanted, fix = status == 403, "403", FIX_FORBIDDEN
                if not ok:
                    problems.append(Problem(
                        f"route {route.name!r} ({path}) {stage}, for the company's {role}: "
                        f"answered {response.status}, not {wanted}", fix))
            problems.extend(_hidden_problems(world, route, placeholders, stage))

    expect("before the module is activated", entitled=False)
    switch.activate(world.home, key)
    expect("during the trial", entitled=True)
    switch.expire(world.home, key)
    expect("after the trial expired", entitled=False)
    switch.buy(world.home, key)
    expect("once the module is bought", entitled=True)
    switch.deactivate(world.home, key)
    expect("after the module was deactivated", entitled=False)
    return problems


# -- all of them, on one plugin ---------------------------------------------------------

FIX_CRASH = ("fix what raised it; run the check alone from a test (mypages.testing.checks) "
             "to see the traceback")


def _plugin_migration_problems(app, plugin: str, package: str, database: str) -> list[Problem]:
    [info] = [info for info in app.registry["plugins.found"] if info.name == plugin]
    if any(source.distribution == info.distribution
           for source in migration_sources(app.registry)):
        return migration_problems(app, info.distribution, database)
    tables = sorted(mapper.local_table.name for mapper in Base.registry.mappers
                    if mapper.class_.__module__.split(".")[0] == package.split(".")[0])
    if tables:
        return [Problem(f"plugin {plugin!r} has models ({', '.join(tables)}) but no migrations",
                        "implement the mypages_migrations hook, returning a MigrationSource, "
                        "and write the first revision: `mypages db revision --plugin "
                        f"{plugin} -m \"...\"`")]
    return []


def _plugin_csrf_problems(app, plugin: str, package: str, placeholders: dict, fields: dict,
                          skip) -> list[Problem]:
    if not any("POST" in route.methods for route in routes_of(app, [package])):
        return []
    session = sessionmaker(bind=app.registry["db.engine"], expire_on_commit=False)()
    try:
        company = make_company(session)
        # who can do most with the forms: an admin of the company, and an operator (whose
        # pages need a second factor), so that operator pages' forms are checked too
        admin = make_user(session, company=company, role="admin", is_operator=True)
        session.commit()
    finally:
        session.close()
    switch = ModuleSwitch(app)
    for key, owner in app.registry["modules.catalogue"].owners.items():
        if owner == plugin:
            switch.buy(company, key)
    browser = new_browser(app, ip="192.0.2.30")
    sign_in(browser, admin.email)
    enrol_two_factor(browser)
    return csrf_problems(app, browser, [package], {"company_id": company.id, **placeholders},
                         fields, skip)


def _start_up_problem(exc: Exception) -> Problem:
    cause = getattr(exc, "evalue", None) or exc  # Pyramid wraps what failed at commit
    return Problem(f"the portal does not start with the plugin: {cause}",
                   "run `mypages plugins list` to see why, and fix the plugin's includeme or "
                   "hooks; a plugin must let the portal start")


def plugin_problems(plugin: str, placeholders: dict | None = None, fields: dict | None = None,
                    skip: Iterable[str] = ()) -> list[Problem]:
    """Every check on the installed plugin ``plugin`` (its entry-point name): its hooks, its
    catalogs, then, on a throwaway SQLite database in a temporary folder with this plugin
    alone, its migrations, the CSRF protection of its POST routes and how its company pages
    answer through the module's lifecycle. ``placeholders``, ``fields`` and ``skip`` are
    given to :func:`csrf_problems` and :func:`entitlement_problems`. Never raises: whatever
    is wrong, a plugin that cannot be imported or a check that stops, is a problem."""
    placeholders, fields, skip = dict(placeholders or {}), dict(fields or {}), tuple(skip)
    problems: list[Problem] = []

    def run(what: str, check) -> None:
        try:
            problems.extend(check())
        except Exception as exc:
            problems.append(Problem(f"plugin {plugin!r}: the {what} check stopped: {exc!r}",
                                    FIX_CRASH))

    found = [ep for ep in entry_points(group=plugins.ENTRY_POINT_GROUP) if ep.name == plugin]
    if not found:
        return [Problem(f"no installed plugin is called {plugin!r}",
                        "install it (pip install -e .) and check its entry point in the "
                        "mypages.plugins group")]
    run("hook", lambda: hook_problems(plugin))
    run("catalog", lambda: catalog_problems(plugin))
    try:
        package = found[0].load().__name__
    except Exception:
        return problems  # the hook check said why
    with tempfile.TemporaryDirectory(prefix="mypages-plugin-check-") as folder:
        settings = testing_settings(f"sqlite:///{folder}/portal.sqlite", f"{folder}/blobs")
        try:
            app = main({}, **dict(settings, **{"mypages.plugins.allow": plugin}))
        except Exception as exc:
            problems.append(_start_up_problem(exc))
            return problems
        try:
            try:
                upgrade_all(app.registry["db.engine"], migration_sources(app.registry))
            except MigrationFailed as failed:
                problems.append(Problem(str(failed), "fix the migration; it must run on an "
                                                     "empty database"))
                return problems
            run("migration", lambda: _plugin_migration_problems(
                app, plugin, package, f"sqlite:///{folder}/empty.sqlite"))
            run("CSRF", lambda: _plugin_csrf_problems(app, plugin, package, placeholders,
                                                      fields, skip))
            run("entitlement", lambda: entitlement_problems(app, plugin,
                                                            placeholders=placeholders,
                                                            skip=skip))
        finally:
            app.registry["db.engine"].dispose()
    return problems
