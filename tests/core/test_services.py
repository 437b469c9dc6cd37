"""The services behind seams: found without a request, replaced by a test, and what the domain
functions use, so moving a clock or keeping the mail needs no sleeping and no patching."""
import datetime as dt

import pytest
from pyramid.scripting import prepare
from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.companies.models import Invitation, Role
from mypages.jobs import Worker
from mypages.modules import lifecycle
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.outbound import Outbound, outbound_client
from mypages.services import (AuditWriter, Clock, DnsLookupFailed, DnsResolver, JobQueue, Mailer,
                              audit_writer, clock, dns_resolver, job_queue, mailer, settings_of)
from mypages.sso import domains
from mypages.sso.models import VerifiedDomain
from mypages.testing.plugin import work_as
from mypages.testing.services import RecordingMailer, SettableClock, replaced_service

UTC = dt.timezone.utc
ACCESSORS = [(clock, Clock), (audit_writer, AuditWriter), (job_queue, JobQueue),
             (mailer, Mailer), (dns_resolver, DnsResolver), (outbound_client, Outbound)]


@pytest.mark.parametrize("accessor, key", ACCESSORS, ids=[key.__name__ for _, key in ACCESSORS])
def test_each_service_is_found_without_a_request_and_is_the_requests_own(app, accessor, key):
    service = accessor(app.registry)

    assert isinstance(service, key)
    env = prepare(registry=app.registry)
    try:
        assert env["request"].find_service(key) is service  # pyramid_services finds the same
    finally:
        env["closer"]()


def test_a_clock_of_the_tests_own_starts_and_ends_trials(app, factory, dbsession,
                                                         replace_service):
    start = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    moved = replace_service(Clock, SettableClock(start))
    company = factory.company()
    admin = factory.user(company=company, role="admin")

    with work_as(app, admin, company) as (work, info):
        lifecycle.activate(work, info, "notes")
    row = dbsession.scalars(select(ModuleActivation)).one()
    assert (row.trial_started_at, row.trial_ends_at) == (start, start + dt.timedelta(days=10))

    moved.advance(days=9, hours=23)
    Worker(app.registry).run_periodic(due_only=False)
    dbsession.expire_all()
    assert row.state == ModuleState.trial
    assert lifecycle.entitled_keys(dbsession, company.id, moved.now()) == {"notes"}

    moved.advance(hours=1)  # ten days on: the trial is over, and nobody slept
    Worker(app.registry).run_periodic(due_only=False)
    dbsession.expire_all()
    assert row.state == ModuleState.expired
    assert row.updated_at == start + dt.timedelta(days=10)
    assert lifecycle.entitled_keys(dbsession, company.id, moved.now()) == frozenset()


def test_the_mail_of_a_job_goes_to_the_registered_mailer(app, factory, dbsession,
                                                         replace_service):
    kept = replace_service(Mailer, RecordingMailer())
    company = factory.company("Mailers AB", default_locale="en")
    admin = factory.user(company=company, role="admin")

    with work_as(app, admin, company) as (work, info):
        invitation = Invitation(company_id=info.id, email="new@example.se", role=Role.member,
                                invited_by_id=admin.id)
        work.dbsession.add(invitation)
        work.dbsession.flush()
        work.enqueue("companies.invitation_mail", {"invitation_id": invitation.id})
    assert Worker(app.registry).run_queued() == 1

    [sent] = kept.to("new@example.se")
    assert sent.subject.endswith(" has invited you to Mailers AB on My Pages")
    assert settings_of(app).base_url + "/invitation/" in sent.body
    assert dbsession.scalars(select(AuditEvent.action)).all() == ["people.invitation_sent"]


class Answers(DnsResolver):
    """The test's own name servers: TXT records from a dictionary, or a failing look-up."""

    def __init__(self, records: dict[str, list[str]] | None = None):
        self.records = records
        self.asked = []

    def txt(self, name: str) -> list[str]:
        self.asked.append(name)
        if self.records is None:
            raise DnsLookupFailed("no name server answers")
        return self.records.get(name, [])


def test_domains_are_verified_through_the_registered_resolver(app, factory, dbsession,
                                                              replace_service):
    answers = replace_service(DnsResolver, Answers({}))
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    with work_as(app, admin, company) as (work, info):
        claimed = domains.claim(work, info, "Example.SE")
        name, value = domains.expected_record(claimed)

    answers.records[name] = ["v=spf1 -all", value]
    with work_as(app, admin, company) as (work, info):
        claimed = work.dbsession.get(VerifiedDomain, claimed.id)
        assert domains.verify(work, info, claimed) is True
    assert answers.asked == ["_mypages-verification.example.se"]
    dbsession.expire_all()
    assert dbsession.get(VerifiedDomain, claimed.id).verified_at is not None

    replace_service(DnsResolver, Answers(None))
    with work_as(app, admin, company) as (work, info):
        with pytest.raises(domains.DomainError) as refused:
            domains.verify(work, info, work.dbsession.get(VerifiedDomain, claimed.id))
    assert refused.value.message == "The DNS lookup failed. Try again in a while."


def test_a_replaced_service_is_given_back_after_the_block(app):
    own = clock(app)

    with replaced_service(app, Clock, SettableClock()) as moved:
        assert clock(app) is moved and clock(app.registry) is moved

    assert clock(app) is own


def test_the_clock_decides_which_second_factor_codes_are_good(app, factory, replace_service):
    """A code is good for its 30-second step and one either side, by the application's time:
    a test moves the clock across steps instead of waiting for them."""
    import pyotp

    from mypages.accounts import totp

    moved = replace_service(Clock, SettableClock(dt.datetime(2031, 3, 1, 9, 0, 10, tzinfo=UTC)))
    user = factory.user()
    with work_as(app, user) as (work, _):
        secret = totp.begin_enrolment(work, user)
    codes = pyotp.TOTP(secret)
    at = moved.now().timestamp()

    with work_as(app, user) as (work, _):
        credential = totp.credential_of(work.dbsession, user.id)
        assert totp.confirm(work, credential, codes.at(at - 30))  # the step before: drift
        assert credential.confirmed_at == moved.now()
    moved.advance(seconds=90)
    with work_as(app, user) as (work, _):
        credential = totp.credential_of(work.dbsession, user.id)
        assert not totp.use_code(work, credential, codes.at(at + 30))  # two steps behind now
        assert totp.use_code(work, credential, codes.at(at + 60))  # one behind: still good
        assert not totp.use_code(work, credential, codes.at(at + 60))  # and only once


def test_sessions_are_opened_and_timed_out_by_the_clock(app, testapp, factory, dbsession,
                                                        replace_service):
    from mypages.accounts.models import UserSession
    from mypages.testing.plugin import sign_in

    start = dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    moved = replace_service(Clock, SettableClock(start))
    user = factory.user()
    sign_in(testapp, user.email)
    row = dbsession.scalars(select(UserSession)).one()
    assert (row.created_at, row.last_seen_at) == (start, start)

    moved.advance(settings_of(app).session_idle - dt.timedelta(minutes=1))
    testapp.get("/account", status=200)  # seen again in time: noted at the clock's time
    dbsession.expire_all()
    assert row.last_seen_at == moved.now() and row.ended_at is None

    moved.advance(settings_of(app).session_idle + dt.timedelta(minutes=1))
    assert "/login" in testapp.get("/account", status=303).location
    dbsession.expire_all()
    assert row.ended_at == moved.now()


def test_throttling_counts_and_waits_by_the_clock(app, testapp, factory, replace_service):
    """Five reset requests for one address an hour; the sixth waits until the clock says the
    hour is over, with no sleeping."""
    moved = replace_service(Clock, SettableClock(dt.datetime(2031, 3, 1, 9, 0, tzinfo=UTC)))
    user = factory.user()

    def ask(status):
        form = testapp.get("/password/forgot").forms["forgot-form"]
        form["email"] = user.email
        return form.submit(status=status)

    for _ in range(5):
        ask(200)
    moved.advance(minutes=59)
    refused = ask(429)
    assert " 60 " in refused.html.find(class_="error").text  # seconds to wait, in Swedish
    moved.advance(minutes=1)
    ask(200)
