"""The mypages-sso-azure distribution: found through its entry point, offering Microsoft
Entra ID to the Single Sign On tab in every language, with the settings Entra ID needs
for OpenID Connect and for SAML, and Entra's claims made into identities."""
from __future__ import annotations

import json
from importlib.metadata import entry_points

import pytest
from sqlalchemy import select

from mypages.sso.models import SsoConnection
from mypages_devtools.fakes.oidc_provider import azure_user
from mypages.testing.outbound import Routes
from mypages.testing.plugin import csrf_token, sessions_of, sign_in
from mypages.testing.saml import WsgiServer
from mypages.testing.sso import (AZURE_TENANT, LiveServer, add_verified_domains, azure_values,
                                 connect, enable_sso_module, sso_sign_in)
from mypages.toolkit import FederatedIdentity, SsoRejected
from mypages_sso_azure.provider import (SAML_EMAIL, SAML_GROUPS, SAML_GROUPS_LINK, SAML_NAME,
                                        SAML_OBJECT_ID, SAML_TENANT, EntraId)

OID = "0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01"


def test_the_distribution_offers_the_provider_through_its_entry_point(app):
    [point] = [ep for ep in entry_points(group="mypages.plugins") if ep.name == "sso_azure"]
    module = point.load()
    assert module.__name__ == "mypages_sso_azure" and module.mypages_hookspec == "2.1"
    provider = app.registry["sso.providers"]["azure"]
    assert isinstance(provider, EntraId) and provider.protocols == ("oidc", "saml")
    method = app.registry["accounts.login_methods"]["sso:azure"]
    assert method.is_mfa and not method.is_local


@pytest.mark.parametrize("locale, label, title", [
    ("sv", "Katalog-ID (klientorganisation)", "Microsoft Entra ID"),
    ("fi", "Hakemiston (vuokraajan) tunnus", "Microsoft Entra ID"),
    ("en", "Directory (tenant) ID", "Microsoft Entra ID"),
])
def test_the_tab_shows_the_settings_in_the_persons_language(testapp, factory, dbsession,
                                                            signed_in, locale, label, title):
    company = factory.company()
    enable_sso_module(dbsession, company)
    signed_in(factory.user(company=company, role="admin", locale=locale))
    page = testapp.get(f"/c/{company.id}/settings/sso", {"provider": "azure", "protocol": "oidc"})
    assert title in page.text
    assert page.html.find("label", attrs={"for": "field-tenant_id"}).text.strip() == label
    assert page.html.find(id="field-client_secret")["type"] == "password"


def fields(protocol):
    return [f.name for f in EntraId().settings() if protocol in f.protocols]


def test_oidc_and_saml_have_their_own_fields():
    assert fields("oidc") == ["tenant_id", "client_id", "client_secret", "authority", "graph_url"]
    assert fields("saml") == ["tenant_id", "idp_metadata_url", "idp_metadata_xml",
                              "email_verified_by_idp"]
    assert [f.name for f in EntraId().settings() if f.secret] == ["client_secret"]


@pytest.mark.parametrize("values, problems", [
    ({"tenant_id": AZURE_TENANT, "client_id": "c", "client_secret": "s"}, 0),
    ({"tenant_id": AZURE_TENANT.upper(), "client_id": "c", "client_secret": "s"}, 0),
    ({"tenant_id": "common", "client_id": "c", "client_secret": "s"}, 1),
    ({"tenant_id": "contoso.onmicrosoft.com", "client_id": "c", "client_secret": "s"}, 1),
    ({"tenant_id": AZURE_TENANT, "client_id": "c", "client_secret": "s",
      "authority": "https://login.microsoftonline.us"}, 0),
    ({"tenant_id": AZURE_TENANT, "client_id": "c", "client_secret": "s",
      "authority": "http://login.example"}, 1),
    ({"tenant_id": AZURE_TENANT, "client_id": "c", "client_secret": "s",
      "graph_url": "http://127.0.0.1:8080"}, 0),
    ({"tenant_id": AZURE_TENANT, "idp_metadata_url":
      "https://login.microsoftonline.com/x/federationmetadata/2007-06/federationmetadata.xml?appid=1"}, 0),
    ({"tenant_id": AZURE_TENANT, "idp_metadata_xml": "<EntityDescriptor/>"}, 0),
    ({"tenant_id": AZURE_TENANT}, 1),
])
def test_settings_are_checked(app, values, problems):
    assert len(app.registry["sso.providers"]["azure"].check_settings(values)) == problems


def test_the_discovery_document_is_the_tenants_own():
    assert EntraId().discovery_url({"tenant_id": AZURE_TENANT}) == (
        f"https://login.microsoftonline.com/{AZURE_TENANT}/v2.0/.well-known/openid-configuration")
    assert EntraId().discovery_url({"tenant_id": AZURE_TENANT,
                                    "authority": "https://login.microsoftonline.us/"}) == (
        f"https://login.microsoftonline.us/{AZURE_TENANT}/v2.0/.well-known/openid-configuration")


def test_a_multi_tenant_discovery_issuer_takes_the_tenant_of_the_token():
    issuer = "https://login.microsoftonline.com/{tenantid}/v2.0"
    claims = {"tid": AZURE_TENANT, "iss": f"https://login.microsoftonline.com/{AZURE_TENANT}/v2.0"}
    EntraId().check_issuer({"tenant_id": AZURE_TENANT}, issuer, claims)
    with pytest.raises(SsoRejected) as refused:
        EntraId().check_issuer({"tenant_id": "f8cdef31-a31e-4b4a-93e4-5f571e91255a"}, issuer, claims)
    assert refused.value.reason == "tenant-mismatch"


def saml_attributes(**changes):
    attributes = {SAML_TENANT: [AZURE_TENANT], SAML_OBJECT_ID: [OID], SAML_NAME: ["Anna Andersson"],
                  SAML_EMAIL: ["anna@example.se"], SAML_GROUPS: ["g-1", "g-2"],
                  "nameid": "anna@example.se"}
    attributes.update(changes)
    return {name: value for name, value in attributes.items() if value is not None}


def test_a_saml_assertion_is_keyed_on_tenant_and_object_id():
    identity = EntraId().identity({"tenant_id": AZURE_TENANT}, saml_attributes(), None, "saml")
    assert identity == FederatedIdentity(subject=f"{AZURE_TENANT}:{OID}", email="anna@example.se",
                                         email_verified=False, name="Anna Andersson",
                                         groups=("g-1", "g-2"))


@pytest.mark.parametrize("changes, reason", [
    ({SAML_TENANT: ["f8cdef31-a31e-4b4a-93e4-5f571e91255a"]}, "tenant-mismatch"),
    ({SAML_OBJECT_ID: None}, "missing-oid"),
])
def test_a_saml_assertion_of_another_tenant_or_without_object_id_is_refused(changes, reason):
    with pytest.raises(SsoRejected) as refused:
        EntraId().identity({"tenant_id": AZURE_TENANT}, saml_attributes(**changes), None, "saml")
    assert refused.value.reason == reason


def test_a_saml_email_is_vouched_only_when_the_admin_says_entra_verifies_it():
    unticked = EntraId().identity({"tenant_id": AZURE_TENANT}, saml_attributes(), None, "saml")
    ticked = EntraId().identity({"tenant_id": AZURE_TENANT, "email_verified_by_idp": "yes"},
                                saml_attributes(), None, "saml")
    assert (unticked.email_verified, ticked.email_verified) == (False, True)


def test_saml_group_overage_is_unknown_groups_with_a_warning():
    identity = EntraId().identity({"tenant_id": AZURE_TENANT}, saml_attributes(**{
        SAML_GROUPS: None, SAML_GROUPS_LINK: ["https://graph.windows.net/x/users/y/getMemberObjects"]}),
        None, "saml")
    assert identity.groups is None and identity.groups_warning


class Graph:
    """A Graph-like endpoint whose next page lives on another host."""

    def __init__(self, next_link):
        self.next_link, self.requests = next_link, []

    def __call__(self, environ, start_response):
        self.requests.append(environ.get("HTTP_AUTHORIZATION"))
        page = {"value": [{"@odata.type": "#microsoft.graph.group", "id": "g-1"}]}
        if self.next_link:
            page["@odata.nextLink"] = self.next_link
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(page).encode()]


def test_the_access_token_goes_to_the_graph_host_only(app):
    elsewhere = LiveServer(lambda base: Graph(None)).start()
    graph = LiveServer(lambda base: Graph(elsewhere.base_url + "/v1.0/steal")).start()
    try:
        groups = app.registry["sso.providers"]["azure"].read_groups(
            {"graph_url": graph.base_url}, {}, "the-access-token")
    finally:
        graph.stop()
        elsewhere.stop()
    assert groups is None  # not the first page alone either: that would drop groups
    assert graph.app.requests == ["Bearer the-access-token"] and elsewhere.app.requests == []


def test_a_failing_graph_leaves_the_groups_unknown(app):
    provider = app.registry["sso.providers"]["azure"]
    assert provider.read_groups({"graph_url": "http://127.0.0.1:9"}, {}, "token") is None
    assert provider.read_groups({}, {}, "token") is None


def test_a_whole_sign_in_through_the_plugin(app, testapp, factory, dbsession, azure_idp):
    company = factory.company()
    enable_sso_module(dbsession, company)
    add_verified_domains(dbsession, company, "example.se")
    user = factory.user("anna@example.se", company=company)
    azure_idp.add_user(azure_user(AZURE_TENANT, OID, "anna@example.se", xms_edov=True))
    connect(app, dbsession, company, "azure", *azure_values(azure_idp))
    done = sso_sign_in(testapp, "anna@example.se", status=303)
    assert done.location.endswith(f"/c/{company.id}/")
    assert testapp.get(done.location).status_int == 200
    [session] = sessions_of(dbsession, user)
    assert list(session.amr) == ["sso:azure", f"via:{company.id}"]


# -- SAML: the federation metadata is read when the connection is saved ---------------------

@pytest.fixture
def saml_admin(testapp, factory, dbsession):
    """(testapp, company) of an admin with the Single Sign On trial, who reads English."""
    company = factory.company()
    enable_sso_module(dbsession, company)
    admin = factory.user(company=company, role="admin", locale="en")
    sign_in(testapp, admin.email)
    return testapp, company


def save_saml(saml_admin, **values):
    testapp, company = saml_admin
    token = csrf_token(testapp, f"/c/{company.id}/settings/sso")
    return testapp.post(f"/c/{company.id}/settings/sso/save",
                        {"csrf_token": token, "provider": "azure", "protocol": "saml",
                         "tenant_id": AZURE_TENANT, **values}, expect_errors=True)


def shown_errors(page) -> list[str]:
    """The form's errors: a paragraph for one, a list for several."""
    items = page.html.select("ul.error li") or page.html.select("p.error")
    return [" ".join(item.text.split()) for item in items]


def test_the_federation_metadata_is_read_when_saved(saml_admin, dbsession, saml_idp):
    tenant = Routes()
    tenant.serve("/federationmetadata.xml", saml_idp.metadata())
    server = WsgiServer(tenant).start()
    try:
        url = server.url + "/federationmetadata.xml"
        saved = save_saml(saml_admin, idp_metadata_url=url)
    finally:
        server.stop()
    assert saved.status_int == 303, shown_errors(saved)
    assert tenant.asked == ["/federationmetadata.xml"]
    connection = dbsession.scalars(select(SsoConnection)).one()
    assert (connection.provider, connection.protocol) == ("azure", "saml")
    assert connection.settings == {"tenant_id": AZURE_TENANT, "idp_metadata_url": url}


@pytest.mark.parametrize("values, message", [
    ({"idp_metadata_url": "{idp}/nothing"}, "The metadata URL answered with status 404."),
    ({"idp_metadata_url": "http://127.0.0.1:9/federationmetadata.xml"},
     "127.0.0.1 could not be reached."),
    ({"idp_metadata_xml": "<EntityDescriptor/>"},
     "The metadata describes no SAML identity provider."),
    ({"idp_metadata_xml": "not xml at all"}, "The metadata is not valid XML"),
    ({"idp_metadata_url": "{idp}/metadata", "idp_metadata_xml": "<EntityDescriptor/>"},
     "Give either the metadata URL or the metadata XML, not both."),
])
def test_federation_metadata_that_does_not_work_is_refused(saml_admin, dbsession, saml_idp,
                                                          values, message):
    values = {name: value.format(idp=saml_idp.base_url) for name, value in values.items()}
    refused = save_saml(saml_admin, **values)
    assert refused.status_int == 400
    assert any(error.startswith(message) for error in shown_errors(refused)), shown_errors(refused)
    assert dbsession.scalars(select(SsoConnection)).all() == []


def test_the_refusal_is_in_the_admins_language(testapp, factory, dbsession, saml_idp):
    company = factory.company()
    enable_sso_module(dbsession, company)
    admin = factory.user(company=company, role="admin", locale="sv")
    sign_in(testapp, admin.email)
    refused = save_saml((testapp, company), idp_metadata_url="http://127.0.0.1:9/metadata.xml")
    assert shown_errors(refused) == ["127.0.0.1 gick inte att nå."]
