"""The operator's command line: ``mypages [--config FILE] COMMAND``."""
from __future__ import annotations

import json
import os
import signal
import sys

import click
import transaction
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import select

from mypages import main as make_app
from mypages.accounts.models import User
from mypages.accounts.password_policy import problems
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo
from mypages.crypto import DecryptionFailed, new_key, rotate_all
from mypages.db import session_in_transaction
from mypages.db.migrate import current_revisions, migration_sources, upgrade_all
from mypages import demo as demo_data
from mypages.health import english, readiness
from mypages.i18n import localizer_for, supported
from mypages.jobs import Worker
from mypages.modules.lifecycle import activate
from mypages.refusals import Refusal
from mypages.services import password_hasher, settings_of
from mypages.work import Work

DEFAULT_CONFIG = "development.ini"


class Env:
    """The application, built without a web server or in-process job worker from the ini
    file when a command first needs it; or one already built (``app``), which commands then
    run on: tests invoke the CLI in their own process, on the app under test."""

    def __init__(self, config_uri: str, app=None, configure_logging: bool = True):
        self.config_uri = config_uri
        self._app = app
        self._built_here = False
        self._configure_logging = configure_logging

    @property
    def registry(self):
        if self._app is None:
            if self._configure_logging:
                setup_logging(self.config_uri)
            settings = dict(get_appsettings(self.config_uri))
            settings["mypages.jobs.in_process"] = "false"
            self._app = make_app({"__file__": self.config_uri}, **settings)
            self._built_here = True
        return self._app.registry

    def close(self) -> None:
        """Let go of the database connections of an app built here (a process that exits
        needs no call; a test that goes on does)."""
        if self._built_here:
            self._app.registry["db.engine"].dispose()

    def localizer(self, locale: str | None = "en"):
        """English by default; ``None``: the installation's default language."""
        return localizer_for(self.registry, locale)

    def transaction(self):
        """(transaction manager, work) for one unit of work: the operator acts as the
        platform, through the same domain functions as the pages and jobs."""
        tm = transaction.TransactionManager(explicit=True)
        dbsession = session_in_transaction(self.registry["db.session_factory"], tm)
        return tm, Work(dbsession, self.registry)


def emit(ctx, rows: list[dict], columns: list[str]) -> None:
    if ctx.obj["json"]:
        click.echo(json.dumps(rows, indent=2, default=str, ensure_ascii=False))
        return
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    click.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for row in rows:
        click.echo("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


def fail(message: str):
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


@click.group()
@click.option("-c", "--config", "config_uri", default=lambda: os.environ.get("MYPAGES_CONFIG", DEFAULT_CONFIG),
              show_default=f"$MYPAGES_CONFIG or {DEFAULT_CONFIG}", help="PasteDeploy ini file")
@click.option("--json", "as_json", is_flag=True, help="Print lists as JSON")
@click.pass_context
def main(ctx, config_uri, as_json):
    """Operate a mypages installation."""
    given = ctx.obj.get("env") if isinstance(ctx.obj, dict) else None  # main(obj={"env": ...})
    ctx.obj = {"env": given or Env(config_uri), "json": as_json}


# -- db ----------------------------------------------------------------------

@main.group()
def db():
    """Database migrations of the core and every installed plugin."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx):
    """Upgrade the core, then every installed plugin, to their newest revisions."""
    registry = ctx.obj["env"].registry
    for name in upgrade_all(registry["db.engine"], migration_sources(registry)):
        click.echo(f"upgraded {name}")


@db.command("current")
@click.pass_context
def db_current(ctx):
    """Show each distribution's applied and newest revision."""
    registry = ctx.obj["env"].registry
    rows = []
    for source in migration_sources(registry):
        applied, heads = current_revisions(registry["db.engine"], source)
        rows.append({"distribution": source.distribution, "version_table": source.version_table,
                     "applied": ",".join(sorted(applied)) or "-", "head": ",".join(sorted(heads)),
                     "up_to_date": applied == heads})
    emit(ctx, rows, ["distribution", "version_table", "applied", "head", "up_to_date"])


# -- plugins and modules -------------------------------------------------------

@main.group()
def plugins():
    """Installed plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx):
    """Every plugin found through the mypages.plugins entry points."""
    rows = [{"name": p.name, "distribution": p.distribution, "version": p.version,
             "module": p.module_name, "enabled": p.enabled, "reason": p.reason}
            for p in ctx.obj["env"].registry["plugins.found"]]
    emit(ctx, rows, ["name", "distribution", "version", "enabled", "reason"])


@main.group()
def modules():
    """The module catalogue and companies' activations."""


@modules.command("list")
@click.pass_context
def modules_list(ctx):
    """Every module offered by the enabled plugins."""
    registry = ctx.obj["env"].registry
    catalogue = registry["modules.catalogue"]
    rows = [{"key": m.key, "title": str(m.title), "trial_days": m.trial_days,
             "price": f"{m.price.amount} {m.price.currency}" if m.price else "",
             "plugin": catalogue.owners[m.key]} for m in catalogue]
    emit(ctx, rows, ["key", "title", "trial_days", "price", "plugin"])


def _company(dbsession, company_id: int):

    company = dbsession.get(Company, company_id)
    if company is None:
        fail(f"there is no company with id {company_id}")
    return company


def _module_action(ctx, company_id: int, module_key: str, action) -> None:
    env = ctx.obj["env"]
    tm, work = env.transaction()
    try:
        with tm:
            action(work, CompanyInfo.of(_company(work.dbsession, company_id)), module_key)
    except Refusal as refused:
        fail(" ".join(map(env.localizer(None).translate, refused.messages)))


@modules.command("activate")
@click.argument("company_id", type=int)
@click.argument("module_key")
@click.pass_context
def modules_activate(ctx, company_id, module_key):
    """Start COMPANY_ID's free trial of MODULE_KEY."""
    _module_action(ctx, company_id, module_key, activate)
    click.echo(f"trial of {module_key} started for company {company_id}")


# -- companies and users -------------------------------------------------------

@main.group()
def companies():
    """Companies."""


@companies.command("create")
@click.argument("name")
@click.option("--org-number", default=None, help="Organisation number")
@click.option("--locale", default=None, help="Default language (sv, en, da, nb, fi, lt, lv, et)")
@click.pass_context
def companies_create(ctx, name, org_number, locale):
    """Create a company called NAME."""
    if not name.strip():
        fail("the name must not be empty")
    if locale is not None and supported(locale) is None:
        fail(f"unknown language {locale!r}")
    tm, work = ctx.obj["env"].transaction()
    dbsession = work.dbsession
    with tm:
        if org_number and dbsession.scalars(select(Company).where(Company.org_number == org_number)).first():
            fail(f"a company with organisation number {org_number} already exists")
        company = Company(name=name.strip(), org_number=org_number, default_locale=supported(locale))
        dbsession.add(company)
        dbsession.flush()
        work.audit("company.created", target=company.name, company=company)
        row = {"id": company.id, "name": company.name}
    emit(ctx, [row], ["id", "name"])


@companies.command("list")
@click.pass_context
def companies_list(ctx):
    """Every company."""
    tm, work = ctx.obj["env"].transaction()
    with tm:
        rows = [{"id": c.id, "name": c.name, "org_number": c.org_number or "",
                 "default_locale": c.default_locale or ""}
                for c in work.dbsession.scalars(select(Company).order_by(Company.id))]
    emit(ctx, rows, ["id", "name", "org_number", "default_locale"])


@main.group()
def users():
    """Users."""


@users.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name")
@click.option("--company", "company_id", type=int, default=None, help="Company id to join")
@click.option("--role", type=click.Choice(["admin", "member"]), default="member", show_default=True)
@click.option("--operator", is_flag=True, help="Make the user a platform operator")
@click.pass_context
def users_create(ctx, email, name, company_id, role, operator):
    """Create a user; the password is read from standard input."""
    email = email.strip().lower()
    if "@" not in email:
        fail(f"{email!r} is not an e-mail address")

    password = sys.stdin.readline().rstrip("\n")
    found = problems(password, email=email)
    if found:
        fail("the password (read from standard input) is refused: "
             + " ".join(ctx.obj["env"].localizer().translate(p) for p in found))
    tm, work = ctx.obj["env"].transaction()
    dbsession = work.dbsession
    with tm:
        if dbsession.scalars(select(User).where(User.email == email)).first():
            fail(f"a user with e-mail {email} already exists")
        company = _company(dbsession, company_id) if company_id is not None else None
        user = User(email=email, display_name=name, is_operator=operator,
                    password_hash=password_hasher(work.registry).hash(password))
        dbsession.add(user)
        dbsession.flush()
        if company is not None:
            dbsession.add(Membership(company_id=company.id, user_id=user.id, role=Role(role)))
        work.audit("user.created", target=email, company=company, role=role if company else None,
                   operator=operator)
        row = {"id": user.id, "email": email, "company": company_id or "", "role": role if company else ""}
    emit(ctx, [row], ["id", "email", "company", "role"])


# -- encryption keys -----------------------------------------------------------

@main.group()
def keys():
    """Keys that encrypt secrets at rest (mypages.encryption_keys)."""


@keys.command("new")
def keys_new():
    """Print a new key; put it first in MYPAGES_ENCRYPTION_KEYS, then run `keys rotate`."""
    click.echo(new_key())


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx):
    """Re-encrypt every stored secret with the first (newest) key. Nobody is signed out."""
    tm, work = ctx.obj["env"].transaction()
    try:
        with tm:
            counts = rotate_all(work.registry, work.dbsession)
            work.audit("keys.rotated", counts=counts)
    except DecryptionFailed:
        fail("a stored secret cannot be decrypted with any configured key; nothing was changed")
    emit(ctx, [{"column": name, "re_encrypted": n} for name, n in counts.items()],
         ["column", "re_encrypted"])


# -- jobs ----------------------------------------------------------------------

@main.group()
def jobs():
    """Periodic and queued jobs."""


@jobs.command("run")
@click.option("--due-only", is_flag=True, help="Only the periodic jobs whose time has come")
@click.pass_context
def jobs_run(ctx, due_only):
    """Run the periodic jobs and the queue once, then exit."""
    result = Worker(ctx.obj["env"].registry).run_once(due_only=due_only)
    rows = [{"job": name, "kind": "periodic"} for name in result["periodic"]]
    rows.append({"job": f"{result['queued']} queued job(s)", "kind": "queued"})
    emit(ctx, rows, ["job", "kind"])


@jobs.command("worker")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between polls")
@click.pass_context
def jobs_worker(ctx, poll):
    """Run jobs until stopped (SIGINT/SIGTERM); run as many as you like."""


    worker = Worker(ctx.obj["env"].registry)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    try:
        worker.run_forever(poll_seconds=poll)
    except KeyboardInterrupt:
        pass


# -- health --------------------------------------------------------------------

@main.command("health")
@click.option("--json", "as_json", is_flag=True, help="Print JSON, as /readyz?format=json")
@click.pass_context
def health(ctx, as_json):
    """Check what /readyz checks; exit 1 when something is down."""
    registry = ctx.obj["env"].registry
    report = readiness(registry)
    shown = report.as_json(english(registry))
    if as_json or ctx.obj["json"]:
        click.echo(json.dumps(shown, indent=2, ensure_ascii=False))
    else:
        emit(ctx, shown["checks"], ["status", "source", "name", "detail"])
        click.echo(f"\n{'ready' if report.ready else 'NOT READY'} ({report.status})")
    if not report.ready:
        sys.exit(1)


# -- demo ----------------------------------------------------------------------

@main.command("demo")
@click.pass_context
def demo(ctx):
    """Seed every plugin's demo data (development only; running it again changes nothing)."""
    registry = ctx.obj["env"].registry
    if not settings_of(registry).dev_features:
        fail("demo data is only for development (mypages.dev_features = true)")
    tm, work = ctx.obj["env"].transaction()
    with tm:
        seeded = demo_data.seed(registry["plugins.manager"], work)
    if not seeded:
        click.echo("No enabled plugin seeds demo data (mypages-devtools does).")
    for plugin, lines in seeded:
        click.echo(f"{plugin}:")
        for line in lines or ["(nothing to print)"]:
            click.echo(f"  {line}")


if __name__ == "__main__":  # pragma: no cover
    main()
