"""Password reset by e-mail: the link comes over real SMTP, works once, for one hour, and
never gets anyone past two-factor or Single Sign On."""
import datetime as dt
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import func, select, update
from webtest import TestApp

from mypages.accounts.models import EmailToken, TotpCredential, User, UserSession
from mypages.accounts.passwords import verify_password
from mypages.audit.models import AuditEvent
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.crypto import DEVELOPMENT_KEY, Encryptor
from mypages.db import utcnow
from mypages.i18n import _
from mypages.jobs import Worker
from mypages.jobs.models import QueuedJob
from mypages.notifications import localizer_for
from mypages.services import settings_of
from mypages.testing.plugin import sign_in
from mypages.testing.smtp import body_of, link_in

NEW_PASSWORD = "violet tractor juggles forty lanterns"
SUBJECT = _("Choose a new password for My Pages")


def ask_for_link(testapp, email, status=200):
    form = testapp.get("/password/forgot").forms["forgot-form"]
    form["email"] = email
    return form.submit(status=status)


def deliver(app):
    Worker(app.registry).run_queued()


def reset_path(smtp_server, email):
    """The path of the one reset link mailed to ``email``."""
    mails = smtp_server.to(email)
    assert len(mails) == 1, f"{len(mails)} mails to {email}"
    return urlsplit(link_in(mails[0])).path


def choose_password(testapp, path, new=NEW_PASSWORD, repeat=None, status=303):
    form = testapp.get(path).forms["reset-form"]
    form["new"] = new
    form["repeat"] = new if repeat is None else repeat
    return form.submit(status=status)


def stored_hash(dbsession, user):
    dbsession.expire_all()
    return dbsession.get(User, user.id).password_hash


def browser(app):
    return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


def translated(app, locale, message):
    return localizer_for(app.registry, locale).translate(message)


def test_the_link_arrives_over_smtp_in_the_users_own_language(mail_app, mail_testapp, factory,
                                                               smtp_server):
    finnish = factory.user(locale="fi")
    english = factory.user(locale="en")
    ask_for_link(mail_testapp, finnish.email)
    ask_for_link(mail_testapp, english.email)
    assert smtp_server.messages == []  # sent by the job, not by the web request
    deliver(mail_app)
    finnish_mail, = smtp_server.to(finnish.email)
    english_mail, = smtp_server.to(english.email)
    assert finnish_mail["Subject"] == translated(mail_app, "fi", SUBJECT)
    assert english_mail["Subject"] == translated(mail_app, "en", SUBJECT)
    assert finnish_mail["Subject"] != english_mail["Subject"]
    for mail in (finnish_mail, english_mail):
        assert link_in(mail).startswith(settings_of(mail_app).base_url
                                        + "/password/reset/")
    assert "/password/reset/" in body_of(finnish_mail)


def test_the_link_sets_a_new_password_and_works_only_once(mail_app, mail_testapp, factory,
                                                          smtp_server, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    done = choose_password(mail_testapp, path)
    assert "/login" in done.location
    assert verify_password(stored_hash(dbsession, user), NEW_PASSWORD)
    # used: both the page and a second submission are refused, the password stays
    gone = mail_testapp.get(path, status=404)
    assert gone.html.find(id="reset-form") is None
    browser(mail_app).get(path, status=404)
    assert verify_password(stored_hash(dbsession, user), NEW_PASSWORD)
    sign_in(mail_testapp, user.email, factory.password, status=400)
    sign_in(mail_testapp, user.email, NEW_PASSWORD)
    actions = dbsession.scalars(select(AuditEvent.action)).all()
    for action in ("account.password_reset_requested", "account.password_reset_sent",
                   "account.password_reset"):
        assert action in actions


def test_a_second_submission_of_an_open_form_is_refused(mail_app, mail_testapp, factory,
                                                        smtp_server, dbsession):
    user = factory.user()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    form = mail_testapp.get(path).forms["reset-form"]
    form["new"] = form["repeat"] = NEW_PASSWORD
    form.submit(status=303)
    form["new"] = form["repeat"] = "someone else's idea 9911"
    form.submit(status=404)
    assert verify_password(stored_hash(dbsession, user), NEW_PASSWORD)


def test_the_link_expires_after_one_hour(mail_app, mail_testapp, factory, smtp_server, dbsession):
    user = factory.user()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    token = dbsession.scalars(select(EmailToken)).one()
    lifetime = token.expires_at - token.created_at
    assert dt.timedelta(minutes=59) < lifetime <= dt.timedelta(hours=1, seconds=1)
    form = mail_testapp.get(path).forms["reset-form"]  # still fresh
    dbsession.execute(update(EmailToken).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    dbsession.commit()
    form["new"] = form["repeat"] = NEW_PASSWORD
    form.submit(status=404)
    mail_testapp.get(path, status=404)
    assert verify_password(stored_hash(dbsession, user), factory.password)


def test_only_a_hash_of_the_token_is_stored(mail_app, mail_testapp, factory, smtp_server,
                                            dbsession):
    user = factory.user()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    token = reset_path(smtp_server, user.email).rsplit("/", 1)[1]
    assert len(token) >= 32
    stored = dbsession.execute(select(EmailToken.__table__)).all()
    assert len(stored) == 1
    assert not any(token in str(value) for value in stored[0])
    # nor does a usable link ever sit in the job queue
    assert not any(token in str(row) for row in dbsession.execute(select(QueuedJob.__table__)))


def test_the_new_password_must_satisfy_the_policy(mail_app, mail_testapp, factory, smtp_server,
                                                  dbsession):
    company = factory.company()
    user = factory.user(company=company)
    dbsession.add(CompanyPolicy(company_id=company.id, password_min_length=20))
    dbsession.commit()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    page = mail_testapp.get(path)
    assert page.html.find(id="new")["minlength"] == "20"
    too_short = choose_password(mail_testapp, path, "nineteen chars long", status=400)
    assert "20" in too_short.html.find(class_="field-error").text
    common = choose_password(mail_testapp, path, "12345678900987654321", status=400)
    assert common.html.find(class_="field-error") is not None
    assert verify_password(stored_hash(dbsession, user), factory.password)
    # refusals do not use up the link
    choose_password(mail_testapp, path, NEW_PASSWORD)
    assert verify_password(stored_hash(dbsession, user), NEW_PASSWORD)


def test_a_blocked_common_password_is_refused(mail_app, mail_testapp, factory, smtp_server,
                                             dbsession):
    user = factory.user()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    refused = choose_password(mail_testapp, path, "1qaz2wsx3edc4rfv", status=400)
    assert refused.html.find(class_="field-error") is not None
    assert verify_password(stored_hash(dbsession, user), factory.password)


def test_the_reset_ends_every_session_and_signs_nobody_in(mail_app, mail_testapp, factory,
                                                          smtp_server, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    laptop, phone = browser(mail_app), browser(mail_app)
    sign_in(laptop, user.email)
    sign_in(phone, user.email)
    laptop.get(f"/c/{company.id}/", status=200)
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    choose_password(mail_testapp, reset_path(smtp_server, user.email))
    for signed_out in (laptop, phone, mail_testapp):
        assert "/login" in signed_out.get(f"/c/{company.id}/", status=303).location
    dbsession.expire_all()
    sessions = dbsession.scalars(select(UserSession)).all()
    assert len(sessions) == 2 and all(row.ended_at is not None for row in sessions)


def test_the_reset_never_gets_past_two_factor(mail_app, mail_testapp, factory, smtp_server,
                                             dbsession):
    company = factory.company()
    user = factory.user(company=company)
    dbsession.add(TotpCredential(user_id=user.id, confirmed_at=utcnow(),
                                 secret_encrypted=Encryptor([DEVELOPMENT_KEY])
                                 .encrypt(pyotp.random_base32())))
    dbsession.commit()
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    choose_password(mail_testapp, reset_path(smtp_server, user.email))
    mail_testapp.get(f"/c/{company.id}/", status=303)
    # the new password alone is not enough: the code is still asked for
    response = sign_in(mail_testapp, user.email, NEW_PASSWORD)
    assert response.location.endswith("/login/verify")
    mail_testapp.get(f"/c/{company.id}/", status=303)
    assert dbsession.scalar(select(func.count()).select_from(UserSession)) == 0


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail_app, mail_testapp, factory,
                                                             smtp_server, dbsession):
    user = factory.user()
    known = ask_for_link(mail_testapp, user.email)
    unknown = ask_for_link(mail_testapp, "nobody@example.se")
    assert known.status == unknown.status
    assert known.html.find(class_="notice").text == unknown.html.find(class_="notice").text
    assert unknown.html.find(id="forgot-form") is None
    # the same work is queued for both, so the answer also takes the same time
    assert dbsession.scalar(select(func.count()).select_from(QueuedJob)) == 2
    deliver(mail_app)
    assert smtp_server.to("nobody@example.se") == []
    assert len(smtp_server.messages) == 1
    assert dbsession.scalar(select(func.count()).select_from(EmailToken)) == 1


def test_no_reset_for_a_user_whose_company_requires_sso(mail_app, mail_testapp, factory,
                                                        smtp_server, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    break_glass = factory.user(company=company, role="admin")
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.add(BreakGlassAdmin(company_id=company.id, user_id=break_glass.id))
    dbsession.commit()
    sso_only = ask_for_link(mail_testapp, user.email)
    other = ask_for_link(mail_testapp, "nobody@example.se")
    assert sso_only.html.find(class_="notice").text == other.html.find(class_="notice").text
    ask_for_link(mail_testapp, break_glass.email)
    deliver(mail_app)
    assert smtp_server.to(user.email) == []
    assert len(smtp_server.to(break_glass.email)) == 1  # the break-glass admin keeps a way in
    refused = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "account.password_reset_refused_sso_required")).all()
    assert [(event.actor_id, event.target) for event in refused] == [(user.id, user.email)]
    assert dbsession.scalars(select(EmailToken.user_id)).all() == [break_glass.id]


def test_a_link_sent_before_sso_was_required_stops_working(mail_app, mail_testapp, factory,
                                                           smtp_server, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    form = mail_testapp.get(path).forms["reset-form"]
    dbsession.add(CompanyPolicy(company_id=company.id, password_allowed=False))
    dbsession.commit()
    form["new"] = form["repeat"] = NEW_PASSWORD
    form.submit(status=403)
    assert verify_password(stored_hash(dbsession, user), factory.password)


@pytest.mark.parametrize("typed", ["", "   ", "not-an-email", "x" * 250 + "@example.se"])
def test_a_missing_or_malformed_address_gets_a_translated_error(mail_app, mail_testapp,
                                                               smtp_server, dbsession, typed):
    finnish_browser = {"Accept-Language": "fi"}
    form = mail_testapp.get("/password/forgot", headers=finnish_browser).forms["forgot-form"]
    form["email"] = typed
    refused = form.submit(headers=finnish_browser, status=400)
    message = _("Type the e-mail address of your account.")
    finnish = translated(mail_app, "fi", message)
    assert finnish != message
    assert refused.html.find(class_="error").text.strip() == finnish
    assert dbsession.scalar(select(func.count()).select_from(QueuedJob)) == 0
    deliver(mail_app)
    assert smtp_server.messages == []


def test_mismatched_new_passwords_get_a_translated_error(mail_app, mail_testapp, factory,
                                                         smtp_server, dbsession):
    user = factory.user(locale="sv")
    ask_for_link(mail_testapp, user.email)
    deliver(mail_app)
    path = reset_path(smtp_server, user.email)
    form = mail_testapp.get(path, headers={"Accept-Language": "sv"}).forms["reset-form"]
    form["new"], form["repeat"] = NEW_PASSWORD, NEW_PASSWORD + "!"
    refused = form.submit(headers={"Accept-Language": "sv"}, status=400)
    message = _("The two new passwords are not the same.")
    swedish = translated(mail_app, "sv", message)
    assert swedish != message
    field = refused.html.find("input", attrs={"name": "repeat"})
    assert field["aria-invalid"] == "true"
    assert refused.html.find(id=field["aria-describedby"]).get_text(strip=True) == swedish
    assert verify_password(stored_hash(dbsession, user), factory.password)
    # the link still works: a typing slip does not cost the user their link
    choose_password(mail_testapp, path)
