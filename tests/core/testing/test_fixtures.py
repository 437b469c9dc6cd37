"""The fixtures a plugin's tests lean on: a module's lifecycle without HTTP (``modules``),
due jobs run in the test (``run_jobs``), and one clock for the test, the core and the
portal's today (``clock``)."""
from __future__ import annotations

import datetime as dt
import sys

import pytest
from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.jobs.purge import PURGE_AT
from mypages.modules.lifecycle import ModuleError
from mypages.services import Mailer, clock as clock_of, job_queue
from mypages.testing.jobs import JobsFailed
from mypages.testing.plugin import build_app
from mypages.testing.services import RecordingMailer
from mypages.toolkit import ModuleState

STOCKHOLM = dt.timezone(dt.timedelta(hours=1))  # winter time, for readable test times


def test_the_module_goes_through_its_lifecycle_without_http(app, factory, modules, dbsession,
                                                             signed_in):
    company = factory.company()
    browser = signed_in(factory.user(company=company))
    notes = f"/c/{company.id}/notes"
    browser.get(notes, status=404)

    modules.activate(company, "notes")
    assert modules.state(company, "notes") == ModuleState.trial
    browser.get(notes, status=200)

    modules.expire(company, "notes")
    assert modules.state(company, "notes") == ModuleState.expired
    browser.get(notes, status=404)

    modules.buy(company, "notes")
    browser.get(notes, status=200)

    modules.deactivate(company, "notes")
    assert modules.state(company, "notes") == ModuleState.inactive
    browser.get(notes, status=404)
    with pytest.raises(ModuleError):
        modules.activate(company, "notes")  # one trial per company and module
    actions = dbsession.scalars(select(AuditEvent.action).where(AuditEvent.company_id == company.id)
                                .order_by(AuditEvent.id))
    assert [a for a in actions if a.startswith("module.")] == [
        "module.trial_started", "module.expired", "module.purchased", "module.deactivated"]


def test_expire_needs_a_running_trial(factory, modules):
    company = factory.company()
    with pytest.raises(ValueError, match="has no running trial of 'notes'"):
        modules.expire(company, "notes")


def test_run_jobs_runs_the_periodic_jobs_that_are_due_by_the_moved_clock(
        app, factory, modules, clock, run_jobs):
    clock.freeze(dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.timezone.utc))
    company = factory.company()
    modules.activate(company, "notes")
    run_jobs()  # the first round schedules the daily jobs

    clock.shift(days=10, minutes=1)
    ran = run_jobs()

    assert "modules.expire_trials" in ran.periodic and ran.queued == []
    assert modules.state(company, "notes") == ModuleState.expired
    assert "modules.expire_trials" not in run_jobs().periodic  # not due again yet


def test_run_jobs_runs_a_daily_job_at_its_time_in_the_portals_time_zone(app, clock, run_jobs):
    # a minute before the purge's time in Stockholm (UTC+1 in January)
    before = dt.datetime.combine(dt.date(2030, 1, 15), PURGE_AT, tzinfo=STOCKHOLM)
    clock.freeze(before - dt.timedelta(minutes=1))
    run_jobs()

    assert "jobs.purge" not in run_jobs().periodic
    clock.shift(minutes=2)
    assert "jobs.purge" in run_jobs().periodic


def test_run_jobs_runs_queued_jobs_and_raises_when_one_fails(app, factory, dbsession, run_jobs,
                                                             replace_service):
    user = factory.user()
    mailer = replace_service(Mailer, RecordingMailer())
    job_queue(app).enqueue(dbsession, "accounts.password_reset_mail", {"email": user.email})
    dbsession.commit()

    assert run_jobs(queues="elsewhere").queued == []
    assert run_jobs().queued == ["accounts.password_reset_mail"]
    assert [mail.to for mail in mailer.sent] == [user.email]

    class Down(Mailer):
        def send(self, to, subject, body):
            raise ConnectionRefusedError("the SMTP server is down")

    replace_service(Mailer, Down())
    job_queue(app).enqueue(dbsession, "accounts.password_reset_mail", {"email": user.email})
    dbsession.commit()
    with pytest.raises(JobsFailed, match="accounts.password_reset_mail: ConnectionRefusedError"):
        run_jobs()


def test_the_clock_moves_utcnow_the_clock_service_and_the_portals_today_together(
        app, factory, modules, clock, signed_in):
    late = dt.datetime(2030, 1, 1, 23, 30, tzinfo=dt.timezone.utc)  # in Stockholm: 2 January
    clock.freeze(late)

    assert utcnow() == clock_of(app).now() == clock.now() == late
    assert clock.today() == dt.date(2030, 1, 2) and clock.today(app) == dt.date(2030, 1, 2)

    company = factory.company()
    modules.activate(company, "notes")  # a trial of ten days from the moved now
    admin = factory.user(company=company, role="admin", locale="en")
    page = signed_in(admin).get(f"/c/{company.id}/settings/modules")
    assert "10 days left (until 12 January 2030)" in page.text

    clock.shift(days=3)
    assert clock.today() == dt.date(2030, 1, 5)
    page = signed_in(admin).get(f"/c/{company.id}/settings/modules")
    assert "7 days left (until 12 January 2030)" in page.text


# -- on an application of other settings (a plugin's own) -------------------------------------

#: a plugin that only the application a test builds has: a module, and a job that fails
#: until told otherwise
ELSEWHERE = '''
import datetime as dt
from mypages.toolkit import Module, PeriodicJob, TranslationString, hookimpl

mypages_hookspec = "2.3"
CHANGES, RUNS = [], []


def tick(context):
    RUNS.append(context.now)
    if len(RUNS) == 1:
        raise RuntimeError("the first run fails")


@hookimpl
def mypages_modules():
    return [Module("elsewhere", TranslationString("Elsewhere"), TranslationString("Not in app."))]


@hookimpl
def mypages_jobs():
    return [PeriodicJob("elsewhere.tick", tick, every=dt.timedelta(hours=1))]


@hookimpl
def mypages_module_state_changed(company, module_key, new_state):
    CHANGES.append((company.id, module_key, new_state.value))
'''


@pytest.fixture
def elsewhere_app(app, mypages_settings, tmp_path):
    """The app with the plugin ``elsewhere`` installed, on the test's database."""
    from tests.core.plugins.conftest import SitePackages

    site = SitePackages(tmp_path)
    package = site.add_plugin("elsewhere", ELSEWHERE)
    built = build_app(dict(mypages_settings), migrate=False)
    yield built, sys.modules[package]
    built.registry["db.engine"].dispose()
    site.close()


def test_modules_run_jobs_and_the_cli_serve_an_application_of_other_settings(
        app, elsewhere_app, factory, modules, run_jobs, clock, mypages_cli):
    other, plugin = elsewhere_app
    company = factory.company()
    with pytest.raises(ModuleError):
        modules.activate(company, "elsewhere")  # the default app has no such module

    modules.on(other).activate(company, "elsewhere")
    assert modules.on(other).state(company, "elsewhere") == ModuleState.trial
    assert plugin.CHANGES == [(company.id, "elsewhere", "trial")]

    ran = run_jobs.on(other)(raise_on_failure=False)
    assert ran.failed == ["elsewhere.tick"] and "elsewhere.tick" in ran.periodic
    clock.shift(hours=1, minutes=1)
    assert "elsewhere.tick" in run_jobs.on(other)().periodic
    assert len(plugin.RUNS) == 2
    assert "elsewhere.tick" not in run_jobs().periodic  # the default app has no such job

    listed = [module["key"] for module in mypages_cli.on(other).json("modules", "list")]
    assert "elsewhere" in listed
    assert "elsewhere" not in [module["key"] for module in mypages_cli.json("modules", "list")]
