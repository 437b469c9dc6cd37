"""The trail's retention: the purge deletes events older than the retention time in
batches, moves each chain's anchor, and the chains still verify."""
import dataclasses
import datetime as dt

from sqlalchemy import select

from mypages.audit.chain import verify
from mypages.audit.models import AuditChain, AuditEvent
from mypages.settings import parse
from mypages.testing.plugin import work_as


def write(app, company, count):
    for number in range(count):
        with work_as(app, company=company) as (work, info):
            work.audit("test.event", company=info, target=str(number))


def test_the_purge_deletes_old_events_in_batches_and_the_chain_still_verifies(
        app, factory, dbsession, clock, change_settings, run_jobs):
    settings = change_settings()
    change_settings(purge=dataclasses.replace(settings.purge, batch_size=2))
    company = factory.company()
    clock.move_to(dt.datetime(2025, 1, 10, 12, tzinfo=dt.timezone.utc))
    run_jobs()  # the nightly jobs' schedule starts
    write(app, company, 5)
    write(app, None, 1)
    clock.move_to(dt.datetime(2025, 12, 1, 12, tzinfo=dt.timezone.utc))
    write(app, company, 2)
    clock.move_to(dt.datetime(2026, 1, 20, 12, tzinfo=dt.timezone.utc))
    ran = run_jobs()
    assert "audit.purge" in ran.periodic
    dbsession.expire_all()
    kept = dbsession.scalars(select(AuditEvent).where(AuditEvent.chain_id == company.id)
                             .order_by(AuditEvent.seq)).all()
    assert [(e.seq, e.action) for e in kept] == [(6, "test.event"), (7, "test.event"),
                                                 (8, "audit.purged")]
    assert kept[-1].details["events"] == 5
    head = dbsession.get(AuditChain, company.id)
    assert head.start_seq == 6 and head.start_prev_hash == kept[0].prev_hash
    platform = dbsession.scalars(select(AuditEvent).where(AuditEvent.chain_id == 0)).all()
    assert [e.action for e in platform] == ["audit.purged"]
    assert verify(dbsession)[1] == []


def test_removing_the_oldest_kept_event_after_a_purge_is_still_found(
        app, factory, dbsession, clock, run_jobs):
    company = factory.company()
    clock.move_to(dt.datetime(2025, 1, 10, 12, tzinfo=dt.timezone.utc))
    run_jobs()
    write(app, company, 2)
    clock.move_to(dt.datetime(2025, 12, 1, 12, tzinfo=dt.timezone.utc))
    write(app, company, 2)
    clock.move_to(dt.datetime(2026, 1, 20, 12, tzinfo=dt.timezone.utc))
    run_jobs()
    dbsession.expire_all()
    first_kept = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.chain_id == company.id).order_by(AuditEvent.seq)).first()
    dbsession.delete(first_kept)
    dbsession.commit()
    problems = verify(dbsession, company.id)[1]
    assert [p.kind for p in problems] == ["removed"]
    assert "1 event (#3) removed" in problems[0].text


def test_retention_is_a_setting():
    url = {"sqlalchemy.url": "sqlite://"}
    assert parse({**url, "mypages.purge.audit_events_days": "90"}).purge.audit_events.days == 90
    assert parse(url).purge.audit_events.days == 365
