""""Require from all": only after a tested connection; then every local path is closed for the
company's people except its break-glass admins; a lapsed module suspends it, never locks out."""
import datetime as dt
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import delete, select

from mypages.accounts.models import TotpCredential
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.db import utcnow
from mypages.inbox.models import Notification
from mypages.jobs import Worker
from mypages.modules.models import ModuleState
from mypages.sso.models import VerifiedDomain
from mypages.testing.smtp import link_in

from enterprise_support import (act, activate_sso, add_person, add_verified_domain,  # noqa: F401
                                audit_actions, audit_events, browser, connect, connection,
                                install_provider, messages, oidc_idp, save_connection,
                                set_module, sign_in_with_password, sso_sign_in, tab_path,
                                try_connection, uninstall_provider)

SSO_ONLY = ("Your company requires sign-in through Single Sign On. "
            "Password sign-in is closed for your account.")
NEEDS_TEST = "It can be switched on after an admin has signed in through the connection"


@pytest.fixture
def org(mail_app, factory, dbsession, oidc_idp, smtp_server):
    """Example AB: two admins and a member, the Single Sign On trial started by an admin,
    connected to the provider, example.se verified; the app sends mail to ``smtp_server``."""
    install_provider(mail_app)
    company = factory.company("Example AB")
    # everyone reads English, so the mails can be compared with the source strings
    admin = factory.user("admin@example.se", company=company, role="admin", locale="en")
    boss = factory.user("boss@example.se", company=company, role="admin", locale="en")
    anna = factory.user("anna@example.se", company=company, locale="en")
    admin_browser = browser(mail_app)
    sign_in_with_password(admin_browser, admin.email, factory.password)
    activate_sso(admin_browser, company)
    connect(mail_app, dbsession, company, oidc_idp)
    add_verified_domain(dbsession, company, "example.se")
    for key in ("admin", "boss", "anna"):
        add_person(oidc_idp, key, f"{key}@example.se")
    # the boss is the break-glass admin, with a second factor: "Require from all" needs one
    dbsession.add(BreakGlassAdmin(company_id=company.id, user_id=boss.id))
    boss_secret = add_totp(mail_app, dbsession, boss)
    yield SimpleNamespace(app=mail_app, company=company, admin=admin, boss=boss, anna=anna,
                          browser=admin_browser, idp=oidc_idp, smtp=smtp_server,
                          password=factory.password, boss_secret=boss_secret)
    uninstall_provider(mail_app)  # the app serves the next tests too


def policy(dbsession, company):
    dbsession.expire_all()
    return dbsession.get(CompanyPolicy, company.id)


def password_allowed(dbsession, company) -> bool:
    row = policy(dbsession, company)
    return row is None or row.password_allowed


def require_all_section(org):
    return org.browser.get(tab_path(org.company)).html.find(id="sso-require-all")


def switch_on(org, status=303):
    return act(org.browser, org.company, "require-all", status=status, on="1")


def tested_and_required(org):
    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    switch_on(org)


def run_jobs(org):
    return Worker(org.app.registry).run_once()


def subjects(smtp, address):
    return [message["Subject"] for message in smtp.to(address)]


def add_totp(app, dbsession, user) -> str:
    secret = pyotp.random_base32()
    dbsession.add(TotpCredential(user_id=user.id, confirmed_at=utcnow(), last_used_step=0,
                                 secret_encrypted=app.registry["crypto"].encrypt(secret)))
    dbsession.commit()
    return secret


def steady_step(clock, margin: float = 4.0) -> int:
    """The current TOTP step, the ``clock`` moved on to the next one when this one is about
    to end."""
    left = 30 - time.time() % 30
    if left < margin:
        clock.shift(left + 0.05)
    return int(time.time() // 30)


# -- switching it on -----------------------------------------------------------------

def test_it_cannot_be_switched_on_before_an_admin_signed_in_through_the_connection(
        org, dbsession):
    section = require_all_section(org)
    assert NEEDS_TEST in section.find(id="require-all-needs-test").text
    assert section.find("button", class_="primary").has_attr("disabled")
    page = switch_on(org, status=400)  # a forged POST, the button being disabled
    assert any("An admin must sign in through the connection" in m for m in messages(page))
    assert connection(dbsession, org.company).require_all is False
    assert password_allowed(dbsession, org.company)
    assert "sso.require_all_switched" not in audit_actions(dbsession)


def test_it_cannot_be_switched_on_without_a_connection(mail_app, factory, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    testapp = browser(mail_app)
    sign_in_with_password(testapp, admin.email, factory.password)
    activate_sso(testapp, company)
    page = act(testapp, company, "require-all", status=400, on="1")
    assert "Set up the connection to your identity provider first." in messages(page)
    assert policy(dbsession, company) is None


def test_an_admins_test_sign_in_allows_it_and_a_change_of_the_connection_undoes_that(
        org, dbsession):
    # a member signing in at the provider during the admin's test does not count
    page = try_connection(org.browser, org.company, org.idp, "anna", status=303)
    assert connection(dbsession, org.company).admin_tested_at is None
    org.browser = browser(org.app)
    sign_in_with_password(org.browser, org.admin.email, org.password)

    page = try_connection(org.browser, org.company, org.idp, "admin", status=303).follow()
    assert "The connection works: you signed in through Single Sign On." in messages(page)
    section = page.html.find(id="sso-require-all")
    assert section.find(id="require-all-needs-test") is None
    assert section.find(attrs={"data-confirm": "require-all-dialog"})  # asks, then switches on
    [tested] = audit_events(dbsession, "sso.tested")
    assert tested.actor_id == org.admin.id

    save_connection(org.browser, org.company, issuer=org.idp.base_url,
                    client_id=org.idp.client_id, client_secret="")
    assert NEEDS_TEST in require_all_section(org).text
    switch_on(org, status=400)
    assert connection(dbsession, org.company).require_all is False

    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    page = switch_on(org).follow()
    assert any("Single Sign On is now required from all" in m for m in messages(page))
    assert page.html.find(id="require-all-state")
    assert connection(dbsession, org.company).require_all is True
    assert not password_allowed(dbsession, org.company)
    [switched] = audit_events(dbsession, "sso.require_all_switched")
    assert (switched.actor_id, switched.details) == (org.admin.id, {"on": True})


BREAK_GLASS_NEEDED = ("Choose at least one break-glass admin who has two-factor authentication "
                      "turned on (under Security) first.")


def test_it_needs_a_break_glass_admin_with_a_second_factor_and_the_page_says_why(org, dbsession):
    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    # the boss is no break-glass admin any more: nobody could sign in if the provider failed
    dbsession.execute(delete(BreakGlassAdmin))
    dbsession.commit()
    section = require_all_section(org)
    assert BREAK_GLASS_NEEDED in section.find(id="require-all-needs-break-glass").text
    assert section.find(attrs={"data-confirm": "require-all-dialog"}) is None
    assert section.find("button", string="Require Single Sign On from all").has_attr("disabled")
    page = switch_on(org, status=400)  # a forged request
    assert any(BREAK_GLASS_NEEDED in message for message in messages(page))
    assert password_allowed(dbsession, org.company)
    # a break-glass admin without a second factor is not enough either
    dbsession.add(BreakGlassAdmin(company_id=org.company.id, user_id=org.admin.id))
    dbsession.commit()
    assert any(BREAK_GLASS_NEEDED in message for message in messages(switch_on(org, status=400)))
    # with one, the tab asks before switching it on, and then it is on
    dbsession.add(BreakGlassAdmin(company_id=org.company.id, user_id=org.boss.id))
    dbsession.commit()
    section = require_all_section(org)
    assert section.find(id="require-all-needs-break-glass") is None
    dialog = section.find("dialog", id="require-all-dialog")
    assert "only sign in through your identity provider" in dialog.text
    asked = org.browser.get(section.find(attrs={"data-confirm": "require-all-dialog"})["href"])
    assert "only sign in through your identity provider" in asked.html.find(id="confirmation").text
    assert password_allowed(dbsession, org.company)  # asking changes nothing
    switch_on(org)
    assert not password_allowed(dbsession, org.company)


def test_it_needs_a_verified_domain_and_keeps_the_last_one(org, dbsession):
    """People reach Single Sign On by their domain: without one, everybody would be locked out."""
    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    [domain_id] = [i["value"] for i in org.browser.get(tab_path(org.company)).html.find(
        id="sso-domains").find_all("input", attrs={"name": "domain_id"})]
    act(org.browser, org.company, "domain-remove", domain_id=domain_id)
    section = require_all_section(org)
    assert section.find(id="require-all-needs-domain")
    assert section.find("button", class_="primary").has_attr("disabled")
    page = switch_on(org, status=400)
    assert any("Verify your mail domain first" in m for m in messages(page))
    assert password_allowed(dbsession, org.company)

    add_verified_domain(dbsession, org.company, "example.se")
    switch_on(org)
    [domain_id] = [i["value"] for i in org.browser.get(tab_path(org.company)).html.find(
        id="sso-domains").find_all("input", attrs={"name": "domain_id"})]
    page = act(org.browser, org.company, "domain-remove", status=400, domain_id=domain_id)
    assert any("Stop requiring Single Sign On first" in m for m in messages(page))
    dbsession.expire_all()
    assert dbsession.get(VerifiedDomain, int(domain_id)) is not None


# -- once it is on -----------------------------------------------------------------------

def test_password_sign_in_of_a_member_is_refused_and_sso_works(org, dbsession):
    tested_and_required(org)
    page = sign_in_with_password(browser(org.app), org.anna.email, org.password, status=403)
    assert SSO_ONLY in messages(page)
    # leaving the password empty sends the member to the provider instead
    member = browser(org.app)
    form = member.get("/login").forms["login-form"]
    form["email"] = org.anna.email
    start = form.submit(status=303)
    assert start.location.startswith(org.idp.base_url)
    sso_sign_in(member, org.idp, "anna", status=303)
    member.get(f"/c/{org.company.id}/", status=200)


def ask_for_reset(testapp, email):
    form = testapp.get("/password/forgot").forms["forgot-form"]
    form["email"] = email
    form.submit(status=200)


def test_password_reset_sends_nothing(org, dbsession):
    # before: a reset link is mailed (so the silence below is the protection, not a fault)
    stranger = browser(org.app)
    ask_for_reset(stranger, org.anna.email)
    run_jobs(org)
    [mailed] = org.smtp.to(org.anna.email)
    tested_and_required(org)
    org.smtp.clear()
    ask_for_reset(stranger, org.anna.email)
    run_jobs(org)
    assert org.smtp.to(org.anna.email) == []
    [refused] = audit_events(dbsession, "account.password_reset_refused_sso_required")
    assert refused.actor_id == org.anna.id
    # and the link mailed before it was switched on no longer sets a password
    form = stranger.get(urlsplit(link_in(mailed)).path).forms["reset-form"]
    form["new"] = form["repeat"] = "a new and rather long passphrase 42"
    form.submit(status=403)
    assert "account.password_reset" not in audit_actions(dbsession)


def test_local_sessions_of_members_are_refused_on_company_pages(org, dbsession, clock):
    # signed in with password (and with password + TOTP) before it was switched on
    by_password = browser(org.app)
    sign_in_with_password(by_password, org.anna.email, org.password)
    admin_secret = add_totp(org.app, dbsession, org.admin)  # not a break-glass admin
    by_totp = browser(org.app)
    sign_in_with_password(by_totp, org.admin.email, org.password)
    form = by_totp.get("/login/verify").forms["verify-form"]
    form["code"] = pyotp.TOTP(admin_secret).at(steady_step(clock) * 30)
    form.submit(status=303)
    for testapp in (by_password, by_totp):
        testapp.get(f"/c/{org.company.id}/", status=200)
    tested_and_required(org)
    for testapp in (by_password, by_totp):
        page = testapp.get(f"/c/{org.company.id}/", status=403)
        assert "requires its people to sign in through Single Sign On" in page.text
    assert len(audit_events(dbsession, "session.refused_by_policy")) == 2
    org.browser.get(f"/c/{org.company.id}/", status=200)  # the admin proved SSO in the test


def test_break_glass_admins_keep_password_and_totp_and_every_use_is_told(org, dbsession, clock):
    secret = org.boss_secret
    tested_and_required(org)
    run_jobs(org)
    org.smtp.clear()
    step = steady_step(clock)
    for use, code_step in enumerate((step - 1, step), start=1):
        testapp = browser(org.app)
        sign_in_with_password(testapp, org.boss.email, org.password)
        form = testapp.get("/login/verify").forms["verify-form"]
        form["code"] = pyotp.TOTP(secret).at(code_step * 30)
        form.submit(status=303)
        testapp.get(f"/c/{org.company.id}/", status=200)
        testapp.get(f"/c/{org.company.id}/settings/modules", status=200)
        used = audit_events(dbsession, "policy.break_glass_used")
        assert [(event.actor_id, event.company_id) for event in used] == [
            (org.boss.id, org.company.id)] * use
        run_jobs(org)
        # the watch over the trail alerts every admin, the break-glass admin too
        for admin in (org.admin, org.boss):
            assert [subject for subject in subjects(org.smtp, admin.email)
                    if "break-glass" in subject] == ["Security alert at Example AB: A break-glass sign-in"] * use
    # a member who is no break-glass admin has no such path
    sign_in_with_password(browser(org.app), org.anna.email, org.password, status=403)


def test_a_break_glass_admin_reaches_the_password_step_through_the_form(org, clock):
    """While the identity provider is down: the sign-in page's password step, asked for."""
    tested_and_required(org)
    testapp = browser(org.app)
    form = testapp.get("/login?with=password").forms["login-form"]
    form["email"] = org.boss.email
    form = form.submit(status=200).forms["login-form"]
    form["password"] = org.password
    assert form.submit(status=303).location.endswith("/login/verify")
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = pyotp.TOTP(org.boss_secret).at(steady_step(clock) * 30)
    form.submit(status=303)
    testapp.get(f"/c/{org.company.id}/", status=200)


def test_switching_it_off_opens_passwords_again(org, dbsession):
    tested_and_required(org)
    act(org.browser, org.company, "require-all", on="0")
    assert password_allowed(dbsession, org.company)
    assert connection(dbsession, org.company).require_all is False
    sign_in_with_password(browser(org.app), org.anna.email, org.password)
    assert [e.details for e in audit_events(dbsession, "sso.require_all_switched")] == [
        {"on": True}, {"on": False}]


# -- when the module lapses ---------------------------------------------------------------

def test_an_ended_trial_never_locks_anyone_out_and_buying_restores_it(org, dbsession):
    tested_and_required(org)
    run_jobs(org)
    org.smtp.clear()
    set_module(dbsession, org.company, ModuleState.trial, dt.timedelta(minutes=-1))
    # the trial is over, the expiry job has not run: Single Sign On still starts
    member = browser(org.app)
    sso_sign_in(member, org.idp, "anna", status=303)
    member.get(f"/c/{org.company.id}/", status=200)

    result = run_jobs(org)
    assert "modules.expire_trials" in result["periodic"]
    assert password_allowed(dbsession, org.company)
    [suspended] = audit_events(dbsession, "sso.require_all_suspended")
    assert (suspended.company_id, suspended.actor_id) == (org.company.id, None)  # the job
    for admin in (org.admin, org.boss):
        assert subjects(org.smtp, admin.email) == [
            "Single Sign On is no longer required at Example AB"]
    assert org.smtp.to(org.anna.email) == []
    # and in the bell of each admin, linking to the Modules page
    told = dbsession.scalars(select(Notification).where(Notification.kind == "sso")).all()
    assert sorted(n.user_id for n in told) == sorted([org.admin.id, org.boss.id])
    assert {n.link for n in told} == {f"/c/{org.company.id}/settings/modules"}
    by_password = browser(org.app)
    sign_in_with_password(by_password, org.anna.email, org.password)
    by_password.get(f"/c/{org.company.id}/", status=200)
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)  # and SSO still works

    org.browser.post(f"/c/{org.company.id}/settings/modules/sso/buy", {
        "csrf_token": org.browser.get(f"/c/{org.company.id}/settings/modules").html.find(
            attrs={"name": "csrf_token"})["value"]}, status=303)
    assert not password_allowed(dbsession, org.company)
    [restored] = audit_events(dbsession, "sso.require_all_restored")
    assert (restored.company_id, restored.actor_id) == (org.company.id, org.admin.id)
    page = sign_in_with_password(browser(org.app), org.anna.email, org.password, status=403)
    assert SSO_ONLY in messages(page)
    by_password.get(f"/c/{org.company.id}/", status=403)


def test_deactivating_the_module_suspends_it(org, dbsession):
    tested_and_required(org)
    run_jobs(org)
    org.smtp.clear()
    act_path = f"/c/{org.company.id}/settings/modules/sso/deactivate"
    token = org.browser.get(f"/c/{org.company.id}/settings/modules").html.find(
        attrs={"name": "csrf_token"})["value"]
    org.browser.post(act_path, {"csrf_token": token}, status=303)
    assert password_allowed(dbsession, org.company)
    assert audit_actions(dbsession, org.company)[-2:] == ["module.deactivated",
                                                          "sso.require_all_suspended"]
    assert audit_events(dbsession, "sso.require_all_suspended")[0].actor_id == org.admin.id
    run_jobs(org)
    assert subjects(org.smtp, org.boss.email) == ["Single Sign On is no longer required at Example AB"]
    sign_in_with_password(browser(org.app), org.anna.email, org.password)
