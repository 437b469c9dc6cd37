"""Enterprise SSO expectations (identity-security.md; Keycloak Organizations, WorkOS, Auth0
Organizations): domain proof, identifier-first routing with every local path closed, JIT and
linking only with proof, group mapping that also removes, and no lock-out.

Domains are proved against a real DNS server, sign-ins go through a real OpenID Connect
provider (pyop) over HTTP and the real callback, mail through a real SMTP server."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from mypages.accounts.models import User, UserSession
from mypages.companies.models import Group, GroupMember
from mypages.policy.models import BreakGlassAdmin
from mypages.jobs import Worker
from mypages.modules.models import ModuleState
from mypages.policy.models import BreakGlassAdmin
from mypages.sso.models import SsoLink, VerifiedDomain
from tests.core.sso.enterprise_support import (act, activate_sso, add_person,  # noqa: F401
                                               add_verified_domain, audit_events, browser,
                                               connect, connection, dns_admin, fake_idp, messages,
                                               oidc_idp, refusal, set_module,
                                               sign_in_with_password, sso_sign_in, tab_path,
                                               try_connection)
from tests.security.support import add_totp, code_at, count, run_jobs, steady_step

SSO_ONLY = ("Your company requires sign-in through Single Sign On. "
            "Password sign-in is closed for your account.")


@pytest.fixture
def org(app, factory, dbsession, fake_idp, oidc_idp):
    """Example AB: Single Sign On trial, connected to the provider, example.se verified;
    an admin (signed in with a password) and a member with a local password."""
    company = factory.company("Example AB")
    admin = factory.user("admin@example.se", company=company, role="admin", locale="en")
    anna = factory.user("anna@example.se", company=company, locale="en")
    admin_browser = browser(app)
    sign_in_with_password(admin_browser, admin.email, factory.password)
    activate_sso(admin_browser, company)
    connect(app, dbsession, company, oidc_idp)
    add_verified_domain(dbsession, company, "example.se")
    add_person(oidc_idp, "admin", "admin@example.se")
    # "Require from all" needs a break-glass admin with a second factor
    keeper = factory.user("keeper@example.se", company=company, role="admin", locale="en")
    dbsession.add(BreakGlassAdmin(company_id=company.id, user_id=keeper.id))
    add_totp(app, dbsession, keeper)
    return SimpleNamespace(app=app, company=company, admin=admin, anna=anna, idp=oidc_idp,
                           browser=admin_browser, password=factory.password)


def require_all(org):
    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    act(org.browser, org.company, "require-all", on="1")


def assert_refused_without_session(page, reason, dbsession, sessions_before):
    """A clear refusal, an audit event with the reason, and no session."""
    assert page.status_int == 403 and refusal(page) == f"sso-{reason}"
    assert page.html.find(attrs={"role": "alert"}).text.strip()
    assert audit_events(dbsession, "sso.rejected")[-1].details == {"reason": reason}
    assert count(dbsession, UserSession) == sessions_before


def links(dbsession):
    dbsession.expire_all()
    return dbsession.execute(select(SsoLink.subject, SsoLink.user_id)).all()


# -- domain claims need proof; one company a domain; no consumer domains ----------------------

def claim(testapp, company, domain, status=303):
    return act(testapp, company, "domain-add", status=status, domain=domain)


def claimed(dbsession, domain):
    dbsession.expire_all()
    return dbsession.scalars(select(VerifiedDomain).where(VerifiedDomain.domain == domain)
                             ).one_or_none()


def test_a_domain_is_not_verified_without_its_txt_record(dns_admin, dns_server, dbsession):
    testapp, company = dns_admin
    claim(testapp, company, "example.se")
    row = claimed(dbsession, "example.se")
    # records that are not the proof: another value, the right value at another name
    dns_server.add_txt("_mypages-verification.example.se", "mypages-verification=guess")
    dns_server.add_txt("example.se", f"mypages-verification={row.token}")
    dns_server.add_txt("_mypages-verification.other.se", f"mypages-verification={row.token}")
    act(testapp, company, "domain-verify", domain_id=str(row.id))
    assert claimed(dbsession, "example.se").verified_at is None
    assert audit_events(dbsession, "sso.domain_not_verified")


def test_an_old_proof_does_not_verify_a_new_claim(dns_admin, dns_app, dns_server, factory,
                                                  dbsession):
    """The record proves one claim (its random token), not the domain for ever."""
    testapp, company = dns_admin
    claim(testapp, company, "example.se")
    row = claimed(dbsession, "example.se")
    dns_server.add_txt("_mypages-verification.example.se", f"mypages-verification={row.token}")
    act(testapp, company, "domain-verify", domain_id=str(row.id))
    act(testapp, company, "domain-remove", domain_id=str(row.id))
    other = factory.company("Other AB")
    other_admin = factory.user("admin@other.se", company=other, role="admin")
    rival = browser(dns_app)
    sign_in_with_password(rival, other_admin.email, factory.password)
    activate_sso(rival, other)
    claim(rival, other, "example.se")
    row = claimed(dbsession, "example.se")
    act(rival, other, "domain-verify", domain_id=str(row.id))
    assert claimed(dbsession, "example.se").verified_at is None


def test_a_domain_belongs_to_one_company(dns_admin, dns_app, dns_server, factory, dbsession):
    testapp, company = dns_admin
    claim(testapp, company, "example.se")
    row = claimed(dbsession, "example.se")
    dns_server.add_txt("_mypages-verification.example.se", f"mypages-verification={row.token}")
    act(testapp, company, "domain-verify", domain_id=str(row.id))
    other = factory.company("Other AB")
    other_admin = factory.user("admin@other.se", company=other, role="admin")
    rival = browser(dns_app)
    sign_in_with_password(rival, other_admin.email, factory.password)
    activate_sso(rival, other)
    page = claim(rival, other, "Example.se", status=400)
    assert "example.se is claimed by another company." in messages(page)
    act(rival, other, "domain-verify", status=400, domain_id=str(row.id))
    assert claimed(dbsession, "example.se").company_id == company.id


@pytest.mark.parametrize("domain", ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com",
                                    "icloud.com", "live.se"])
def test_consumer_domains_cannot_be_claimed(app, org, dbsession, domain):
    page = act(org.browser, org.company, "domain-add", status=400, domain=domain)
    assert f"{domain} is a public mail service" in " ".join(messages(page))
    assert claimed(dbsession, domain) is None


# -- identifier-first routing; "Require from all" closes every local path --------------------

def test_a_user_with_a_local_password_is_routed_to_the_provider(org):
    """keycloak#39033: users with a local password were not redirected."""
    form = browser(org.app).get("/login").forms["login-form"]
    form["email"] = org.anna.email
    assert form.submit(status=303).location.startswith(org.idp.base_url)


def test_require_all_closes_password_sign_in(org, dbsession):
    require_all(org)
    sessions = count(dbsession, UserSession)
    page = sign_in_with_password(browser(org.app), org.anna.email, org.password, status=403)
    assert SSO_ONLY in messages(page)
    assert audit_events(dbsession, "account.password_refused_sso_required")
    assert count(dbsession, UserSession) == sessions


def test_require_all_closes_password_reset(org, dbsession, mailbox):
    require_all(org)
    form = browser(org.app).get("/password/forgot").forms["forgot-form"]
    form["email"] = org.anna.email
    form.submit(status=200)
    run_jobs(org.app)
    assert mailbox.to(org.anna.email) == []
    assert audit_events(dbsession, "account.password_reset_refused_sso_required")


def test_require_all_closes_local_sessions_with_and_without_totp(org, dbsession, clock):
    secret = add_totp(org.app, dbsession, org.anna)
    local = browser(org.app)
    sign_in_with_password(local, org.anna.email, org.password)
    form = local.get("/login/verify").forms["verify-form"]
    form["code"] = code_at(secret, steady_step(clock))
    form.submit(status=303)
    local.get(f"/c/{org.company.id}/", status=200)
    require_all(org)
    page = local.get(f"/c/{org.company.id}/", status=403)
    assert "requires its people to sign in through Single Sign On" in page.text
    assert audit_events(dbsession, "session.refused_by_policy")


# -- JIT only for verified domains; linking only with a verified e-mail ----------------------

@pytest.mark.parametrize("email, vouched", [("new@elsewhere.se", True), ("new@example.se", False)])
def test_jit_only_for_vouched_addresses_at_verified_domains(org, dbsession, email, vouched):
    connection_row = connection(dbsession, org.company)
    connection_row.jit_enabled = True
    dbsession.commit()
    add_person(org.idp, "new", email, verified=vouched)
    sessions = count(dbsession, UserSession)
    page = sso_sign_in(browser(org.app), org.idp, "new", "new@example.se")
    assert_refused_without_session(page, "no-account", dbsession, sessions)
    assert dbsession.scalars(select(User).where(User.email == email)).first() is None


@pytest.mark.parametrize("email, vouched", [("anna@example.se", False),
                                            ("anna@partner.se", True)])
def test_linking_needs_a_vouched_address_at_a_verified_domain(org, factory, dbsession, email,
                                                              vouched):
    """keycloak#53041, CVE-2026-9087: an identity with someone's address is not that someone."""
    victim = factory.user(email, company=org.company) if email != org.anna.email else org.anna
    add_person(org.idp, "mallory", email, verified=vouched)
    sessions = count(dbsession, UserSession)
    page = sso_sign_in(browser(org.app), org.idp, "mallory", "anna@example.se")
    assert_refused_without_session(page, "link-unverified", dbsession, sessions)
    assert victim.id not in {user_id for _subject, user_id in links(dbsession)}


def test_another_subject_with_a_linked_address_never_signs_in_as_that_user(org, dbsession):
    """nOAuth: the account is keyed on the subject, the address is not a key."""
    add_person(org.idp, "anna", "anna@example.se")
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)
    add_person(org.idp, "mallory", "anna@example.se", verified=False)
    sessions = count(dbsession, UserSession)
    page = sso_sign_in(browser(org.app), org.idp, "mallory", "anna@example.se")
    assert_refused_without_session(page, "link-unverified", dbsession, sessions)
    assert [user_id for _subject, user_id in links(dbsession)] == [org.anna.id]


# -- group mapping also removes ---------------------------------------------------------------

def test_a_user_dropped_from_the_idp_group_loses_the_mapped_group(org, dbsession):
    """keycloak#36578, #13461: mapped groups were only ever added."""
    act(org.browser, org.company, "mapping-add", idp_group="g-finance", group="Finance")
    add_person(org.idp, "anna", "anna@example.se", groups=["g-finance"])
    finance = select(GroupMember).join(Group, Group.id == GroupMember.group_id).where(
        Group.name == "Finance", GroupMember.user_id == org.anna.id)
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)
    dbsession.expire_all()
    assert dbsession.scalars(finance).one_or_none() is not None
    org.idp.users["anna"]["groups"] = []
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)
    dbsession.expire_all()
    assert dbsession.scalars(finance).one_or_none() is None
    assert audit_events(dbsession, "sso.groups_changed")[-1].details["removed"] == ["Finance"]


def test_unknown_groups_are_not_treated_as_member_of_nothing(org, dbsession):
    act(org.browser, org.company, "mapping-add", idp_group="g-finance", group="Finance")
    add_person(org.idp, "anna", "anna@example.se", groups=["g-finance"])
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)
    org.idp.misbehave(groups_overage=True)
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)
    dbsession.expire_all()
    assert dbsession.scalars(select(GroupMember.user_id)).all() == [org.anna.id]
    assert audit_events(dbsession, "sso.groups_skipped")
    assert org.browser.get(tab_path(org.company)).html.find(id="groups-warning")


# -- lock-out protection ----------------------------------------------------------------------

def test_require_all_is_refused_until_an_admin_signed_in_since_the_last_change(org, dbsession):
    page = act(org.browser, org.company, "require-all", status=400, on="1")  # forged
    assert any("An admin must sign in through the connection" in m for m in messages(page))
    try_connection(org.browser, org.company, org.idp, "admin", status=303)
    row = connection(dbsession, org.company)
    row.changed_at = row.admin_tested_at + dt.timedelta(seconds=1)  # changed after the test
    dbsession.commit()
    act(org.browser, org.company, "require-all", status=400, on="1")
    assert connection(dbsession, org.company).require_all is False
    assert not audit_events(dbsession, "sso.require_all_switched")


def test_break_glass_admins_keep_password_and_totp_every_use_audited_and_announced(
        org, factory, dbsession, mailbox, clock):
    boss = factory.user("boss@example.se", company=org.company, role="admin", locale="en")
    dbsession.add(BreakGlassAdmin(company_id=org.company.id, user_id=boss.id))
    dbsession.commit()
    secret = add_totp(org.app, dbsession, boss)
    require_all(org)
    testapp = browser(org.app)
    sign_in_with_password(testapp, boss.email, org.password)
    form = testapp.get("/login/verify").forms["verify-form"]
    form["code"] = code_at(secret, steady_step(clock))
    form.submit(status=303)
    testapp.get(f"/c/{org.company.id}/", status=200)
    [used] = audit_events(dbsession, "policy.break_glass_used")
    assert used.actor_id == boss.id
    Worker(org.app.registry).run_once()  # the watch over the trail, then the mail it queued
    for admin in (org.admin, boss):  # the watch over the trail alerts every admin
        assert [m["Subject"] for m in mailbox.to(admin.email)] == [
            "Security alert at Example AB: A break-glass sign-in"]


def test_a_lapsed_module_suspends_require_all_and_never_locks_out(org, dbsession, mailbox):
    require_all(org)
    add_person(org.idp, "anna", "anna@example.se")
    set_module(dbsession, org.company, ModuleState.trial, dt.timedelta(minutes=-1))
    sso_sign_in(browser(org.app), org.idp, "anna", status=303)  # before the job: SSO works
    Worker(org.app.registry).run_once()  # the trial expiry job, then the mail it queued
    assert audit_events(dbsession, "sso.require_all_suspended")
    assert [m["Subject"] for m in mailbox.to(org.admin.email)] == [
        "Single Sign On is no longer required at Example AB"]
    sign_in_with_password(browser(org.app), org.anna.email, org.password, status=303)
