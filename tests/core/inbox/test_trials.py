"""Trial reminders: to a company's admins, three days before a trial ends and when it has
ended, each once, in the bell and by e-mail, from a job at 08:00 in the portal's time zone."""
import datetime as dt

import pytest
from sqlalchemy import select

from mypages.inbox.models import Notification
from mypages.testing.jobs import JobRunner
from mypages.testing.lifecycle import ModuleSwitch

UTC = dt.timezone.utc


def at(day, hour, minute=0):
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def jobs(mail_app):
    return JobRunner(mail_app)


def titles(dbsession, user):
    dbsession.expire_all()
    return [n.title["msgid"] for n in dbsession.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.kind == "trial")
        .order_by(Notification.id))]


def test_the_job_runs_daily_at_eight_in_the_portals_time_zone(mail_app):
    job = mail_app.registry["jobs"].periodic["inbox.trial_reminders"]
    assert job.at == dt.time(8, 0) and job.every is None


def test_admins_are_reminded_three_days_ahead_and_when_it_ended_once_each(
        mail_app, factory, dbsession, clock, jobs, smtp_server):
    clock.move_to(at(10, 6))  # 07:00 in Stockholm
    company = factory.company("Example AB")
    admin = factory.user("admin@example.se", company=company, role="admin", locale="en")
    member = factory.user("member@example.se", company=company)
    ModuleSwitch(mail_app).activate(company, "notes")  # ten days: ends on the 20th at 06:00 UTC
    jobs()  # the reminders' first run is tomorrow at 08:00
    clock.move_to(at(16, 7, 30))  # four days before the end
    assert "inbox.trial_reminders" in jobs().periodic
    assert titles(dbsession, admin) == []

    clock.move_to(at(17, 7, 30))  # 08:30 in Stockholm, less than three days to go
    jobs()
    assert titles(dbsession, admin) == ["The trial of ${module} ends on ${ends}"]
    [mail] = smtp_server.to(admin.email)
    assert mail["Subject"] == "The trial of Notes ends on 20 Dec 2026 07:00"  # Stockholm
    clock.move_to(at(18, 7, 30))
    jobs()
    assert len(titles(dbsession, admin)) == 1  # once

    clock.move_to(at(20, 6, 30))  # ended; the expiry job moves it, the reminder waits for 08:00
    jobs()
    clock.move_to(at(20, 7, 30))
    jobs()
    clock.move_to(at(21, 7, 30))
    jobs()
    assert titles(dbsession, admin) == ["The trial of ${module} ends on ${ends}",
                                        "The trial of ${module} has ended"]
    assert [m["Subject"] for m in smtp_server.to(admin.email)][1] == (
        "The trial of Notes has ended")
    assert titles(dbsession, member) == [] and smtp_server.to(member.email) == []
