"""Dormant access: memberships unused longer than the company allows are disabled, after
one warning a week before; admins see and restore them; a disabled member cannot enter."""
import datetime as dt

import pytest
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.companies.models import Membership
from mypages.policy.models import CompanyPolicy
from mypages.testing.jobs import JobRunner
from mypages.testing.plugin import sign_in

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture
def company(mail_app, factory, dbsession, clock):
    clock.move_to(START)
    company = factory.company("Dormant AB")
    factory.user("admin@dormant.se", company=company, role="admin",
                 last_sign_in_at=START + dt.timedelta(days=60))
    factory.user("member@dormant.se", company=company, last_sign_in_at=START)
    dbsession.add(CompanyPolicy(company_id=company.id, dormant_days=30))
    dbsession.commit()
    JobRunner(mail_app)()  # the morning job's schedule starts
    return company


def day(clock, number):
    return clock.move_to(START + dt.timedelta(days=number, hours=-4))  # 08:00 UTC


def member_row(dbsession, company):
    dbsession.expire_all()
    rows = dbsession.scalars(select(Membership).where(Membership.company_id == company.id,
                                                      Membership.role == "member")).all()
    return rows[0]


def actions(dbsession, company):
    dbsession.expire_all()
    return [e.action for e in dbsession.scalars(select(AuditEvent).where(
        AuditEvent.chain_id == company.id).order_by(AuditEvent.seq))]


def test_a_member_is_warned_once_a_week_before_then_disabled(mail_app, company, clock,
                                                             dbsession, smtp_server, testapp):
    run = JobRunner(mail_app)
    sign_in(testapp, "member@dormant.se")  # a session the disabling ends
    with_session_user = member_row(dbsession, company).user_id
    day(clock, 22)
    run()
    assert smtp_server.messages == []
    day(clock, 24)
    run()
    [warning] = smtp_server.messages
    assert warning["To"] == "member@dormant.se"
    assert "Dormant AB" in warning["Subject"]
    day(clock, 25)
    run()
    assert len(smtp_server.messages) == 1  # once
    assert member_row(dbsession, company).disabled_at is None
    day(clock, 31)
    run()
    row = member_row(dbsession, company)
    assert row.disabled_at is not None
    assert "people.membership_disabled" in actions(dbsession, company)
    assert "people.dormancy_warned" in actions(dbsession, company)
    open_sessions = dbsession.scalars(select(UserSession).where(
        UserSession.user_id == with_session_user, UserSession.ended_at.is_(None))).all()
    assert open_sessions == []


def test_a_disabled_membership_cannot_enter_until_an_admin_restores_it(
        mail_app, company, clock, dbsession, testapp):
    day(clock, 31)
    JobRunner(mail_app)()
    sign_in(testapp, "member@dormant.se")
    testapp.get(f"/c/{company.id}/", status=404)
    admin = testapp.__class__(testapp.app, extra_environ=testapp.extra_environ)
    sign_in(admin, "admin@dormant.se")
    people = admin.get(f"/c/{company.id}/settings/people")
    assert people.html.select_one('[data-disabled="yes"]') is not None
    people.forms[f"restore-{member_row(dbsession, company).user_id}"].submit().follow()
    assert member_row(dbsession, company).disabled_at is None
    assert actions(dbsession, company)[-1] == "people.membership_restored"
    testapp.get(f"/c/{company.id}/", status=200)
    # dormancy counts from the restoring, not from the old sign-in
    day(clock, 32)
    JobRunner(mail_app)()
    assert member_row(dbsession, company).disabled_at is None


def test_off_by_default_and_never_the_last_admin(mail_app, factory, dbsession, clock,
                                                 smtp_server):
    clock.move_to(START)
    quiet = factory.company("Quiet AB")
    factory.user("alone@quiet.se", company=quiet, role="admin", last_sign_in_at=START)
    guarded = factory.company("Guarded AB")
    factory.user("admin@guarded.se", company=guarded, role="admin", last_sign_in_at=START)
    dbsession.add(CompanyPolicy(company_id=guarded.id, dormant_days=30))
    dbsession.commit()
    JobRunner(mail_app)()
    day(clock, 400)
    JobRunner(mail_app)()
    dbsession.expire_all()
    assert all(m.disabled_at is None for m in dbsession.scalars(select(Membership)))


def test_the_security_tab_sets_the_days(testapp, factory, dbsession):
    company = factory.company()
    factory.user("admin@days.se", company=company, role="admin")
    sign_in(testapp, "admin@days.se")
    form = testapp.get(f"/c/{company.id}/settings/security").forms["security-form"]
    form["dormant_days"] = "3"
    assert "mellan 14 och 3650" in form.submit(status=400).text
    form["dormant_days"] = "90"
    form.submit().follow()
    dbsession.expire_all()
    assert dbsession.get(CompanyPolicy, company.id).dormant_days == 90
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "policy.changed")
                              ).one()
    assert event.details["changes"]["dormant_days"] == [None, 90]
