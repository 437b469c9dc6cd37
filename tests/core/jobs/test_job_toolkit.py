"""What a plugin's job does with the toolkit alone: find the companies entitled to its module,
read their settings, link to a page, and audit what it did."""
import datetime as dt

from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.contract import QueuedJobType
from mypages.jobs import Worker
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.services import job_queue
from mypages.toolkit import (absolute_url, company_admins, company_members, entitled_companies,
                             get_module_settings, is_entitled, save_module_settings)

NOW = dt.datetime.now(dt.timezone.utc)


def activation(company, key, state, trial_ends_at=None):
    return ModuleActivation(company_id=company.id, module_key=key, state=state,
                            trial_started_at=NOW - dt.timedelta(days=1), trial_ends_at=trial_ends_at,
                            updated_at=NOW)


def test_entitlement_of_companies_to_a_module(factory, dbsession):
    trial, bought, ended, deactivated, other = (factory.company() for _ in range(5))
    dbsession.add_all([
        activation(trial, "notes", ModuleState.trial, NOW + dt.timedelta(days=3)),
        activation(bought, "notes", ModuleState.active),
        # a trial whose end the job has not yet written down is over all the same
        activation(ended, "notes", ModuleState.trial, NOW - dt.timedelta(minutes=1)),
        activation(deactivated, "notes", ModuleState.inactive),
        activation(other, "sso", ModuleState.active),
    ])
    dbsession.commit()

    assert [is_entitled(dbsession, company.id, "notes")
            for company in (trial, bought, ended, deactivated, other)] == [
        True, True, False, False, False]
    assert entitled_companies(dbsession, "notes") == sorted([trial.id, bought.id])
    # judged at another time: four days on, the trial has ended too
    later = NOW + dt.timedelta(days=4)
    assert not is_entitled(dbsession, trial.id, "notes", now=later)
    assert entitled_companies(dbsession, "notes", now=later) == [bought.id]


def test_company_admins_are_its_active_admins(factory, dbsession):
    company, elsewhere = factory.company(), factory.company()
    first = factory.user(company=company, role="admin", locale="en")
    factory.user(company=company, role="member")
    second = factory.user(company=company, role="admin")
    factory.user(company=company, role="admin", is_active=False)
    factory.user(company=elsewhere, role="admin")

    admins = company_admins(dbsession, company.id)

    assert [(admin.id, admin.email, admin.locale) for admin in admins] == [
        (first.id, first.email, "en"), (second.id, second.email, None)]
    assert len(company_admins(dbsession, company.id, active_only=False)) == 3


def test_company_members_are_its_active_people_admins_too(factory, dbsession):
    company, elsewhere = factory.company(), factory.company()
    admin = factory.user("b@example.se", company=company, role="admin")
    member = factory.user("a@example.se", company=company, role="member")
    factory.user("c@example.se", company=company, is_active=False)
    factory.user(company=elsewhere)

    assert [person.id for person in company_members(dbsession, company.id)] == [member.id,
                                                                                 admin.id]
    assert len(company_members(dbsession, company.id, active_only=False)) == 3


def test_a_job_reads_settings_links_and_audits(app, factory, dbsession, register_job,
                                               change_settings):
    change_settings(base_url="https://mypages.example.se")
    company, other = factory.company(), factory.company()
    dbsession.add_all([activation(company, "notes", ModuleState.active),
                       activation(other, "notes", ModuleState.active)])
    dbsession.commit()
    seen = {}

    def remind(job):
        for company_id in entitled_companies(job.dbsession, "notes", job.now):
            settings = get_module_settings(job, "notes", company_id=company_id)
            link = absolute_url(job, "notes", company_id=company_id, _query={"due": "today"})
            seen[company_id] = (settings, link)
            save_module_settings(job, "notes", {**settings, "reminded": True},
                                 company_id=company_id)
            job.audit("notes.reminders_sent", company_id=company_id, target="notes", count=1)

    register_job(QueuedJobType("test.remind", remind))
    with app.registry["db.session_factory"].begin() as setup:
        save_module_settings(setup, "notes", {"hour": 9}, company_id=company.id)
    with app.registry["db.session_factory"].begin() as queue:
        job_queue(app).enqueue(queue, "test.remind")

    assert Worker(app.registry).run_queued() == 1

    assert seen == {
        company.id: ({"hour": 9}, f"https://mypages.example.se/c/{company.id}/notes?due=today"),
        other.id: ({}, f"https://mypages.example.se/c/{other.id}/notes?due=today")}
    dbsession.expire_all()
    assert get_module_settings(dbsession, "notes", company_id=company.id) == {
        "hour": 9, "reminded": True}
    events = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "notes.reminders_sent").order_by(AuditEvent.company_id)).all()
    assert [(e.company_id, e.actor_id, e.target, e.details) for e in events] == [
        (company.id, None, "notes", {"count": 1, "job": "test.remind"}),
        (other.id, None, "notes", {"count": 1, "job": "test.remind"})]
