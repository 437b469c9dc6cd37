"""The operator's command line: its commands in the test's own process on the app under test
(click's CliRunner), and the installed command as the operator runs it, a real process on an ini
file, for what only a process shows (start-up from the ini, signals)."""
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyramid.i18n import make_localizer
from pyramid.interfaces import ITranslationDirectories
from sqlalchemy import func, select

from mypages.accounts.models import User
from mypages.audit.models import AuditEvent
from mypages.companies.models import Company, Membership, Role
from mypages.db import utcnow
from mypages.i18n import DEFAULT_LOCALE, _
from mypages.jobs.models import PeriodicJobState
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.cli import OperatorCli
from mypages.testing.plugin import sign_in

DEVELOPMENT_INI = Path(__file__).resolve().parents[2] / "development.ini"
GOOD_PASSWORD = "a perfectly long passphrase"


def write_ini(path: Path, database_url: str) -> Path:
    """development.ini as shipped, on the given database."""
    text, replaced = re.subn(r"(?m)^sqlalchemy\.url\s*=.*$", f"sqlalchemy.url = {database_url}",
                             DEVELOPMENT_INI.read_text())
    assert replaced == 1
    path.write_text(text)
    return path


class CliProcess:
    """``python -m mypages.cli -c INI ...`` in a process of its own."""

    def __init__(self, ini: Path):
        self.ini = ini

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "mypages.cli", "-c", str(self.ini), *args]

    @property
    def env(self) -> dict:
        return {name: value for name, value in os.environ.items() if name != "MYPAGES_CONFIG"}

    def __call__(self, *args: str, input: str = "", status: int = 0) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args), input=input, capture_output=True, text=True,
                                cwd=self.ini.parent, env=self.env, timeout=120)
        assert result.returncode == status, (result.stdout, result.stderr)
        return result

    def json(self, *args: str, **kw):
        return json.loads(self("--json", *args, **kw).stdout)


@pytest.fixture
def cli(app):
    """The CLI's commands on the app under test (the ``app`` fixture empties it afterwards)."""
    return OperatorCli(app=app)


@pytest.fixture
def cli_process(app, mypages_database_url, tmp_path):
    """The installed CLI, a process of its own on development.ini with the test database."""
    return CliProcess(write_ini(tmp_path / "mypages.ini", mypages_database_url))


def error_line(result) -> str:
    """The CLI's own message, among whatever the logging wrote to stderr."""
    [line] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    return line


def translated(app, message) -> str:
    """``message`` as the CLI shows it: in the default language."""
    directories = app.registry.queryUtility(ITranslationDirectories)
    return make_localizer(DEFAULT_LOCALE, directories).translate(message)


def count(dbsession, model, *where) -> int:
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


# -- the command as the operator runs it ------------------------------------------

PROCESS_ON_ONE_DATABASE = (
    "what a process adds (the installed entry point, reading the ini, exit status, signals) "
    "is the same on both databases; the commands run on both in process, and an app built "
    "from an ini on both in test_db_upgrade_migrates_an_empty_database")


def test_the_help_lists_every_command_group(cli):
    usage = cli("--help").stdout

    for group in ("db", "plugins", "modules", "companies", "users", "keys", "jobs", "demo"):
        assert re.search(rf"(?m)^\s+{group}\s", usage), group


@pytest.mark.only_database("sqlite", reason=PROCESS_ON_ONE_DATABASE)
def test_the_command_runs_in_a_process_of_its_own_on_an_ini_file(cli_process):
    assert "Usage: python -m mypages.cli" in cli_process("--help").stdout

    rows = cli_process.json("db", "current")

    assert [row["distribution"] for row in rows][0] == "mypages"
    assert all(row["up_to_date"] for row in rows)


# -- db ----------------------------------------------------------------------

def test_db_upgrade_is_idempotent_and_current_shows_heads(cli):
    for _attempt in range(2):
        lines = cli("db", "upgrade").stdout.splitlines()
        assert lines[0] == "upgraded mypages"  # the core first, then every plugin
        assert "upgraded mypages-example-notes" in lines

    rows = cli.json("db", "current")

    tables = {row["distribution"]: row["version_table"] for row in rows}
    assert tables["mypages"] == "alembic_version_mypages"
    assert tables["mypages-example-notes"] == "alembic_version_mypages_example_notes"
    for row in rows:
        assert row["up_to_date"] is True
        assert row["applied"] == row["head"] != "-"


@pytest.fixture
def fresh_database_url(mypages_db_kind, request, tmp_path):
    if mypages_db_kind == "sqlite":
        return f"sqlite:///{tmp_path}/fresh.sqlite"
    return request.getfixturevalue("postgres_server").create_database("mypages_cli_fresh")


def test_db_upgrade_migrates_an_empty_database(fresh_database_url, tmp_path):
    cli = OperatorCli(ini=write_ini(tmp_path / "fresh.ini", fresh_database_url))
    before = cli.json("db", "current")
    assert {(row["applied"], row["up_to_date"]) for row in before} == {("-", False)}

    cli("db", "upgrade")

    after = cli.json("db", "current")
    assert all(row["up_to_date"] and row["applied"] == row["head"] for row in after)


# -- plugins and modules -------------------------------------------------------

def test_plugins_list(cli):
    plugins = {row["name"]: row for row in cli.json("plugins", "list")}

    notes = plugins["notes"]
    assert notes["distribution"] == "mypages-example-notes"
    assert notes["module"] == "mypages_example_notes"
    assert (notes["enabled"], notes["reason"]) == (True, "")


def test_modules_list(cli):
    modules = {row["key"]: row for row in cli.json("modules", "list")}

    assert modules["notes"]["plugin"] == "notes"
    assert modules["notes"]["trial_days"] == 10
    assert modules["notes"]["price"] == "49 SEK"


def test_table_output_without_json(cli):
    lines = cli("modules", "list").stdout.splitlines()

    assert lines[0].split() == ["KEY", "TITLE", "TRIAL_DAYS", "PRICE", "PLUGIN"]
    assert any(line.startswith("notes ") for line in lines[1:])


def test_modules_activate_starts_a_trial_once(cli, app, factory, dbsession):
    company = factory.company()

    result = cli("modules", "activate", str(company.id), "notes")

    assert "trial of notes started" in result.stdout
    row = dbsession.scalars(select(ModuleActivation)).one()
    assert (row.company_id, row.module_key, row.state) == (company.id, "notes", ModuleState.trial)
    assert row.trial_ends_at - row.trial_started_at == dt.timedelta(days=10)
    started = AuditEvent.action == "module.trial_started"
    assert count(dbsession, AuditEvent, started, AuditEvent.company_id == company.id) == 1

    again = cli("modules", "activate", str(company.id), "notes", status=2)
    assert error_line(again) == "Error: " + translated(
        app, _("The trial of this module is already running."))

    unknown = cli("modules", "activate", str(company.id), "nosuchmodule", status=2)
    assert error_line(unknown) == "Error: " + translated(
        app, _("There is no module called \"${key}\".", mapping={"key": "nosuchmodule"}))
    assert "nosuchmodule" in error_line(unknown)

    no_company = cli("modules", "activate", str(company.id + 1000), "notes", status=2)
    assert error_line(no_company) == f"Error: there is no company with id {company.id + 1000}"

    assert count(dbsession, ModuleActivation) == 1
    assert count(dbsession, AuditEvent, started) == 1


# -- companies and users -------------------------------------------------------

def test_companies_create_and_list(cli, dbsession):
    [created] = cli.json("companies", "create", "ACME AB", "--org-number", "556677-8899",
                         "--locale", "en")

    assert created["name"] == "ACME AB"
    company = dbsession.get(Company, created["id"])
    assert (company.name, company.org_number, company.default_locale) == ("ACME AB", "556677-8899", "en")
    assert count(dbsession, AuditEvent, AuditEvent.action == "company.created",
                 AuditEvent.company_id == company.id) == 1
    assert cli.json("companies", "list") == [{"id": company.id, "name": "ACME AB",
                                              "org_number": "556677-8899", "default_locale": "en"}]


@pytest.mark.parametrize("args, message", [
    (["Other AB", "--org-number", "5566778899"],
     "a company with organisation number 556677-8899 already exists"),
    (["Other AB", "--org-number", "556677-8898"],
     "'556677-8898' is not a Swedish organisation number (NNNNNN-NNNN, with its check digit)"),
    (["   "], "the name must not be empty"),
    (["Other AB", "--locale", "xx"], "unknown language 'xx'"),
])
def test_companies_create_refusals(cli, factory, dbsession, args, message):
    factory.company("ACME AB", org_number="556677-8899")

    result = cli("companies", "create", *args, status=2)

    assert error_line(result) == f"Error: {message}"
    assert count(dbsession, Company) == 1
    assert count(dbsession, AuditEvent) == 0


def test_users_create_reads_the_password_from_stdin(cli, factory, dbsession, testapp):
    company = factory.company()

    [created] = cli.json("users", "create", "Boss@Example.se", "--name", "Boss", "--company",
                         str(company.id), "--role", "admin", input=GOOD_PASSWORD + "\n")

    assert (created["email"], created["company"], created["role"]) == ("boss@example.se", company.id, "admin")
    user = dbsession.get(User, created["id"])
    assert GOOD_PASSWORD not in user.password_hash  # stored hashed
    membership = dbsession.scalars(select(Membership).where(Membership.user_id == user.id)).one()
    assert (membership.company_id, membership.role) == (company.id, Role.admin)
    assert count(dbsession, AuditEvent, AuditEvent.action == "user.created") == 1

    sign_in(testapp, "boss@example.se", GOOD_PASSWORD)
    testapp.get(f"/c/{company.id}/settings/modules", status=200)  # an admin's page


@pytest.mark.parametrize("case", ["short password", "unknown company", "duplicate email"])
def test_users_create_refusals_write_nothing(cli, factory, dbsession, case):
    company = factory.company()
    factory.user("taken@example.se")
    email, password, company_id = "new@example.se", GOOD_PASSWORD, company.id
    if case == "short password":
        password, message = "too short", "must be at least 12 characters"
    elif case == "unknown company":
        company_id, message = company.id + 1000, f"there is no company with id {company.id + 1000}"
    else:
        email, message = "Taken@Example.se", "a user with e-mail taken@example.se already exists"

    result = cli("users", "create", email, "--company", str(company_id), "--role", "admin",
                 input=password + "\n", status=2)

    assert message in error_line(result)
    assert password not in result.stderr + result.stdout
    assert count(dbsession, User) == 1
    assert count(dbsession, Membership) == 0
    assert count(dbsession, AuditEvent) == 0


# -- jobs ----------------------------------------------------------------------

def test_jobs_run_expires_lapsed_trials(cli, factory, dbsession):
    company = factory.company()
    ended = utcnow() - dt.timedelta(hours=1)
    dbsession.add(ModuleActivation(company_id=company.id, module_key="notes", state=ModuleState.trial,
                                   trial_started_at=ended - dt.timedelta(days=10), trial_ends_at=ended))
    dbsession.commit()

    rows = cli.json("jobs", "run")

    assert {"job": "modules.expire_trials", "kind": "periodic"} in rows
    assert {"job": "0 queued job(s)", "kind": "queued"} in rows
    dbsession.expire_all()
    assert dbsession.scalars(select(ModuleActivation.state)).one() == ModuleState.expired


def wait_for(condition, process, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the worker exited early: {process.communicate()}")
        if time.monotonic() > deadline:
            pytest.fail("the worker did not get to work in time")
        time.sleep(0.1)


@pytest.mark.only_database("sqlite", reason=PROCESS_ON_ONE_DATABASE)
def test_jobs_worker_stops_cleanly_on_sigterm(cli_process, dbsession):
    def expiry_job_ran():
        dbsession.expire_all()
        state = dbsession.get(PeriodicJobState, "modules.expire_trials")
        dbsession.rollback()  # end the read, so the next poll sees the worker's commits
        return state is not None and state.runs >= 1

    worker = subprocess.Popen(cli_process.command("jobs", "worker", "--poll", "0.2"),
                              cwd=cli_process.ini.parent, env=cli_process.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(expiry_job_ran, worker)
        worker.send_signal(signal.SIGTERM)
        _stdout, stderr = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()

    assert worker.returncode == 0, stderr
    assert "job worker" in stderr and "started" in stderr
    assert "Traceback" not in stderr
    dbsession.expire_all()
    assert dbsession.get(PeriodicJobState, "modules.expire_trials").lease_owner is None


def test_commands_call_the_domain_functions_without_making_a_request(app, factory, dbsession,
                                                                      monkeypatch):
    """The command line does what the pages do through the same functions, as the platform:
    no request is forged for them (none is even made), and the record says nobody did it
    from nowhere."""
    from click.testing import CliRunner
    from webob.request import BaseRequest

    from mypages import cli as cli_module

    def no_request(*args, **kw):
        raise AssertionError("a request was made")

    monkeypatch.setattr(BaseRequest, "__init__", no_request)
    env_class = cli_module.Env
    monkeypatch.setattr(cli_module, "Env", lambda config_uri: env_class(config_uri, app))
    company = factory.company()
    run = CliRunner().invoke

    for args, kw in ((["modules", "activate", str(company.id), "notes"], {}),
                     (["companies", "create", "Plattform AB"], {}),
                     (["users", "create", "ops@example.se", "--company", str(company.id)],
                      {"input": GOOD_PASSWORD + "\n"}),
                     (["keys", "rotate"], {})):
        result = run(cli_module.main, args, catch_exceptions=False, **kw)
        assert result.exit_code == 0, result.output

    dbsession.expire_all()
    events = dbsession.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["module.trial_started", "company.created",
                                          "user.created", "keys.rotated"]
    assert {(e.actor_id, e.ip) for e in events} == {(None, "")}
    assert events[0].company_id == company.id
