"""The mypages-sso-google distribution: Google Workspace over OpenID Connect, found through
its entry point; the hd hint, Google's issuer spellings and the identity it makes."""
from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from mypages_devtools.fakes.oidc_provider import google_user
from mypages.testing.sso import (add_verified_domains, connect, enable_sso_module, google_values,
                                 sso_sign_in)
from mypages.testing.plugin import sessions_of
from mypages.toolkit import SsoRejected
from mypages_sso_google.provider import GoogleWorkspace

DOMAINS = ("example.se", "example.org")


def test_the_distribution_offers_the_provider_through_its_entry_point(app):
    [point] = [ep for ep in entry_points(group="mypages.plugins") if ep.name == "sso_google"]
    module = point.load()
    assert module.__name__ == "mypages_sso_google" and module.mypages_hookspec == "2.0"
    provider = app.registry["sso.providers"]["google"]
    assert isinstance(provider, GoogleWorkspace) and provider.protocols == ("oidc",)
    assert app.registry["accounts.login_methods"]["sso:google"].is_mfa


def test_the_tab_shows_the_settings_in_swedish(testapp, factory, dbsession, signed_in):
    company = factory.company()
    enable_sso_module(dbsession, company)
    signed_in(factory.user(company=company, role="admin", locale="sv"))
    page = testapp.get(f"/c/{company.id}/settings/sso", {"provider": "google", "protocol": "oidc"})
    assert page.html.find("label", attrs={"for": "field-client_secret"}).text.strip() == "Klienthemlighet"
    assert "Google Workspace" in page.text


@pytest.mark.parametrize("hint, hd", [("anna@example.org", "example.org"),
                                      ("anna@gmail.com", "example.se"), (None, "example.se")])
def test_the_hd_hint_is_the_persons_verified_domain_or_the_first(hint, hd):
    params = GoogleWorkspace().authorize_params({"verified_domains": DOMAINS}, hint)
    assert params["hd"] == hd and params.get("login_hint") == hint


def test_no_hd_hint_without_verified_domains():
    assert GoogleWorkspace().authorize_params({"verified_domains": ()}, "a@example.se") == {
        "login_hint": "a@example.se"}


def test_the_discovery_document_is_googles_unless_overridden():
    assert GoogleWorkspace().discovery_url({}) == (
        "https://accounts.google.com/.well-known/openid-configuration")
    assert GoogleWorkspace().discovery_url({"discovery_url": "http://127.0.0.1:1/.well-known/"
                                                             "openid-configuration"}).startswith("http://127")


@pytest.mark.parametrize("url, ok", [
    ("https://accounts.google.com/.well-known/openid-configuration", True),
    ("http://127.0.0.1:8080/.well-known/openid-configuration", True),
    ("http://idp.example/.well-known/openid-configuration", False),
    ("https://idp.example/authorize", False),
])
def test_the_discovery_override_is_checked(url, ok):
    assert (GoogleWorkspace().check_settings({"discovery_url": url}) == []) is ok


def test_google_signs_with_either_issuer_spelling():
    for iss in ("https://accounts.google.com", "accounts.google.com"):
        GoogleWorkspace().check_issuer({}, "https://accounts.google.com", {"iss": iss})
    with pytest.raises(SsoRejected):
        GoogleWorkspace().check_issuer({}, "https://accounts.google.com", {"iss": "https://evil"})


def test_the_identity_is_keyed_on_sub_and_claims_no_groups():
    identity = GoogleWorkspace().identity({"verified_domains": DOMAINS}, {
        "sub": "1102", "email": "anna@example.se", "email_verified": True, "hd": "Example.SE",
        "name": "Anna"}, None, "oidc")
    assert (identity.subject, identity.email, identity.email_verified) == ("1102", "anna@example.se", True)
    # Google sends no groups: unknown, so mapping is skipped rather than emptied
    assert identity.groups is None and identity.groups_warning


def test_a_whole_sign_in_through_the_plugin(app, testapp, factory, dbsession, google_idp):
    company = factory.company()
    enable_sso_module(dbsession, company)
    add_verified_domains(dbsession, company, "example.se")
    user = factory.user("anna@example.se", company=company)
    google_idp.add_user(google_user("1102", "anna@example.se", hd="example.se"))
    connect(app, dbsession, company, "google", *google_values(google_idp))
    sso_sign_in(testapp, "anna@example.se", status=303)
    [session] = sessions_of(dbsession, user)
    assert list(session.amr) == ["sso:google", f"via:{company.id}"]
