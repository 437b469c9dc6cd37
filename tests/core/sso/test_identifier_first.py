"""Identifier-first sign-in: an e-mail at a verified domain of a company with Single Sign On
goes straight to that company's identity provider; everything else stays with the password."""
import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from mypages.modules.models import ModuleState
from mypages.sso.models import SsoAttempt
from mypages.testing.web import sign_in_at_once

from enterprise_support import (add_connection, add_verified_domain, audit_actions,  # noqa: F401
                                audit_events, browser, discovery_idp, fake_idp, messages,
                                set_module)


@pytest.fixture
def sso_company(app, factory, dbsession, fake_idp, discovery_idp):
    """Example AB: module on trial, connected to the provider, example.se verified."""
    company = factory.company("Example AB")
    set_module(dbsession, company)
    add_connection(dbsession, company, issuer=discovery_idp.base_url)
    add_verified_domain(dbsession, company, "example.se")
    return company


def login(testapp, email, password="", status=None):
    """The address alone (the first step of the form), or the address and the password at
    once."""
    if password:
        return sign_in_at_once(testapp, email, password, status=status)
    form = testapp.get("/login").forms["login-form"]
    form["email"] = email
    return form.submit(status=status)


def assert_password_step(page, email):
    """The password step for ``email``, as the next step, not as an error."""
    assert page.html.find(id="login-form")["data-step"] == "password"
    assert page.forms["login-form"]["email"].value == email.lower()
    assert messages(page) == [] and not page.html.select(".field-error")


def test_what_is_no_address_stays_at_the_first_step(app, sso_company, dbsession):
    page = login(browser(app), "anna", status=400)
    assert page.html.find(id="login-form")["data-step"] == "email"
    assert page.html.find(id="email")["aria-invalid"] == "true"
    assert attempts(dbsession) == 0


def test_a_break_glass_sign_in_can_ask_for_the_password_step(app, sso_company, dbsession):
    """``/login?with=password``: the password step even at a domain with Single Sign On, for
    break-glass admins while the identity provider is down."""
    testapp = browser(app)
    form = testapp.get("/login?with=password&next=/account").forms["login-form"]
    form["email"] = "anna@example.se"
    page = form.submit(status=200)
    assert_password_step(page, "anna@example.se")
    assert page.forms["login-form"]["with"].value == "password"
    assert page.html.find(id="another-address")["href"] == "/login?next=%2Faccount&with=password"
    assert attempts(dbsession) == 0


def attempts(dbsession):
    dbsession.expire_all()
    return dbsession.scalar(select(func.count()).select_from(SsoAttempt))


def assert_sent_to_provider(response, idp, email):
    assert response.status_int == 303
    location = urlsplit(response.location)
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{idp.base_url}/authorize"
    query = {name: values[0] for name, values in parse_qs(location.query).items()}
    assert query["client_id"] == "client-1" and query["login_hint"] == email
    assert query["redirect_uri"].endswith("/sso/oidc/callback")
    assert query["state"] and query["nonce"] and query["code_challenge_method"] == "S256"
    return query


def test_an_address_at_a_verified_domain_goes_to_the_companys_provider(app, sso_company,
                                                                       discovery_idp, dbsession):
    testapp = browser(app)
    response = login(testapp, "Anna@Example.SE")
    assert_sent_to_provider(response, discovery_idp, "anna@example.se")
    assert discovery_idp.hits == 1  # the location came from the provider's own discovery
    assert attempts(dbsession) == 1
    [started] = audit_events(dbsession, "sso.started")
    assert (started.company_id, started.target) == (sso_company.id, "fakeidp")


def test_sso_start_routes_by_the_email_parameter_and_keeps_only_local_next(app, sso_company,
                                                                           discovery_idp,
                                                                           dbsession):
    testapp = browser(app)
    response = testapp.get("/sso/start", {"email": "anna@example.se",
                                          "next": f"/c/{sso_company.id}/"}, status=303)
    assert_sent_to_provider(response, discovery_idp, "anna@example.se")
    testapp.get("/sso/start", {"email": "anna@example.se", "next": "https://evil.example/"},
                status=303)
    dbsession.expire_all()
    assert sorted(dbsession.scalars(select(SsoAttempt.next_url))) == ["", f"/c/{sso_company.id}/"]


@pytest.mark.parametrize("email", [
    "anna@unknown.se",        # no company claims the domain
    "anna@sub.example.se",    # a subdomain is another domain
    "anna@pending.se",        # claimed but not verified
    "anna@noconnection.se",   # verified, but that company has no connection
])
def test_other_addresses_go_on_to_the_password(app, sso_company, factory, dbsession, email):
    add_verified_domain(dbsession, sso_company, "pending.se", verified=False)
    add_verified_domain(dbsession, factory.company("No Connection AB"), "noconnection.se")
    testapp = browser(app)
    page = login(testapp, email, status=200)
    assert_password_step(page, email)
    page = testapp.get("/sso/start", {"email": email}, status=303).follow()
    assert "There is no Single Sign On for that address. Sign in with your password." in messages(page)
    assert attempts(dbsession) == 0
    assert audit_actions(dbsession, prefix="sso.") == []


@pytest.mark.parametrize("state, ends_in", [
    (ModuleState.expired, dt.timedelta(days=-1)),
    (ModuleState.inactive, dt.timedelta(days=3)),
    (ModuleState.trial, dt.timedelta(minutes=-1)),  # ended, the expiry job has not run yet
])
def test_a_company_whose_module_lapsed_is_not_routed(app, sso_company, dbsession, state,
                                                     ends_in):
    set_module(dbsession, sso_company, state, ends_in)
    testapp = browser(app)
    assert_password_step(login(testapp, "anna@example.se", status=200), "anna@example.se")
    testapp.get("/sso/start", {"email": "anna@example.se"}, status=303)
    assert attempts(dbsession) == 0


def test_routing_follows_the_module_when_it_is_bought_again(app, sso_company, discovery_idp,
                                                            dbsession):
    set_module(dbsession, sso_company, ModuleState.expired, dt.timedelta(days=-1))
    testapp = browser(app)
    login(testapp, "anna@example.se", status=200)
    set_module(dbsession, sso_company, ModuleState.active)
    assert_sent_to_provider(login(testapp, "anna@example.se"), discovery_idp, "anna@example.se")


def test_a_password_still_signs_in_where_sso_is_not_required(app, sso_company, factory):
    # typing the password means the password path, even at a domain with Single Sign On
    member = factory.user("anna@example.se", company=sso_company)
    testapp = browser(app)
    response = login(testapp, member.email, factory.password, status=303)
    assert urlsplit(response.location).netloc == "localhost"
    testapp.get(f"/c/{sso_company.id}/", status=200)


def test_an_unreachable_provider_is_a_clear_refusal(app, factory, dbsession, fake_idp):
    company = factory.company()
    set_module(dbsession, company)
    add_connection(dbsession, company, issuer="http://127.0.0.1:9")  # nothing listens there
    add_verified_domain(dbsession, company, "example.se")
    page = login(browser(app), "anna@example.se", status=403)
    assert page.html.find(attrs={"data-reason": "sso-provider-unreachable"})
    assert attempts(dbsession) == 0
    [rejected] = audit_events(dbsession, "sso.rejected")
    assert rejected.details["reason"] == "provider-unreachable"


def test_a_member_at_another_domain_reaches_the_sso_their_company_requires(
        app, sso_company, discovery_idp, factory, dbsession):
    """Require from all must not shut out members whose address is at no verified domain:
    the refusal offers Single Sign On, and it goes to their company's provider."""
    from mypages.policy.models import CompanyPolicy
    from mypages.sso.models import SsoConnection

    member = factory.user("consultant@elsewhere.example", company=sso_company)
    connection = dbsession.scalars(select(SsoConnection)).one()
    connection.require_all = True
    dbsession.add(CompanyPolicy(company_id=sso_company.id, password_allowed=False,
                                require_mfa=False, password_min_length=12))
    dbsession.commit()
    testapp = browser(app)
    refused = login(testapp, member.email, "correct horse battery staple", status=403)
    link = refused.html.find(id="sso-link")
    assert link is not None
    assert_sent_to_provider(testapp.get(link["href"]), discovery_idp, member.email)
