"""The offline identity providers under /_dev/: listed on the index with what to type, in the
words of each provider's own form and in the person's language; served by the application
itself; and nowhere without development features."""
from __future__ import annotations

import pytest

from mypages_devtools.fakes.saml_idp import POST_SCRIPT
from mypages_devtools.identity import AZURE_CLIENT_ID, AZURE_TENANT_ID, GOOGLE_CLIENT_ID
from tests.devtools.conftest import BASE_URL


def what_to_type(page, name: str) -> dict:
    section = page.html.find(id=f"dev-{name}")
    return {dt.text.strip(): dd.text.strip()
            for dt, dd in zip(section.find_all("dt"), section.find_all("dd"))}


def test_the_index_says_what_to_type_for_each_provider(dev_testapp):
    page = dev_testapp.get("/_dev/", headers={"Accept-Language": "en"})

    assert page.html.h1.text == "Offline stand-ins"
    entra = what_to_type(page, "azure")
    assert entra["Identity provider"] == "Microsoft Entra ID"
    assert entra["Directory (tenant) ID"] == AZURE_TENANT_ID
    assert entra["Application (client) ID"] == AZURE_CLIENT_ID
    assert entra["Authority"] == f"{BASE_URL}/_dev/azure"
    google = what_to_type(page, "google")
    assert google["Client ID"] == GOOGLE_CLIENT_ID
    assert google["Discovery document"] == f"{BASE_URL}/_dev/google/.well-known/openid-configuration"
    saml = what_to_type(page, "saml")
    assert saml["Metadata URL of the identity provider"] == f"{BASE_URL}/_dev/saml/metadata"
    assert saml["The identity provider verifies e-mail addresses"] == "Ticked"


def test_the_index_is_in_the_persons_language(dev_testapp):
    page = dev_testapp.get("/_dev/", headers={"Accept-Language": "sv"})

    assert page.html.h1.text == "Ersättningstjänster offline"
    assert page.html.find(id="dev-azure-heading").text.startswith("Microsoft Entra ID, offline")
    entra = what_to_type(page, "azure")
    assert entra["Katalog-ID (klientorganisation)"] == AZURE_TENANT_ID
    assert entra["Så kopplar du in den"].startswith("Logga in som administratör")


def test_an_openid_provider_is_served_under_its_mount(dev_testapp):
    discovery = dev_testapp.get(
        f"/_dev/azure/{AZURE_TENANT_ID}/v2.0/.well-known/openid-configuration").json

    assert discovery["issuer"] == f"{BASE_URL}/_dev/azure/{AZURE_TENANT_ID}/v2.0"
    assert discovery["token_endpoint"].startswith(f"{BASE_URL}/_dev/azure/")
    keys = dev_testapp.get(f"/_dev/azure/{AZURE_TENANT_ID}/discovery/v2.0/keys").json["keys"]
    assert keys and all("d" not in key for key in keys)  # public keys only


def test_the_saml_provider_asks_who_signs_in_and_keeps_the_request(dev_testapp):
    page = dev_testapp.get("/_dev/saml/sso", {"SAMLRequest": "abc", "RelayState": "xyz"},
                           headers={"Accept-Language": "sv"})

    form = page.forms["saml-sign-in-form"]
    assert page.html.h1.text == "Offline-SAML-identitetsleverantör"
    assert form["SAMLRequest"].value == "abc" and form["RelayState"].value == "xyz"
    assert dev_testapp.get("/_dev/saml/metadata").content_type == "application/samlmetadata+xml"


def test_the_saml_answer_is_posted_by_a_script_the_page_rules_allow(dev_testapp):
    """The answer page submits itself with the provider's own script file: the
    application's Content-Security-Policy (script-src 'self') lets it run."""
    script = dev_testapp.get("/_dev/saml/post.js")

    assert script.text == POST_SCRIPT and script.content_type == "text/javascript"
    assert "script-src 'self'" in script.headers["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/_dev/nothing-here/", "/_dev/saml/nothing-here",
                                  "/_dev/azure/nothing-here"])
def test_unknown_addresses_are_not_found(dev_testapp, path):
    dev_testapp.get(path, status=404)


@pytest.mark.parametrize("path", ["/_dev/", "/_dev/saml/metadata", "/_dev/saml/sso",
                                  f"/_dev/azure/{AZURE_TENANT_ID}/v2.0/.well-known/openid-configuration",
                                  "/_dev/google/token"])
def test_without_development_features_nothing_is_mounted(testapp, path):
    testapp.get(path, status=404)
    testapp.post(path, status=404)
