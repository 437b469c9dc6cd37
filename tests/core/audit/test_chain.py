"""The audit trail's hash chains: what each event records, that nothing forks or rewrites a
chain, and that ``mypages audit verify`` names an altered, removed or inserted event."""
import datetime as dt
import threading

import pytest
from sqlalchemy import delete, select, update

from mypages.accounts.models import User
from mypages.audit.chain import digest, verify
from mypages.audit.models import GENESIS, AuditChain, AuditEvent
from mypages.companies.models import Company, Membership
from mypages.testing.plugin import sign_in, work_as


def events(dbsession, chain_id):
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.chain_id == chain_id)
                             .order_by(AuditEvent.seq)).all()


def write(app, company=None, count=1, action="test.event", **details):
    for number in range(count):
        with work_as(app, company=company) as (work, info):
            work.audit(action, company=info, target=f"t{number}", **details)


def test_events_of_a_chain_link_to_each_other_from_the_genesis(app, factory, dbsession):
    company = factory.company()
    write(app, company, 3)
    write(app, None, 2)
    first, second, third = events(dbsession, company.id)
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash == GENESIS
    assert (second.prev_hash, third.prev_hash) == (first.hash, second.hash)
    assert all(digest(e) == e.hash for e in (first, second, third))
    assert [e.seq for e in events(dbsession, 0)] == [1, 2]
    head = dbsession.get(AuditChain, company.id)
    assert (head.last_seq, head.last_hash) == (3, third.hash)
    assert verify(dbsession) == (5, [])


def test_a_request_records_address_agent_request_id_and_the_stated_reason(
        testapp, factory, dbsession):
    company = factory.company("Reason AB")
    factory.user("admin@reason.se", company=company, role="admin", display_name="Ada Admin")
    sign_in(testapp, "admin@reason.se")
    page = testapp.get(f"/c/{company.id}/settings/security")
    form = page.forms["security-form"]
    form["password_min_length"] = "14"
    form["audit_reason"] = "  Auditor   asked for it "
    answer = form.submit(headers={"User-Agent": "Browser/1.0",
                                  "X-Request-Id": "ignored-not-trusted"}).follow()
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "policy.changed")).one()
    assert event.reason == "Auditor asked for it"
    assert (event.ip, event.user_agent) == ("127.0.0.1", "Browser/1.0")
    assert event.request_id and event.request_id != "ignored-not-trusted"
    assert (event.company_id, event.company_label) == (company.id, "Reason AB")
    assert event.actor_label == "Ada Admin <admin@reason.se>"
    assert answer.status_int == 200


def test_deleting_a_person_and_a_company_changes_no_event(app, factory, dbsession):
    company = factory.company("Gone AB")
    user = factory.user("gone@example.se", company=company)
    with work_as(app, user=user, company=company) as (work, info):
        work.audit("test.event", company=info, target="x")
    before = [(e.id, e.hash, e.actor_id, e.company_id) for e in events(dbsession, company.id)]
    dbsession.execute(delete(User).where(User.id == user.id))
    dbsession.execute(delete(Company).where(Company.id == company.id))
    dbsession.commit()
    [event] = events(dbsession, company.id)
    assert [(event.id, event.hash, event.actor_id, event.company_id)] == before
    assert (event.actor_label, event.company_label) == ("gone@example.se", "Gone AB")
    assert verify(dbsession, company.id) == (1, [])


def test_a_persons_sign_ins_and_second_factor_changes_are_in_their_companies_trails(
        testapp, factory, dbsession):
    first, second, third = factory.company(), factory.company(), factory.company()
    person = factory.user("both@example.se", company=first)
    dbsession.add(Membership(company_id=second.id, user_id=person.id))
    dbsession.commit()
    testapp.post("/login", {"email": "both@example.se", "password": "wrong one"}, status=400,
                 headers={"X-CSRF-Token": _csrf(testapp)})
    sign_in(testapp, "both@example.se")
    for company in (first, second):
        actions = [e.action for e in events(dbsession, company.id)]
        assert actions == ["account.sign_in_failed", "account.signed_in"], company
    assert events(dbsession, third.id) == []
    # the platform's trail has a person's own events only when they belong to no company
    assert events(dbsession, 0) == []
    factory.user("alone@example.se")
    sign_in(testapp.__class__(testapp.app, extra_environ=testapp.extra_environ),
            "alone@example.se")
    assert [e.action for e in events(dbsession, 0)] == ["account.signed_in"]


def _csrf(testapp):
    page = testapp.get("/login")
    return page.forms[0]["csrf_token"].value


@pytest.mark.only_database("postgresql", "the chain head's row lock serialises writers there; "
                                         "SQLite has a single writer anyway")
def test_concurrent_writers_never_fork_a_chain(app, factory, dbsession):
    """Eight threads write to one company's chain and the platform's at once on PostgreSQL:
    every event gets its own place, each linked to the one before."""
    company = factory.company()
    start = threading.Barrier(8)
    failures = []

    def writer(number):
        try:
            start.wait()
            for _ in range(5):
                with work_as(app, company=company) as (work, info):
                    work.audit("test.event", company=info, target=str(number))
                    work.audit("test.platform", target=str(number))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    for chain_id in (company.id, 0):
        chain = events(dbsession, chain_id)
        assert [e.seq for e in chain] == list(range(1, 41))
        assert all(e.prev_hash == p.hash for p, e in zip(chain, chain[1:]))
    assert verify(dbsession) == (80, [])


# -- verify names what was done to a chain ------------------------------------------------

@pytest.fixture
def chain(app, factory, dbsession):
    company = factory.company()
    write(app, company, 5)
    return company, events(dbsession, company.id)


def test_verify_passes_an_untouched_chain(mypages_cli, chain):
    company, _events = chain
    result = mypages_cli("audit", "verify", "--company", str(company.id))
    assert "5 events in 1 chains checked, 0 problems found." in result.output


def test_verify_names_an_altered_event(mypages_cli, chain, dbsession):
    company, rows = chain
    dbsession.execute(update(AuditEvent).where(AuditEvent.id == rows[2].id)
                      .values(target="something else"))
    dbsession.commit()
    result = mypages_cli("audit", "verify", status=1)
    assert f"ALTERED: company {company.id}: event {rows[2].id} (#3 of the chain" \
        in result.output
    assert "1 problems found" in result.output


def test_verify_names_an_altered_event_whose_hash_was_made_again(mypages_cli, chain,
                                                                dbsession):
    company, rows = chain
    event = rows[1]
    event.details = {"forged": True}
    event.hash = digest(event)
    dbsession.commit()
    result = mypages_cli("audit", "verify", status=1)
    assert f"event {event.id} (#2 of the chain" in result.output
    assert "was altered and its hash made again" in result.output


def test_verify_names_removed_events(mypages_cli, chain, dbsession):
    company, rows = chain
    dbsession.execute(delete(AuditEvent).where(AuditEvent.id.in_([rows[1].id, rows[2].id])))
    dbsession.execute(delete(AuditEvent).where(AuditEvent.id == rows[4].id))
    dbsession.commit()
    result = mypages_cli("audit", "verify", "--company", str(company.id), status=1)
    assert f"REMOVED: company {company.id}: 2 events (#2 to #3) removed before event " \
           f"{rows[3].id}" in result.output
    assert "1 event (#5) removed at the end of the chain" in result.output


def test_verify_names_an_inserted_event(mypages_cli, chain, dbsession):
    company, rows = chain
    last = rows[-1]
    forged = AuditEvent(chain_id=company.id, seq=6, created_at=last.created_at,
                        company_id=company.id, company_label="", actor_id=None,
                        actor_label="", action="people.role_changed", target="1", ip="",
                        user_agent="", request_id="", api_token_id=None, reason="",
                        details={}, prev_hash=last.hash)
    forged.hash = digest(forged)
    dbsession.add(forged)
    dbsession.commit()
    result = mypages_cli("audit", "verify", status=1)
    assert f"INSERTED: company {company.id}: event {forged.id} (#6 of the chain, " \
           "people.role_changed" in result.output
    assert "after the chain's head (#5)" in result.output


def test_verify_names_an_event_of_a_chain_that_has_no_head(mypages_cli, chain, dbsession):
    company, rows = chain
    forged = AuditEvent(chain_id=999, seq=1, created_at=rows[0].created_at, company_id=999,
                        action="x", details={}, prev_hash=GENESIS, hash="f" * 64)
    dbsession.add(forged)
    dbsession.commit()
    result = mypages_cli("audit", "verify", status=1)
    assert f"event {forged.id} (#1 of the chain, x" in result.output
    assert "its chain has no head" in result.output
