"""A trial ends when the job says so, not when somebody happens to open a page."""
import datetime as dt

import pytest
from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.companies import CompanyInfo
from mypages.companies.models import Company
from mypages.db import utcnow
from mypages.hookspecs import hookimpl
from mypages.jobs import Worker
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.events import EventContext


class StateChangeRecorder:
    """A plugin of the test's own that listens to module transitions."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def mypages_module_state_changed(self, context, company, module_key, old_state, new_state,
                                     user):
        self.calls.append({"context": type(context), "company": company, "module_key": module_key,
                           "old_state": old_state, "new_state": new_state, "user": user})


@pytest.fixture
def state_changes(app):
    pm = app.registry["plugins.manager"]
    recorder = StateChangeRecorder()
    pm.register(recorder, name="test-state-change-recorder")
    yield recorder.calls
    pm.unregister(name="test-state-change-recorder")


def start_trial(dbsession, company, ends_at):
    row = ModuleActivation(company_id=company.id, module_key="notes", state=ModuleState.trial,
                           trial_started_at=ends_at - dt.timedelta(days=10), trial_ends_at=ends_at,
                           updated_at=ends_at - dt.timedelta(days=10))
    dbsession.add(row)
    dbsession.commit()
    return row


def company_info(dbsession, company) -> CompanyInfo:
    dbsession.expire_all()
    return CompanyInfo.of(dbsession.get(Company, company.id))


def state_of(dbsession, company):
    dbsession.expire_all()
    return dbsession.scalars(select(ModuleActivation.state)
                             .where(ModuleActivation.company_id == company.id)).one()


def expiry_events(dbsession):
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "module.expired")).all()


def test_trial_ends_by_the_job_not_by_a_page_view(app, factory, dbsession, signed_in, state_changes):
    lapsed = factory.company()
    admin = factory.user(company=lapsed, role="admin")
    running = factory.company()
    start_trial(dbsession, lapsed, ends_at=utcnow() - dt.timedelta(hours=1))
    start_trial(dbsession, running, ends_at=utcnow() + dt.timedelta(days=3))

    browser = signed_in(admin)
    browser.get(f"/c/{lapsed.id}/")
    browser.get(f"/c/{lapsed.id}/settings/modules")
    browser.get(f"/c/{lapsed.id}/notes", status=404)  # no longer entitled...
    assert state_of(dbsession, lapsed) == ModuleState.trial  # ...but nothing was written
    assert expiry_events(dbsession) == []
    assert state_changes == []

    result = Worker(app.registry).run_once()

    assert "modules.expire_trials" in result["periodic"]
    assert state_of(dbsession, lapsed) == ModuleState.expired
    assert state_of(dbsession, running) == ModuleState.trial
    [event] = expiry_events(dbsession)
    assert (event.company_id, event.target, event.actor_id) == (lapsed.id, "notes", None)
    assert event.details == {"module": "notes", "old_state": "trial", "new_state": "expired"}
    # the same record a request gives hooks, not the job's database row
    assert state_changes == [{"context": EventContext, "company": company_info(dbsession, lapsed),
                              "module_key": "notes", "old_state": ModuleState.trial,
                              "new_state": ModuleState.expired, "user": None}]


def test_expired_trial_is_announced_once(app, factory, dbsession, state_changes):
    company = factory.company()
    start_trial(dbsession, company, ends_at=utcnow() - dt.timedelta(minutes=1))
    worker = Worker(app.registry)

    worker.run_once()
    worker.run_once()  # runs every periodic job again, due or not

    assert state_of(dbsession, company) == ModuleState.expired
    assert len(expiry_events(dbsession)) == 1
    assert len(state_changes) == 1
