"""notify: who gets a notification, once per dedupe key, in each reader's language, and by
e-mail only to those who want the kind by e-mail."""
import datetime as dt

import pytest
from sqlalchemy import select

from mypages.inbox import AdminsOf, choose_email, notify
from mypages.inbox.models import Notification
from mypages.inbox.messages import render_for
from mypages.i18n import _
from mypages.testing.jobs import JobRunner
from mypages.testing.plugin import work_as
from mypages.testing.smtp import body_of

TITLE = _("Single Sign On is no longer required at ${company}")


@pytest.fixture
def company(factory):
    return factory.company("Example AB")


def mine(dbsession, user):
    dbsession.expire_all()
    return dbsession.scalars(select(Notification).where(Notification.user_id == user.id)).all()


def test_the_active_admins_of_a_company_get_it_once_per_dedupe_key(app, factory, dbsession,
                                                                   company):
    admin = factory.user(company=company, role="admin")
    member = factory.user(company=company)
    gone = factory.user(company=company, role="admin", is_active=False)
    for _time in range(2):
        with work_as(app) as (work, _c):
            notify(work, AdminsOf(company.id), "sso", TITLE, TITLE,
                   values={"company": company.name}, dedupe_key="once")
    [only] = mine(dbsession, admin)
    assert (only.company_id, only.kind, only.read_at) == (company.id, "sso", None)
    assert mine(dbsession, member) == [] and mine(dbsession, gone) == []
    with work_as(app) as (work, _c):
        assert notify(work, [member.id], "sso", TITLE, TITLE) != []  # no key: every time


def test_each_reader_sees_it_in_their_own_language_with_dates_as_theirs(app, factory,
                                                                        dbsession, company):
    when = dt.datetime(2026, 3, 14, 11, 0, tzinfo=dt.timezone.utc)
    with work_as(app) as (work, _c):
        notify(work, [factory.user(locale="sv").id], "trial",
               _("The trial of ${module} ends on ${ends}"), TITLE,
               values={"module": _("Single Sign On"), "ends": when, "company": "X AB"})
    [stored] = dbsession.scalars(select(Notification)).all()
    assert stored.title["msgid"] == "The trial of ${module} ends on ${ends}"  # not the text
    # 12:00 in Stockholm, written as each language writes it (Babel's spaces made plain)
    assert " ".join(render_for(app.registry, "en", stored.title).split()) == (
        "The trial of Single Sign On ends on 14 Mar 2026 12:00")
    assert " ".join(render_for(app.registry, "sv", stored.title).split()) == (
        "Provperioden för Single Sign On slutar 14 mars 2026 12:00")


def test_a_kind_nobody_declares_and_a_link_off_the_site_are_refused(app, factory):
    user = factory.user()
    with work_as(app) as (work, _c):
        with pytest.raises(ValueError, match="no notification kind"):
            notify(work, [user.id], "nonsense", TITLE, TITLE)
        with pytest.raises(ValueError, match="path on this site"):
            notify(work, [user.id], "sso", TITLE, TITLE, link="https://evil.example/")
        with pytest.raises(ValueError, match="path on this site"):
            notify(work, [user.id], "sso", TITLE, TITLE, link="//evil.example/")


def test_e_mail_goes_only_to_those_who_want_the_kind_by_e_mail(mail_app, factory, dbsession,
                                                               company, smtp_server):
    wants = factory.user("wants@example.se", company=company, role="admin", locale="en")
    declined = factory.user("declined@example.se", company=company, role="admin")
    with work_as(mail_app) as (work, _c):
        choose_email(work.dbsession, work, declined.id, {"sso": False})
        notify(work, AdminsOf(company.id), "sso", TITLE,
               _("The Single Sign On module of ${company} is no longer active, so "
                 "\"Require from all\" is suspended: your people can sign in with "
                 "their passwords again. Buy the module under Company settings to "
                 "require Single Sign On again."),
               values={"company": company.name}, link=f"/c/{company.id}/settings/modules")
        # whats_new is off by e-mail unless chosen
        notify(work, [wants.id], "whats_new", TITLE, TITLE, values={"company": "Y"})
    assert smtp_server.messages == []  # sent by a job, after the commit
    JobRunner(mail_app)()
    [mail] = smtp_server.to(wants.email)
    assert mail["Subject"] == "Single Sign On is no longer required at Example AB"
    body = body_of(mail)
    assert "Buy the module under Company settings" in body
    assert f"/c/{company.id}/settings/modules" in body
    assert "/account/notifications" in body
    assert smtp_server.to(declined.email) == []
    assert len(mine(dbsession, declined)) == 1  # in the bell all the same
