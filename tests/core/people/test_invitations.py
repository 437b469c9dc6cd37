"""Invitations by e-mail: the link comes over real SMTP and lets the invitee in, once."""
import datetime as dt
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update
from webtest import TestApp

from mypages.accounts.models import EmailToken, User
from mypages.accounts.passwords import verify_password
from mypages.audit.models import AuditEvent
from mypages.companies.models import Invitation, Membership, Role
from mypages.db import utcnow
from mypages.i18n import Formats, _
from mypages.jobs import Worker
from mypages.jobs.models import QueuedJob
from mypages.notifications import localizer_for
from mypages.testing.plugin import sign_in
from mypages.testing.web import password_step
from mypages.testing.smtp import link_in

PASSWORD = "amber kites drift over malmo"


def browser(app, address="10.0.0.1"):
    return TestApp(app, extra_environ={"REMOTE_ADDR": address, "HTTP_HOST": "localhost"})


def people_path(company):
    return f"/c/{company.id}/settings/people"


def invite(client, company, email, role="member", status=303):
    form = client.get(people_path(company)).forms["invite-form"]
    form["email"] = email
    form["role"] = role
    return form.submit(status=status)


def deliver(app):
    Worker(app.registry).run_queued()


def invitation_path(smtp_server, email):
    mails = smtp_server.to(email)
    assert len(mails) == 1, f"{len(mails)} mails to {email}"
    return urlsplit(link_in(mails[0])).path


def accept_as_newcomer(client, path, name="Nora Nyström", password=PASSWORD, repeat=None,
                       status=303):
    form = client.get(path).forms["invitation-form"]
    form["name"] = name
    form["password"] = password
    form["repeat"] = password if repeat is None else repeat
    return form.submit(status=status)


def membership(dbsession, company, email):
    dbsession.expire_all()
    return dbsession.scalars(select(Membership).join(User, User.id == Membership.user_id).where(
        Membership.company_id == company.id, User.email == email)).one_or_none()


def english(app, message):
    return localizer_for(app.registry, "en").translate(message)


def in_page_language(app, page, message):
    return localizer_for(app.registry, page.html.html["lang"]).translate(message)


@pytest.fixture
def admin_of(mail_app, factory):
    """(company, admin, the admin's signed-in browser on the mail-sending app)."""
    company = factory.company("Invitande AB", default_locale="en")
    admin = factory.user(company=company, role="admin", locale="en")
    client = browser(mail_app)
    sign_in(client, admin.email)
    return company, admin, client


def test_a_newcomer_gets_the_link_by_mail_sets_a_password_and_is_in(mail_app, admin_of,
                                                                     smtp_server, dbsession):
    company, admin, admin_browser = admin_of
    sent = invite(admin_browser, company, "Nora@Example.se", role="admin").follow()
    assert "nora@example.se" in sent.html.find(class_="notice").text
    assert smtp_server.messages == []  # the mail goes out from the job queue
    deliver(mail_app)
    mail, = smtp_server.to("nora@example.se")
    assert company.name in mail["Subject"]
    path = invitation_path(smtp_server, "nora@example.se")
    assert path.startswith("/invitation/")
    newcomer = browser(mail_app, "10.0.0.2")
    page = newcomer.get(path)
    assert company.name in page.text and "nora@example.se" in page.text
    done = accept_as_newcomer(newcomer, path)
    assert done.location.endswith(f"/c/{company.id}/")
    newcomer.get(f"/c/{company.id}/", status=200)  # signed in
    newcomer.get(people_path(company), status=200)  # with the invited role
    joined = membership(dbsession, company, "nora@example.se")
    assert joined.role == Role.admin
    user = dbsession.get(User, joined.user_id)
    assert user.display_name == "Nora Nyström"
    assert verify_password(user.password_hash, PASSWORD)
    audited = {event.action: event for event in dbsession.scalars(select(AuditEvent))}
    for action in ("people.invited", "people.invitation_sent", "people.invitation_accepted"):
        assert audited[action].company_id == company.id
        assert audited[action].target == "nora@example.se"
    assert audited["people.invited"].actor_id == admin.id
    assert audited["people.invitation_accepted"].actor_id == user.id
    # and the password works on its own later
    newcomer.reset()
    sign_in(newcomer, "nora@example.se", PASSWORD)


def test_the_newcomers_password_must_satisfy_the_policy(mail_app, admin_of, smtp_server,
                                                        dbsession):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    path = invitation_path(smtp_server, "nora@example.se")
    newcomer = browser(mail_app, "10.0.0.2")
    short = accept_as_newcomer(newcomer, path, password="too short", status=400)
    # the error stands by the field it is about, which names it to a screen reader
    field = short.html.find("input", attrs={"name": "password"})
    assert field["aria-invalid"] == "true"
    assert "field-error" in short.html.find(id=field["aria-describedby"])["class"]
    accept_as_newcomer(newcomer, path, password="1qaz2wsx3edc4rfv", status=400)
    refused = accept_as_newcomer(newcomer, path, repeat=PASSWORD + "!", status=400)
    repeat = refused.html.find("input", attrs={"name": "repeat"})
    assert in_page_language(mail_app, refused, _("The two new passwords are not the same.")) \
        in refused.html.find(id=repeat["aria-describedby"]).text
    assert dbsession.scalar(select(func.count()).select_from(User).where(
        User.email == "nora@example.se")) == 0
    newcomer.get(f"/c/{company.id}/", status=303)
    accept_as_newcomer(newcomer, path)  # the link still works after the refusals
    assert membership(dbsession, company, "nora@example.se").role == Role.member


def test_an_existing_account_signs_in_as_that_address_first(mail_app, admin_of, factory,
                                                            smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    other_company = factory.company()
    existing = factory.user(company=other_company, locale="en")
    someone_else = factory.user(locale="en")
    invite(admin_browser, company, existing.email)
    deliver(mail_app)
    path = invitation_path(smtp_server, existing.email)
    client = browser(mail_app, "10.0.0.2")
    page = client.get(path)
    assert page.html.find(id="invitation-form") is None  # no password to choose here
    sign_in_link = page.html.find("a", href=lambda href: href and "/login" in href)["href"]
    # anonymous, or signed in as someone else: refused
    token = client.get("/login").forms["login-form"]["csrf_token"].value
    client.post(path, {"csrf_token": token}, status=403)
    sign_in(client, someone_else.email)
    refused = client.get(path)
    assert refused.html.find(id="invitation-form") is None
    token = client.get("/account").forms[0]["csrf_token"].value
    client.post(path, {"csrf_token": token}, status=403)
    assert membership(dbsession, company, existing.email) is None
    assert membership(dbsession, company, someone_else.email) is None
    # signed in as the invited address, through the link on the page, back to the invitation
    client.reset()
    form = password_step(client, existing.email, sign_in_link)
    form["password"] = "correct horse battery staple"
    back = form.submit(status=303)
    assert urlsplit(back.location).path == path
    accepted = back.follow().forms["invitation-form"].submit(status=303)
    assert accepted.location.endswith(f"/c/{company.id}/")
    client.get(f"/c/{company.id}/", status=200)
    assert membership(dbsession, company, existing.email).role == Role.member
    assert membership(dbsession, other_company, existing.email) is not None
    dbsession.expire_all()
    assert verify_password(dbsession.get(User, existing.id).password_hash,
                           "correct horse battery staple")  # the password is not touched
    assert "people.invitation_accepted" in dbsession.scalars(select(AuditEvent.action)).all()


def test_a_used_link_is_refused(mail_app, admin_of, smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    path = invitation_path(smtp_server, "nora@example.se")
    first, second = browser(mail_app, "10.0.0.2"), browser(mail_app, "10.0.0.3")
    form = second.get(path).forms["invitation-form"]
    accept_as_newcomer(first, path)
    gone = browser(mail_app, "10.0.0.4").get(path, status=404)
    assert gone.html.find(id="invitation-form") is None
    # a form opened before the link was used does not work either
    form["name"], form["password"], form["repeat"] = "Mallory", PASSWORD, PASSWORD
    form.submit(status=404)
    assert dbsession.scalar(select(func.count()).select_from(Membership).where(
        Membership.company_id == company.id)) == 2


def test_a_withdrawn_invitation_is_refused(mail_app, admin_of, smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    path = invitation_path(smtp_server, "nora@example.se")
    newcomer = browser(mail_app, "10.0.0.2")
    form = newcomer.get(path).forms["invitation-form"]
    page = admin_browser.get(people_path(company))
    # asked first: a dialog, or without JavaScript a page of its own
    [trigger] = page.html.select("#invitations a[data-confirm]")
    assert "stops working" in page.html.find("dialog", id=trigger["data-confirm"]).text
    asked = admin_browser.get(trigger["href"])
    assert "Withdraw the invitation to nora@example.se?" in asked.html.find("h1").text
    withdraw = next(f for f in page.forms.values() if "revoke" in f.fields)
    withdrawn = withdraw.submit(status=303).follow()
    assert withdrawn.html.find(id="invitations") is None  # not listed as waiting any more
    assert "nora@example.se has been withdrawn" in withdrawn.html.find(class_="notice").text
    newcomer.get(path, status=404)
    form["name"], form["password"], form["repeat"] = "Nora", PASSWORD, PASSWORD
    form.submit(status=404)
    assert membership(dbsession, company, "nora@example.se") is None
    assert dbsession.scalar(select(func.count()).select_from(User).where(
        User.email == "nora@example.se")) == 0
    assert "people.invitation_revoked" in dbsession.scalars(select(AuditEvent.action)).all()


def test_an_invitation_withdrawn_before_the_mail_went_out_sends_nothing(mail_app, admin_of,
                                                                       smtp_server):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    page = admin_browser.get(people_path(company))
    next(f for f in page.forms.values() if "revoke" in f.fields).submit(status=303)
    deliver(mail_app)
    assert smtp_server.messages == []


def test_an_expired_link_is_refused(mail_app, admin_of, smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    path = invitation_path(smtp_server, "nora@example.se")
    token = dbsession.scalars(select(EmailToken)).one()
    lifetime = token.expires_at - token.created_at
    assert dt.timedelta(days=6, hours=23, minutes=59) < lifetime <= dt.timedelta(days=7, seconds=1)
    newcomer = browser(mail_app, "10.0.0.2")
    form = newcomer.get(path).forms["invitation-form"]
    dbsession.execute(update(EmailToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()
    newcomer.get(path, status=404)
    form["name"], form["password"], form["repeat"] = "Nora", PASSWORD, PASSWORD
    form.submit(status=404)
    assert membership(dbsession, company, "nora@example.se") is None


def test_inviting_an_existing_member_is_refused_with_a_clear_message(mail_app, admin_of, factory,
                                                                     smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    member = factory.user(company=company)
    refused = invite(admin_browser, company, member.email.upper(), status=400)
    assert refused.html.find(class_="error").text.strip() == english(
        mail_app, _("${email} is already a member.", mapping={"email": member.email}))
    assert dbsession.scalar(select(func.count()).select_from(Invitation)) == 0
    assert dbsession.scalar(select(func.count()).select_from(QueuedJob)) == 0
    deliver(mail_app)
    assert smtp_server.messages == []


@pytest.mark.parametrize("typed", ["", "not-an-address", "two words@example.se"])
def test_a_malformed_address_is_refused(mail_app, admin_of, dbsession, typed):
    company, _admin, admin_browser = admin_of
    token = admin_browser.get(people_path(company)).forms["invite-form"]["csrf_token"].value
    refused = admin_browser.post(f"/c/{company.id}/settings/people/invitations",
                                 {"csrf_token": token, "email": typed, "role": "member"},
                                 status=400)
    assert refused.html.find(class_="error").text.strip() == english(
        mail_app, _("Type a valid e-mail address."))
    assert dbsession.scalar(select(func.count()).select_from(Invitation)) == 0


def test_a_member_cannot_invite(mail_app, factory, dbsession):
    company = factory.company()
    member = factory.user(company=company)
    client = browser(mail_app)
    sign_in(client, member.email)
    client.get(people_path(company), status=403)
    token = client.get("/account").forms[0]["csrf_token"].value
    client.post(f"/c/{company.id}/settings/people/invitations",
                {"csrf_token": token, "email": "friend@example.se", "role": "admin"}, status=403)
    assert dbsession.scalar(select(func.count()).select_from(Invitation)) == 0


def test_an_admin_cannot_withdraw_another_companys_invitation(mail_app, admin_of, factory,
                                                             smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    other = factory.company()
    other_admin = factory.user(company=other, role="admin")
    other_browser = browser(mail_app, "10.0.0.5")
    sign_in(other_browser, other_admin.email)
    invite(other_browser, other, "nora@example.se")
    theirs = dbsession.scalars(select(Invitation)).one()
    token = admin_browser.get(people_path(company)).forms["invite-form"]["csrf_token"].value
    admin_browser.post(f"/c/{company.id}/settings/people/invitations",
                       {"csrf_token": token, "revoke": str(theirs.id)}, status=400)
    dbsession.expire_all()
    assert dbsession.get(Invitation, theirs.id).revoked_at is None


def test_the_mail_says_who_invited_whom_to_which_company_and_until_when(mail_app, factory,
                                                                       smtp_server, dbsession):
    company = factory.company("Fakturor i Norr AB", default_locale="sv")
    admin = factory.user(company=company, role="admin", locale="en", display_name="Ada Admin")
    client = browser(mail_app)
    sign_in(client, admin.email)
    invite(client, company, "nora@example.se")
    deliver(mail_app)
    mail, = smtp_server.to("nora@example.se")
    # in the company's language: the invitee has no account, so no language of their own
    assert mail["Subject"] == "Ada Admin har bjudit in dig till Fakturor i Norr AB på Mina sidor"
    body = mail.get_content()
    expires = dbsession.scalars(select(EmailToken.expires_at)).one()
    assert "Ada Admin" in body and "Fakturor i Norr AB" in body and "som medlem" in body
    assert Formats("sv").date(expires) in body
    assert link_in(mail).startswith("http")


def test_an_invitee_with_an_account_gets_the_mail_in_their_own_language(mail_app, admin_of,
                                                                       factory, smtp_server):
    company, admin, admin_browser = admin_of
    factory.user("pirkko@example.fi", locale="fi")
    invite(admin_browser, company, "pirkko@example.fi", role="admin")
    deliver(mail_app)
    mail, = smtp_server.to("pirkko@example.fi")
    assert "Invitande AB" in mail["Subject"] and "My Pages" not in mail["Subject"]
    assert "Invitande AB" in mail.get_content()


def test_an_invitation_shows_until_when_its_link_works_and_can_be_sent_again(
        mail_app, admin_of, smtp_server, dbsession):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    first = invitation_path(smtp_server, "nora@example.se")
    page = admin_browser.get(people_path(company))
    expires = dbsession.scalars(select(EmailToken.expires_at)).one()
    listed = page.html.select_one("#invitations li")
    assert f"the link works until {Formats('en').date(expires)}" in listed.text

    # expired: the page says so, and sending it again gives a new link for the full time
    dbsession.execute(update(EmailToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()
    page = admin_browser.get(people_path(company))
    assert "the link has expired" in page.html.select_one("#invitations li").text
    again = next(f for f in page.forms.values() if "resend" in f.fields).submit(status=303)
    assert "sent again" in again.follow().html.find(class_="notice").text
    smtp_server.clear()
    deliver(mail_app)
    second = invitation_path(smtp_server, "nora@example.se")
    assert second != first
    browser(mail_app, "10.0.0.5").get(first, status=404)
    accept_as_newcomer(browser(mail_app, "10.0.0.2"), second)
    assert membership(dbsession, company, "nora@example.se") is not None
    actions = dbsession.scalars(select(AuditEvent.action)).all()
    assert "people.invitation_resent" in actions


def test_a_used_link_leads_on_to_sign_in(mail_app, admin_of, smtp_server):
    company, _admin, admin_browser = admin_of
    invite(admin_browser, company, "nora@example.se")
    deliver(mail_app)
    path = invitation_path(smtp_server, "nora@example.se")
    accept_as_newcomer(browser(mail_app, "10.0.0.2"), path)
    gone = browser(mail_app, "10.0.0.3").get(path, status=404)
    assert gone.html.find(id="sign-in-link")["href"] == "/login"
