"""E-mail to a person or to a company's admins, each in their own language, with dates,
numbers and money as that language writes them: over real SMTP, from a job and a request."""
import datetime as dt
import textwrap
from decimal import Decimal

import pytest
from pyramid.request import Request
from sqlalchemy import select
from pyramid.scripting import prepare

from mypages.contract import QueuedJobType
from mypages.jobs import Worker
from mypages.jobs.models import QueuedJob
from mypages.services import job_queue
from mypages.testing.smtp import body_of
from mypages.toolkit import (Price, TranslationStringFactory, mail_company_admins, mail_operators,
                             mail_user)

NBSP = "\xa0"
notes_ = TranslationStringFactory("mypages_example_notes")  # a plugin's own domain
DUE = dt.date(2030, 6, 2)


@pytest.fixture
def run_as_job(mail_app):
    """``run_as_job(func)``: ``func(job)`` run once by a real worker, as a queued job."""
    queued = mail_app.registry["jobs"].queued

    def run(func):
        queued["test.mail"] = QueuedJobType("test.mail", func, max_attempts=1)
        with mail_app.registry["db.session_factory"].begin() as dbsession:
            job_queue(mail_app).enqueue(dbsession, "test.mail")
        assert Worker(mail_app.registry).run_queued() == 1

    yield run
    queued.pop("test.mail", None)


@pytest.fixture
def admins(factory):
    """A Danish company whose admins read Swedish, English and (by default) Danish."""
    company = factory.company("Exempel AB", default_locale="da")
    return company, [factory.user("anna@example.se", company=company, role="admin", locale="sv"),
                     factory.user("bob@example.se", company=company, role="admin", locale="en"),
                     factory.user("dan@example.se", company=company, role="admin"),
                     factory.user("maj@example.se", company=company, role="member", locale="sv")]


def test_each_admin_gets_the_mail_in_their_own_language(admins, smtp_server, run_as_job):
    company, _people = admins
    sent = []

    def remind(job):
        sent.append(mail_company_admins(
            job, company.id, notes_("Notes"),
            notes_("${recipient}: ${count} notes of ${company}, due ${due}, ${price}."),
            values={"count": 3, "due": DUE,
                    "price": Price(Decimal("1234.5"), "SEK", per=notes_("per month"))}))

    run_as_job(remind)

    assert sent == [3]
    assert sorted(rcpt for _from, (rcpt,) in smtp_server.envelopes) == [
        "anna@example.se", "bob@example.se", "dan@example.se"]  # admins only
    anna, = smtp_server.to("anna@example.se")
    bob, = smtp_server.to("bob@example.se")
    dan, = smtp_server.to("dan@example.se")
    assert (anna["Subject"], bob["Subject"], dan["Subject"]) == ("Anteckningar", "Notes", "Noter")
    assert body_of(anna).strip() == (f"anna@example.se: 3 notes of Exempel AB, due 2 juni 2030, "
                                     f"1{NBSP}234,50{NBSP}kr/mån.")
    assert body_of(bob).strip() == ("bob@example.se: 3 notes of Exempel AB, due 2 Jun 2030, "
                                    f"SEK{NBSP}1,234.50 per month.")
    assert "2. jun. 2030" in body_of(dan) and f"1.234,50{NBSP}SEK pr. måned" in body_of(dan)


def test_a_template_is_rendered_in_each_readers_language(admins, smtp_server, run_as_job,
                                                         tmp_path):
    company, (anna, bob, dan, _member) = admins
    template = tmp_path / "due.jinja2"
    template.write_text(textwrap.dedent("""\
        {% block subject %}{{ _("Dashboard") }}: {{ company.name }}{% endblock %}
        {% block body %}
        {{ recipient.email }}, Q&A <{{ due_at }}>:
        {{ format_date(due) }} | {{ format_day(due_at) }} | {{ format_money(amount, "EUR") }}
        | {{ format_number(ratio, 2) }} | {{ translate(per) }}
        {{ ngettext("Available: try it free for %(num)s day.",
                    "Available: try it free for %(num)s days.", 10) }}
        {{ ngettext("Trial: %(num)s day left (until %(date)s).",
                    "Trial: %(num)s days left (until %(date)s).", 2, date=format_date(due)) }}
        {% endblock %}
        """))

    def remind(job):
        mail_user(job, anna.id, template=str(template), company_id=company.id,
                  values={"due": DUE, "amount": Decimal("9876.5"), "ratio": Decimal("0.125"),
                          "per": notes_("per month"),
                          "due_at": dt.datetime(2030, 6, 1, 22, 30, tzinfo=dt.timezone.utc)})
        mail_user(job, bob.id, template=str(template), company_id=company.id,
                  values={"due": DUE, "amount": Decimal("9876.5"), "ratio": Decimal("0.125"),
                          "per": notes_("per month"),
                          "due_at": dt.datetime(2030, 6, 1, 22, 30, tzinfo=dt.timezone.utc)})

    run_as_job(remind)

    anna_mail, = smtp_server.to(anna.email)
    bob_mail, = smtp_server.to(bob.email)
    assert anna_mail["Subject"] == "Översikt: Exempel AB"
    assert bob_mail["Subject"] == "Dashboard: Exempel AB"
    # plain text: nothing escaped; the day of a time is Stockholm's (22:30 UTC is 00:30 on 2 June)
    assert body_of(anna_mail).strip() == (
        "anna@example.se, Q&A <2030-06-01 22:30:00+00:00>:\n"
        f"2 juni 2030 | 2 juni 2030 | 9{NBSP}876,50{NBSP}€\n| 0,13 | /mån\n"
        "Tillgänglig: prova gratis i 10 dagar.\n"
        "Provperiod: 2 dagar kvar (till 2 juni 2030).")
    assert body_of(bob_mail).strip() == (
        "bob@example.se, Q&A <2030-06-01 22:30:00+00:00>:\n"
        f"2 Jun 2030 | 2 June 2030 | €{NBSP}9,876.50\n| 0.13 | per month\n"
        "Available: try it free for 10 days.\n"
        "Trial: 2 days left (until 2 Jun 2030).")


def test_mail_from_a_request_is_in_the_readers_language_not_the_requests(
        admins, smtp_server, mail_app):
    company, (anna, bob, _dan, _member) = admins
    env = prepare(request=Request.blank("/", headers={"Accept-Language": "fi"}),
                  registry=mail_app.registry)
    request = env["request"]
    try:
        with request.tm:
            assert mail_user(request, bob.id, notes_("Notes"), notes_("Due ${due}"),
                             values={"due": DUE}) is True
    finally:
        env["closer"]()

    bob_mail, = smtp_server.to(bob.email)
    assert (bob_mail["Subject"], body_of(bob_mail).strip()) == ("Notes", "Due 2 Jun 2030")


def test_no_mail_to_a_disabled_or_missing_account(factory, smtp_server, run_as_job):
    company = factory.company()
    gone = factory.user(company=company, role="admin", is_active=False)
    answers = []

    def remind(job):
        answers.append(mail_user(job, gone.id, notes_("Notes"), notes_("Notes")))
        answers.append(mail_user(job, 2_000_000_000, notes_("Notes"), notes_("Notes")))
        answers.append(mail_company_admins(job, company.id, notes_("Notes"), notes_("Notes")))

    run_as_job(remind)

    assert answers == [False, False, 0]
    assert smtp_server.messages == []


def test_the_operators_get_the_mail_each_in_their_own_language(factory, smtp_server,
                                                               run_as_job):
    factory.user("ops-sv@example.se", is_operator=True, locale="sv")
    factory.user("ops-en@example.se", is_operator=True, locale="en")
    factory.user("gone@example.se", is_operator=True, is_active=False)
    factory.user("admin@example.se", company=factory.company(), role="admin")
    sent = []

    run_as_job(lambda job: sent.append(mail_operators(job, notes_("Notes"), notes_("Notes"))))

    assert sent == [2]
    assert sorted(rcpt for _from, (rcpt,) in smtp_server.envelopes) == [
        "ops-en@example.se", "ops-sv@example.se"]
    assert smtp_server.to("ops-sv@example.se")[0]["Subject"] == "Anteckningar"


def test_a_refused_admin_is_mailed_again_alone_and_nobody_twice(admins, smtp_server, mail_app,
                                                              clock):
    """A send that fails to one admin queues the job again for that admin only: the others
    are not mailed a second time, and the refused one gets it once the server takes it."""
    company, _people = admins
    queued = mail_app.registry["jobs"].queued

    def remind(job):
        mail_company_admins(job, company.id, notes_("Notes"), notes_("Notes"))

    queued["test.mail"] = QueuedJobType("test.mail", remind, max_attempts=1)
    try:
        smtp_server.refuse("bob@example.se", times=2)
        with mail_app.registry["db.session_factory"].begin() as dbsession:
            job_queue(mail_app).enqueue(dbsession, "test.mail")
        worker = Worker(mail_app.registry)
        assert worker.run_queued() == 1
        assert sorted(rcpt for _from, (rcpt,) in smtp_server.envelopes) == [
            "anna@example.se", "dan@example.se"]
        assert worker.run_queued() == 0  # queued again, after a pause

        clock.shift(minutes=2)
        assert worker.run_queued() == 1  # refused again: queued once more
        clock.shift(minutes=4)
        assert worker.run_queued() == 1
    finally:
        queued.pop("test.mail", None)
    assert sorted(rcpt for _from, (rcpt,) in smtp_server.envelopes) == [
        "anna@example.se", "bob@example.se", "dan@example.se"]


def test_a_mailbox_refused_every_time_fails_the_job_in_the_end(admins, smtp_server, mail_app,
                                                               clock):
    company, people = admins
    queued = mail_app.registry["jobs"].queued
    queued["test.mail"] = QueuedJobType(
        "test.mail", lambda job: mail_company_admins(job, company.id, notes_("Notes"),
                                                     notes_("Notes")), max_attempts=1)
    try:
        smtp_server.refuse("bob@example.se", times=100)
        with mail_app.registry["db.session_factory"].begin() as dbsession:
            job_queue(mail_app).enqueue(dbsession, "test.mail")
        worker = Worker(mail_app.registry)
        ran = [worker.run_queued()]
        for pause in (2, 4, 8, 16):
            clock.shift(minutes=pause)
            ran.append(worker.run_queued())
    finally:
        queued.pop("test.mail", None)
    assert ran == [1, 1, 1, 1, 1]
    # the others once each, bob never; the fifth refusal failed the job for an operator to see
    assert sorted(rcpt for _from, (rcpt,) in smtp_server.envelopes) == [
        "anna@example.se", "dan@example.se"]
    with mail_app.registry["db.session_factory"]() as dbsession:
        last = dbsession.scalars(select(QueuedJob).order_by(QueuedJob.id.desc())).first()
    assert last.payload["mail_to"] == [people[1].id] and last.last_error is not None
