"""The operator's command line: ``mypages [--config FILE] COMMAND``."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import traceback
from importlib.metadata import entry_points

import click
import transaction
from pyramid.exceptions import ConfigurationExecutionError
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import select

from mypages import application as make_app
from mypages.accounts.models import User
from mypages.api import known_scopes
from mypages.audit import chain as audit_chain
from mypages.api import tokens as api_tokens_module
from mypages.accounts.password_policy import problems
from mypages.companies.information import swedish_org_number
from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo
from mypages.crypto import DecryptionFailed, new_key, rotate_all
from mypages.db import Base, engine_from_url, session_in_transaction
from mypages.db.migrate import (CORE_DISTRIBUTION, MigrationFailed, MigrationSource,
                                applied_revisions, current_revisions, migration_sources,
                                new_revision, upgrade_all)
from mypages import demo as demo_data
from mypages.health import english, readiness
from mypages.i18n import catalogs, localizer_for, supported
from mypages.jobs import Worker, overview
from mypages.modules.lifecycle import activate
from mypages.plugins import OK, PluginError, make_plugin_manager, survey
from mypages.privacy.erasure import erase_company
from mypages.refusals import Refusal
from mypages.services import password_hasher, settings_of
from mypages.settings import parse
from mypages.work import Work

__all__ = ["Env", "main", "migration_sources"]

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
        self._engine = None
        self._logging_set_up = False

    @property
    def registry(self):
        if self._app is None:
            if self._configure_logging and not self._logging_set_up:
                setup_logging(self.config_uri)
                self._logging_set_up = True
            settings = dict(get_appsettings(self.config_uri))
            settings["mypages.jobs.in_process"] = "false"
            self._app = make_app(settings)
            self._built_here = True
        return self._app.registry

    def start_up_error(self) -> PluginError | None:
        """The plugin that stops the app from being built, if one does; other errors of
        start-up (a bad setting) are raised."""
        try:
            self.registry
        except ConfigurationExecutionError as exc:  # raised at commit, wrapped by Pyramid
            if isinstance(exc.evalue, PluginError):
                return exc.evalue
            raise
        except PluginError as exc:
            return exc
        return None

    @property
    def settings(self):
        """The typed settings, read without building the app when it was not built."""
        if self._app is not None:
            return settings_of(self._app.registry)
        return parse(dict(get_appsettings(self.config_uri)))

    @property
    def engine(self):
        """The app's engine; one of its own when the app cannot be built."""
        if self._app is not None:
            return self._app.registry["db.engine"]
        if self._engine is None:
            self._engine = engine_from_url(self.settings.database_url)
        return self._engine

    def close(self) -> None:
        """Let go of the database connections of an app built here (a process that exits
        needs no call; a test that goes on does)."""
        if self._built_here:
            self._app.registry["db.engine"].dispose()
        if self._engine is not None:
            self._engine.dispose()

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


#: entry points of commands other distributions add (the author extra's ``mypages plugin``)
COMMANDS_GROUP = "mypages.commands"


def _unavailable(name: str, point, exc: Exception) -> click.Command:
    def refuse(args):
        fail(f"the command {name!r} ({point.value}) cannot be loaded: {exc!r}; install what it "
             f"needs (`pip install 'mypages[author]'` for `mypages plugin`)")

    return click.Command(name, callback=refuse, help=f"(cannot be loaded: {exc!r})",
                         params=[click.Argument(["args"], nargs=-1)],
                         context_settings={"ignore_unknown_options": True})


class _WithInstalledCommands(click.Group):
    """The core's commands, and those installed distributions add through the
    ``mypages.commands`` entry points (the core's layers above this one: ``mypages plugin``
    is in mypages.testing); one that cannot be loaded says why, and the others work."""

    def _installed(self) -> dict:
        return {point.name: point for point in entry_points(group=COMMANDS_GROUP)
                if point.name not in self.commands}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._installed()))

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        point = self._installed().get(name) if command is None else None
        if point is not None:
            try:
                command = point.load()
            except Exception as exc:
                command = _unavailable(name, point, exc)
        return command


@click.group(cls=_WithInstalledCommands)
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
    """Upgrade the core, then every installed plugin, to their newest revisions.

    Each distribution is upgraded in one transaction: a migration that fails leaves its
    distribution's schema and version as they were."""
    registry = ctx.obj["env"].registry
    sources = migration_sources(registry)
    for source in sources:
        try:
            upgrade_all(registry["db.engine"], [source])
        except MigrationFailed as failed:
            # the line the operator needs first; the traceback is for whoever fixes it
            click.echo(f"Error: {failed}", err=True)
            traceback.print_exception(failed.cause, file=sys.stderr)
            sys.exit(1)
        click.echo(f"upgraded {source.distribution}")


def _surveyed_sources(found) -> list[MigrationSource]:
    """The core's and the loadable plugins' migrations, when the app cannot be built."""
    pm = make_plugin_manager()
    for info in found:
        if info.status == OK:
            pm.register(info.module, name=info.name)
    sources = [MigrationSource(CORE_DISTRIBUTION, "mypages:db/migrations")]
    return sources + [source for source in pm.hook.mypages_migrations() if source is not None]


def _plugins(env) -> list:
    """Every installed plugin (:func:`mypages.plugins.survey`), the one that stops the app from
    being built marked refused with why."""
    settings = env.settings
    found = survey(list(settings.plugins_allow), list(settings.plugins_deny))
    stopped = env.start_up_error()
    for info in found:
        if stopped is not None and info.name == stopped.plugin_name and not info.refused:
            info.refuse(stopped.why)
    return found


@db.command("current")
@click.pass_context
def db_current(ctx):
    """Show each distribution's applied and newest revision; a plugin that cannot be loaded is
    shown with why (its newest revision is then unknown)."""
    env = ctx.obj["env"]
    found = _plugins(env)
    refused = [info for info in found if info.refused]
    if refused:
        sources = _surveyed_sources(found)
    else:
        sources = migration_sources(env.registry)
    rows = []
    for source in sources:
        applied, heads = current_revisions(env.engine, source)
        rows.append({"distribution": source.distribution, "version_table": source.version_table,
                     "applied": ",".join(sorted(applied)) or "-", "head": ",".join(sorted(heads)),
                     "up_to_date": applied == heads, "status": OK})
    for info in refused:
        table = MigrationSource(info.distribution or info.name, "").version_table
        rows.append({"distribution": info.distribution or info.name, "version_table": table,
                     "applied": ",".join(sorted(applied_revisions(env.engine, table))) or "-",
                     "head": "?", "up_to_date": None, "status": f"refused: {info.reason}"})
    emit(ctx, rows, ["distribution", "version_table", "applied", "head", "up_to_date", "status"])


@db.command("revision")
@click.option("--plugin", "plugin_name", default=None,
              help="The plugin (entry-point name) whose history gets the revision; "
                   "none: the core's")
@click.option("-m", "--message", required=True, help="What the revision does")
@click.option("--empty", is_flag=True, help="Write an empty script instead of comparing "
                                            "the models with the database")
@click.pass_context
def db_revision(ctx, plugin_name, message, empty):
    """Write the next migration of the core or of one plugin, into its own history and
    numbering, from the difference between its models and the database (which must be at
    its newest revision: run `db upgrade` first)."""
    registry = ctx.obj["env"].registry
    sources = {source.distribution: source for source in migration_sources(registry)}
    if plugin_name is None:
        source, name = sources[CORE_DISTRIBUTION], CORE_DISTRIBUTION
    else:
        info = next((info for info in registry["plugins.found"] if info.name == plugin_name), None)
        if info is None or not info.enabled:
            fail(f"no enabled plugin is called {plugin_name!r} (see `mypages plugins list`)")
        source, name = sources.get(info.distribution), plugin_name
        if source is None:
            fail(f"plugin {plugin_name!r} offers no migrations: implement mypages_migrations "
                 f"(the plugin-author guide's tutorial shows how)")
    try:
        path = new_revision(registry["db.engine"], source, message, name, autogenerate=not empty)
    except Exception as exc:  # Alembic's own errors say what to do (the database is behind...)
        fail(f"{source.distribution}: {exc}")
    if path is None:
        click.echo(f"{source.distribution}: the models and the migrations agree, nothing "
                   f"written (change a model first, or use --empty for a migration of your own)")
        return
    click.echo(f"wrote {path}")


# -- plugins and modules -------------------------------------------------------

@main.group()
def plugins():
    """Installed plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx):
    """Every plugin found through the mypages.plugins entry points: whether it runs (ok), is
    denied or not allowed by the settings (denied), or cannot be loaded (refused, with why);
    the modules it offers and the hooks it implements."""
    as_json = ctx.obj["json"]
    rows = [{"name": p.name, "version": p.version, "distribution": p.distribution,
             "module": p.module_name, "status": p.status, "enabled": p.enabled,
             "reason": p.reason,
             "modules": list(p.modules) if as_json else ",".join(p.modules),
             "hooks": list(p.hooks) if as_json else ",".join(h.removeprefix("mypages_")
                                                             for h in p.hooks)}
            for p in _plugins(ctx.obj["env"])]
    emit(ctx, rows, ["name", "version", "distribution", "status", "modules", "hooks", "reason"])


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


# -- API tokens ------------------------------------------------------------------

@main.group("api-tokens")
def api_tokens():
    """Companies' API tokens (the REST API under /api/v1)."""


def _refused(ctx, refused: Refusal):
    fail(" ".join(map(ctx.obj["env"].localizer().translate, refused.messages)))


@api_tokens.command("create")
@click.argument("company_id", type=int)
@click.option("--name", required=True, help="What the token is for")
@click.option("--scope", "scopes", multiple=True, required=True,
              help="A scope, such as modules:read; repeat for more")
@click.option("--days", type=click.IntRange(1, api_tokens_module.MAX_DAYS), default=90,
              show_default=True, help="Days until it expires")
@click.pass_context
def api_tokens_create(ctx, company_id, name, scopes, days):
    """Make an API token of COMPANY_ID; it is printed once, and only its digest is kept."""
    env = ctx.obj["env"]
    tm, work = env.transaction()
    try:
        with tm:
            company = CompanyInfo.of(_company(work.dbsession, company_id))
            row, secret = api_tokens_module.create(
                work, company, name=name, scopes=scopes,
                expires_at=work.now() + dt.timedelta(days=days),
                known_scopes=known_scopes(work.registry))
            made = {"id": row.id, "name": row.name, "scopes": " ".join(row.scopes),
                    "expires_at": row.expires_at.isoformat(timespec="seconds"), "token": secret}
    except Refusal as refused:
        _refused(ctx, refused)
    click.echo("The token is shown this once; store it now.", err=True)
    emit(ctx, [made], ["id", "name", "scopes", "expires_at", "token"])


@api_tokens.command("list")
@click.argument("company_id", type=int)
@click.pass_context
def api_tokens_list(ctx, company_id):
    """COMPANY_ID's API tokens, newest first (never their secrets)."""
    tm, work = ctx.obj["env"].transaction()

    def when(value):
        return value.isoformat(timespec="seconds") if value is not None else ""

    with tm:
        _company(work.dbsession, company_id)
        rows = [{"id": token.id, "name": token.name, "scopes": " ".join(token.scopes),
                 "created_by": creator.email if creator is not None else "(operator)",
                 "created_at": when(token.created_at), "expires_at": when(token.expires_at),
                 "last_used_at": when(token.last_used_at), "revoked_at": when(token.revoked_at)}
                for token, creator in api_tokens_module.tokens_of(work.dbsession, company_id)]
    emit(ctx, rows, ["id", "name", "scopes", "created_by", "expires_at", "last_used_at",
                     "revoked_at"])


@api_tokens.command("revoke")
@click.argument("company_id", type=int)
@click.argument("token_id", type=int)
@click.pass_context
def api_tokens_revoke(ctx, company_id, token_id):
    """Revoke COMPANY_ID's token TOKEN_ID: it is refused from now on."""
    tm, work = ctx.obj["env"].transaction()
    try:
        with tm:
            company = CompanyInfo.of(_company(work.dbsession, company_id))
            api_tokens_module.revoke(work, company, token_id)
    except Refusal as refused:
        _refused(ctx, refused)
    click.echo(f"token {token_id} of company {company_id} revoked")


# -- companies and users -------------------------------------------------------

@main.group()
def companies():
    """Companies."""


@companies.command("create")
@click.argument("name")
@click.option("--org-number", default=None,
              help="Swedish organisation number, NNNNNN-NNNN (with its check digit)")
@click.option("--locale", default=None, help="Default language (sv, en, da, nb, fi, lt, lv, et)")
@click.pass_context
def companies_create(ctx, name, org_number, locale):
    """Create a company called NAME."""
    if not name.strip():
        fail("the name must not be empty")
    if locale is not None and supported(locale) is None:
        fail(f"unknown language {locale!r}")
    if org_number:
        typed, org_number = org_number, swedish_org_number(org_number)
        if org_number is None:
            fail(f"{typed!r} is not a Swedish organisation number (NNNNNN-NNNN, with its "
                 "check digit)")
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


@companies.command("erase")
@click.argument("company_id", type=int)
@click.option("--confirm", "typed", required=True,
              help="The company's organisation number (its id if it has none), to confirm")
@click.pass_context
def companies_erase(ctx, company_id, typed):
    """Erase the company COMPANY_ID for good: every row and stored file of the core and of
    every plugin, the accounts of its people who belong to no other company, its audit
    trail, and what the rest of the platform's records say of it. Only a record that it was
    erased is kept (its number, when, by whom). This cannot be undone."""
    tm, work = ctx.obj["env"].transaction()
    try:
        with tm:
            record = erase_company(work, company_id, typed)
            row = {"company": company_id, "org_number": record.org_number or "",
                   "erased_at": record.erased_at.isoformat()}
    except Refusal as refused:
        _refused(ctx, refused)
    emit(ctx, [row], ["company", "org_number", "erased_at"])


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
            counts = rotate_all(work.registry, work.dbsession, Base.registry.mappers)
            work.audit("keys.rotated", counts=counts)
    except DecryptionFailed:
        fail("a stored secret cannot be decrypted with any configured key; nothing was changed")
    emit(ctx, [{"column": name, "re_encrypted": n} for name, n in counts.items()],
         ["column", "re_encrypted"])


# -- audit -----------------------------------------------------------------------

@main.group()
def audit():
    """The audit trail."""


@audit.command("verify")
@click.option("--company", "company_id", type=int, default=None,
              help="Verify this company's chain only")
@click.option("--platform", is_flag=True, help="Verify the platform's chain only")
@click.pass_context
def audit_verify(ctx, company_id, platform):
    """Recompute every event's hash and follow every chain's links from its anchor to its
    head: name each event altered, removed or inserted. Exit status 1 if any."""
    tm, work = ctx.obj["env"].transaction()
    with tm:
        checked, problems = audit_chain.verify(work.dbsession, company_id, platform)
        heads = [{"chain": "platform" if head.chain_id == 0 else f"company {head.chain_id}",
                  "events": head.last_seq - head.start_seq + 1, "head": head.last_hash}
                 for head in audit_chain.heads(work.dbsession, company_id, platform)]
    if ctx.obj["json"]:
        click.echo(json.dumps({"checked": checked, "chains": heads,
                               "problems": [problem.__dict__ for problem in problems]},
                              indent=2))
    else:
        for problem in problems:
            click.echo(f"{problem.kind.upper()}: {problem.text}")
        click.echo(f"{checked} events in {len(heads)} chains checked, "
                   f"{len(problems)} problems found.")
    if problems:
        sys.exit(1)


# -- jobs ----------------------------------------------------------------------

@main.group()
def jobs():
    """Periodic and queued jobs."""


def _queues(registry, names) -> list[str] | None:
    known = registry["jobs"].queues()
    unknown = sorted(set(names) - known)
    if unknown:
        fail(f"no job has the queue {', '.join(unknown)} (the queues: {', '.join(sorted(known))})")
    return list(names) or None


@jobs.command("run")
@click.option("--due-only", is_flag=True, help="Only the periodic jobs whose time has come")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Only the jobs of this queue (repeatable); default: every queue")
@click.pass_context
def jobs_run(ctx, due_only, queues):
    """Run the periodic jobs and the queue once, then exit; the exit status is 1 when a
    job failed."""
    registry = ctx.obj["env"].registry
    result = Worker(registry, queues=_queues(registry, queues)).run_once(due_only=due_only)
    rows = [{"job": name, "kind": "periodic"} for name in result["periodic"]]
    rows.append({"job": f"{result['queued']} queued job(s)", "kind": "queued"})
    emit(ctx, rows, ["job", "kind"])
    if result["failed"]:
        click.echo(f"Error: these jobs failed (their errors are in the log and in "
                   f"`mypages jobs list`): {', '.join(sorted(set(result['failed'])))}", err=True)
        sys.exit(1)


@jobs.command("worker")
@click.option("--poll", default=5.0, show_default=True, help="Seconds between polls")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Run only the jobs of this queue (repeatable); default: every queue")
@click.pass_context
def jobs_worker(ctx, poll, queues):
    """Run jobs until stopped (SIGINT/SIGTERM); run as many as you like."""
    registry = ctx.obj["env"].registry
    worker = Worker(registry, queues=_queues(registry, queues))
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    try:
        worker.run_forever(poll_seconds=poll)
    except KeyboardInterrupt:
        pass


@jobs.command("list")
@click.pass_context
def jobs_list(ctx):
    """Every job: its queue, schedule, next run, last success, last error (times in UTC) and
    backlog (queued jobs not finished; 1 for a periodic job that is due)."""
    as_json = ctx.obj["json"]

    def shown(value):
        if isinstance(value, dt.datetime):
            return value.isoformat() if as_json else value.strftime("%Y-%m-%d %H:%M")
        if value is None:
            return None if as_json else "-"
        return value

    rows = []
    for row in overview(ctx.obj["env"].registry):
        if not as_json and row["last_error"]:  # the last line of a repr'd error says what
            row["last_error"] = row["last_error"].splitlines()[-1][:60]
        rows.append({column: shown(value) for column, value in row.items()})
    emit(ctx, rows, ["name", "kind", "queue", "schedule", "next_run_at", "last_success_at",
                     "last_error_at", "last_error", "backlog"])


# -- message catalogs ------------------------------------------------------------

@main.group()
def i18n():
    """Message catalogs of the core or of a plugin, in all eight languages (no app is built)."""


def _which(plugin_name: str | None, everything: bool) -> list:
    if plugin_name and everything:
        fail("give --plugin or --all, not both")
    try:
        if everything:
            return catalogs.all_domains()
        return catalogs.plugin_domains(plugin_name) if plugin_name else catalogs.core_domains()
    except catalogs.UnknownPlugin as unknown:
        fail(str(unknown))


def _catalog_command(name: str, doc: str):
    def decorate(function):
        @i18n.command(name, help=doc)
        @click.option("--plugin", "plugin_name", default=None,
                      help="The plugin (entry-point name); none: the core")
        @click.option("--all", "everything", is_flag=True,
                      help="The core and every installed plugin")
        def command(plugin_name, everything):
            for domain in _which(plugin_name, everything):
                function(domain)
        return command
    return decorate


@_catalog_command("extract", "Write the .pot from the Python code and templates (the "
                             "source checkout's babel.cfg says which files).")
def i18n_extract(domain):
    try:
        click.echo(f"extracted {catalogs.extract(domain)}")
    except FileNotFoundError as missing:
        fail(str(missing))


@_catalog_command("update", "Merge the .pot into every language's .po (creating missing "
                            "ones); new messages wait untranslated.")
def i18n_update(domain):
    catalogs.update(domain)
    click.echo(f"updated {domain.name} in {domain.locale_dir}")


@_catalog_command("compile", "Compile every language's .po into the .mo the portal reads.")
def i18n_compile(domain):
    compiled = catalogs.compile_catalogs(domain)
    click.echo(f"compiled {domain.name}: {len(compiled)} languages")


@i18n.command("check")
@click.option("--plugin", "plugin_name", default=None,
              help="The plugin (entry-point name); none: the core")
@click.option("--all", "everything", is_flag=True, help="The core and every installed plugin")
def i18n_check(plugin_name, everything):
    """Check that the .pot matches the source and every language is complete: each problem
    with its fix; exit status 1 when there is any."""
    found = 0
    for domain in _which(plugin_name, everything):
        problems = catalogs.problems(domain)
        found += len(problems)
        for what, fix in problems:
            click.echo(f"{what}\n    fix: {fix}")
        if not problems:
            click.echo(f"{domain}: complete in all languages")
    if found:
        click.echo(f"{found} problem(s)", err=True)
        sys.exit(1)


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
