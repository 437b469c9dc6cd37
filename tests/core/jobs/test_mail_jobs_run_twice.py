"""A job that sends e-mail is safe to run twice: a worker killed at any point, then another run,
leaves one working link (in every e-mail sent), and one audit event."""
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from webtest import TestApp

from mypages.accounts.models import EmailToken
from mypages.audit.models import AuditEvent
from mypages.jobs import LEASE, Worker
from mypages.jobs.models import QueuedJob
from mypages.people import members
from mypages.services import Mailer, find
from mypages.testing.plugin import work_as
from mypages.testing.smtp import link_in

KILL_POINTS = ["after the link is stored", "after the e-mail is sent",
               "while the job's end is committed"]


class Killed(BaseException):
    """The worker's process dies here: nothing after it runs, no error is recorded."""


class DyingMailer(Mailer):
    """The application's mailer, in a worker that dies just before or just after sending."""

    def __init__(self, real: Mailer, sends: bool):
        self.real, self.sends = real, sends

    def send(self, to, subject, body):
        if self.sends:
            self.real.send(to, subject, body)
        raise Killed


@pytest.fixture
def killed_once(mail_app, replace_service, monkeypatch, clock):
    """``killed_once(point)``: deliver the queue with a worker that dies at ``point``, then
    with another one once the first one's lease has run out."""
    def deliver(point):
        real = find(mail_app, Mailer)
        if point == KILL_POINTS[2]:
            close = Worker._close_queued

            def dies_at_the_commit(self, *args, **kw):
                close(self, *args, **kw)
                raise Killed

            monkeypatch.setattr(Worker, "_close_queued", dies_at_the_commit)
        else:
            replace_service(Mailer, DyingMailer(real, sends=point == KILL_POINTS[1]),
                            target=mail_app)
        with pytest.raises(Killed):
            Worker(mail_app.registry, name="killed").run_queued()
        monkeypatch.undo()
        replace_service(Mailer, real, target=mail_app)
        clock.shift(LEASE.total_seconds() + 1)
        assert Worker(mail_app.registry, name="next").run_queued() == 1

    return deliver


def count(dbsession, model, *where):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(model).where(*where))


def the_one_link(smtp_server, email, point) -> str:
    links = {urlsplit(link_in(mail)).path for mail in smtp_server.to(email)}
    assert len(links) == 1  # every e-mail carries the same link
    sent = len(smtp_server.to(email))
    assert sent == (1 if point == KILL_POINTS[0] else 2)
    return links.pop()


def assert_finished(dbsession):
    dbsession.expire_all()
    [job] = dbsession.scalars(select(QueuedJob)).all()
    assert job.finished_at is not None and job.attempts == 2


@pytest.mark.parametrize("point", KILL_POINTS)
def test_an_invitation_sent_again_carries_the_same_working_link(
        mail_app, factory, dbsession, smtp_server, killed_once, point):
    company = factory.company("Invitande AB", default_locale="en")
    admin = factory.user(company=company, role="admin", locale="en")
    with work_as(mail_app, admin, company) as (work, info):
        invitation = members.invite(work, info, "nora@example.se", "member")

    killed_once(point)

    path = the_one_link(smtp_server, "nora@example.se", point)
    assert count(dbsession, EmailToken, EmailToken.invitation_id == invitation.id) == 1
    page = TestApp(mail_app, extra_environ={"HTTP_HOST": "localhost"}).get(path, status=200)
    assert "Invitande AB" in page.text
    assert count(dbsession, AuditEvent, AuditEvent.action == "people.invitation_sent") == 1
    assert_finished(dbsession)


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_password_reset_sent_again_carries_the_same_working_link(
        mail_app, factory, dbsession, smtp_server, killed_once, point):
    user = factory.user(locale="en")
    with work_as(mail_app) as (work, _):
        work.enqueue("accounts.password_reset_mail", {"email": user.email, "locale": "en"})

    killed_once(point)

    path = the_one_link(smtp_server, user.email, point)
    assert count(dbsession, EmailToken, EmailToken.user_id == user.id) == 1
    page = TestApp(mail_app, extra_environ={"HTTP_HOST": "localhost"}).get(path, status=200)
    assert "reset-form" in page.text
    assert count(dbsession, AuditEvent, AuditEvent.action == "account.password_reset_sent") == 1
    assert_finished(dbsession)
