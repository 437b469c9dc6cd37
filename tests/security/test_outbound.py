"""Server-side request forgery: the addresses a company admin types (SAML metadata, OIDC
discovery, Microsoft Graph) are fetched by the server, which must never let them reach
loopback, private networks or the cloud's instance metadata.

The application runs under production's outbound policy (the ``strict_outbound``
fixture): https only, no internal address, names resolved through the tests' DNS server.
127.0.0.2 is let through and stands for the internet, with an https server there; the
rest of loopback stands for the internal network, where a trap counts connections.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from mypages.audit.models import AuditEvent
from mypages.sso.models import SsoConnection
from mypages.testing.plugin import csrf_token, sign_in
from mypages.testing.sso import AZURE_TENANT, enable_sso_module
from tests.security.support import browser, count

WELL_KNOWN = "/.well-known/openid-configuration"
INTERNAL = "leads to an address in a private or internal network, which cannot be fetched."


@pytest.fixture
def net(strict_outbound):
    """``idp.outbound.test`` on the allowed address, ``internal.outbound.test`` on loopback."""
    strict_outbound.dns.set_addresses("idp.outbound.test", "127.0.0.2")
    strict_outbound.dns.set_addresses("internal.outbound.test", "127.0.0.1")
    return strict_outbound


@pytest.fixture
def admin(net, factory, dbsession):
    """(browser, company): an admin of a company with the Single Sign On trial, signed in on
    the application under the production policy."""
    company = factory.company("Example AB")
    user = factory.user("admin@example.se", company=company, role="admin", locale="en")
    enable_sso_module(dbsession, company)
    testapp = browser(net.app)
    sign_in(testapp, user.email)
    return testapp, company


def save(admin, provider="saml", protocol="saml", **values):
    testapp, company = admin
    if provider == "azure":
        values.setdefault("tenant_id", AZURE_TENANT)
    token = csrf_token(testapp, f"/c/{company.id}/settings/sso")
    return testapp.post(f"/c/{company.id}/settings/sso/save",
                        {"csrf_token": token, "provider": provider, "protocol": protocol, **values},
                        expect_errors=True)


def errors(page) -> list[str]:
    return [" ".join(node.text.split()) for node in page.html.select(".error li, p.error")]


def refused(page, dbsession, message: str) -> None:
    assert page.status_int == 400, page.text[:500]
    assert any(message in error for error in errors(page)), errors(page)
    assert count(dbsession, SsoConnection) == 0


METADATA_PROVIDERS = pytest.mark.parametrize("provider", ["saml", "azure"])


@pytest.fixture
def metadata(net, saml_idp):
    """A SAML identity provider's metadata, served at the allowed address."""
    net.routes.serve("/metadata", saml_idp.metadata())
    return net


# -- what is refused ----------------------------------------------------------------------

@METADATA_PROVIDERS
def test_loopback_by_address_is_refused(net, admin, dbsession, provider):
    page = save(admin, provider, idp_metadata_url=f"https://127.0.0.1:{net.trap.port}/metadata")
    refused(page, dbsession, f"127.0.0.1 {INTERNAL}")
    assert net.trap.connections == 0


@METADATA_PROVIDERS
def test_a_name_that_resolves_to_loopback_is_refused(net, admin, dbsession, provider):
    page = save(admin, provider, idp_metadata_url=net.url("internal", "/metadata"))
    refused(page, dbsession, f"internal.outbound.test {INTERNAL}")
    assert net.trap.connections == 0


@pytest.mark.parametrize("url, shown", [
    ("https://169.254.169.254/latest/meta-data/iam/security-credentials/", "169.254.169.254"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"),
    ("https://[::ffff:127.0.0.1]:{port}/metadata", "::ffff:127.0.0.1"),
    ("https://10.0.0.1/metadata", "10.0.0.1"),
    ("https://100.64.0.1/metadata", "100.64.0.1"),
])
def test_internal_and_cloud_metadata_addresses_are_refused(net, admin, dbsession, url, shown):
    page = save(admin, idp_metadata_url=url.format(port=net.trap.port))
    refused(page, dbsession, f"{shown} {INTERNAL}")
    assert net.trap.connections == 0


def test_a_name_with_one_internal_address_among_allowed_ones_is_refused(net, admin, dbsession):
    net.dns.set_addresses("mixed.outbound.test", ["127.0.0.2", "127.0.0.1"])
    page = save(admin, idp_metadata_url=net.url("mixed", "/metadata"))
    refused(page, dbsession, f"mixed.outbound.test {INTERNAL}")
    assert net.routes.asked == [] and net.trap.connections == 0


@METADATA_PROVIDERS
def test_plain_http_to_loopback_is_refused(net, admin, dbsession, provider):
    url = f"http://127.0.0.1:{net.trap.port}/metadata"
    page = save(admin, provider, idp_metadata_url=url)
    refused(page, dbsession, f"Only https:// addresses can be fetched, and {url} is not one.")
    assert net.trap.connections == 0


def test_plain_http_is_refused_even_to_an_allowed_address(metadata, admin, dbsession):
    url = f"http://idp.outbound.test:{metadata.server.port}/metadata"
    page = save(admin, idp_metadata_url=url)
    refused(page, dbsession, f"Only https:// addresses can be fetched, and {url} is not one.")
    assert metadata.routes.asked == []


@pytest.mark.parametrize("target", ["internal", "127.0.0.1"])
def test_a_redirect_to_loopback_is_refused(net, admin, dbsession, target):
    host = "internal.outbound.test" if target == "internal" else target
    net.routes.redirect("/moved", f"https://{host}:{net.trap.port}/metadata")
    page = save(admin, idp_metadata_url=net.url("idp", "/moved"))
    refused(page, dbsession, f"{host} {INTERNAL}")
    assert net.routes.asked == ["/moved"] and net.trap.connections == 0


def test_a_redirect_to_plain_http_is_refused(metadata, admin, dbsession):
    target = f"http://idp.outbound.test:{metadata.server.port}/metadata"
    metadata.routes.redirect("/moved", target)
    page = save(admin, idp_metadata_url=metadata.url("idp", "/moved"))
    refused(page, dbsession, f"Only https:// addresses can be fetched, and {target} is not one.")
    assert metadata.routes.asked == ["/moved"]


def test_an_answer_too_large_is_refused(net, admin, dbsession):
    net.routes.serve("/metadata", b"<x>" + b" " * 2_100_000 + b"</x>")
    page = save(admin, idp_metadata_url=net.url("idp", "/metadata"))
    refused(page, dbsession, "The answer from idp.outbound.test is too large.")


def test_a_certificate_the_application_does_not_trust_is_refused(metadata, admin, dbsession,
                                                                  tmp_path):
    from mypages.testing.outbound import CertificateAuthority, Routes, TlsServer

    other = Routes()
    server = TlsServer(other, CertificateAuthority(tmp_path).server_context()).start()
    try:
        page = save(admin, idp_metadata_url=server.url("idp", "/metadata"))
    finally:
        server.stop()
    refused(page, dbsession, "The secure connection to idp.outbound.test failed")


# -- DNS rebinding --------------------------------------------------------------------------

def test_dns_rebinding_is_caught_at_connect_time(metadata, admin, dbsession):
    """The name answers with the allowed address once, then with loopback: the connection
    goes to the address that was checked, and the next connection is checked again."""
    testapp, company = admin
    metadata.dns.set_addresses("rebind.outbound.test", "127.0.0.2", "127.0.0.1")
    url = metadata.url("rebind", "/metadata")

    assert save(admin, idp_metadata_url=url).status_int == 303
    assert metadata.routes.asked == ["/metadata"]  # fetched from the checked address
    assert metadata.trap.connections == 0
    assert metadata.dns.queries.count(("rebind.outbound.test", "A")) == 1

    # the name now leads to loopback: testing the connection fetches the metadata again
    page = testapp.post(f"/c/{company.id}/settings/sso/test",
                        {"csrf_token": csrf_token(testapp, f"/c/{company.id}/settings/sso")},
                        status=400)
    assert f"rebind.outbound.test {INTERNAL}" in errors(page)
    assert metadata.routes.asked == ["/metadata"] and metadata.trap.connections == 0
    assert count(dbsession, SsoConnection) == 1  # the saved connection stays


# -- what the policy lets through -------------------------------------------------------------

@METADATA_PROVIDERS
def test_an_allowed_address_with_a_trusted_certificate_is_fetched(metadata, admin, dbsession,
                                                                  provider):
    """The certificate is checked against the name, not the address it was reached at."""
    page = save(admin, provider, idp_metadata_url=metadata.url("idp", "/metadata"))
    assert page.status_int == 303, errors(page)
    assert metadata.routes.asked == ["/metadata"]  # read when saved
    assert count(dbsession, SsoConnection) == 1


def test_a_redirect_to_an_allowed_address_is_followed(metadata, admin, dbsession):
    metadata.routes.redirect("/moved", metadata.url("idp", "/metadata"))
    assert save(admin, idp_metadata_url=metadata.url("idp", "/moved")).status_int == 303
    assert metadata.routes.asked == ["/moved", "/metadata"]


# -- OpenID Connect and Microsoft Graph ------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    ({"provider": "google", "discovery_url": "https://127.0.0.1:{port}" + WELL_KNOWN},
     f"127.0.0.1 {INTERNAL}"),
    ({"provider": "azure", "authority": "https://169.254.169.254"}, f"169.254.169.254 {INTERNAL}"),
    ({"provider": "azure", "authority": "http://127.0.0.1:{port}"},
     "Only https:// addresses can be fetched"),
    ({"provider": "azure", "graph_url": "https://127.0.0.1:{port}"}, f"127.0.0.1 {INTERNAL}"),
])
def test_oidc_addresses_are_checked_when_saved(net, admin, dbsession, values, message):
    values = {name: value.format(port=net.trap.port) for name, value in values.items()}
    page = save(admin, protocol="oidc", client_id="client-1", client_secret="s3cret", **values)
    refused(page, dbsession, message)


@pytest.mark.parametrize("provider, values", [
    ("google", {"discovery_url": "{internal}" + WELL_KNOWN}),
    ("azure", {"authority": "{internal}"}),
])
def test_an_oidc_provider_on_a_name_that_resolves_to_loopback_is_refused_when_saved(
        net, admin, dbsession, provider, values):
    """The discovery address's host name (an authority's, for Entra ID) is looked up when
    the connection is saved, and refused with the message a fetch gives."""
    values = {name: value.format(internal=net.url("internal", "")) for name, value in values.items()}
    page = save(admin, provider, "oidc", client_id="client-1", client_secret="s3cret", **values)
    refused(page, dbsession, f"internal.outbound.test {INTERNAL}")
    assert ("internal.outbound.test", "A") in net.dns.queries
    assert net.trap.connections == 0


def test_an_oidc_provider_whose_name_moves_to_loopback_is_refused_when_tested(net, admin,
                                                                             dbsession):
    """Saved while the name led to an allowed address; it now leads to loopback, and the
    fetch refuses it."""
    testapp, company = admin
    net.dns.set_addresses("moving.outbound.test", "127.0.0.2", "127.0.0.1")
    assert save(admin, "google", "oidc", client_id="client-1", client_secret="s3cret",
                discovery_url=net.url("moving", WELL_KNOWN)).status_int == 303
    page = testapp.post(f"/c/{company.id}/settings/sso/test",
                        {"csrf_token": csrf_token(testapp, f"/c/{company.id}/settings/sso")},
                        status=400)
    assert f"moving.outbound.test {INTERNAL}" in errors(page)
    assert net.trap.connections == 0
    [rejected] = dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "sso.rejected"))
    assert rejected.details == {"reason": "provider-address-refused", "test": True}


def test_an_oidc_provider_on_a_name_that_cannot_be_found_is_saved(net, admin, dbsession):
    """Only what the policy refuses stops the save: whether the name exists is the test's
    to tell."""
    page = save(admin, "google", "oidc", client_id="client-1", client_secret="s3cret",
                discovery_url=net.url("nowhere", WELL_KNOWN))
    assert page.status_int == 303, errors(page)
    assert count(dbsession, SsoConnection) == 1


def test_microsoft_graph_on_loopback_is_not_asked(net):
    entra = net.app.registry["sso.providers"]["azure"]
    assert entra.read_groups({"graph_url": f"https://127.0.0.1:{net.trap.port}"}, {}, "token") is None
    assert entra.read_groups({"graph_url": net.url("internal")}, {}, "token") is None
    assert net.trap.connections == 0


def test_the_refusal_is_in_the_admins_language(net, factory, dbsession):
    company = factory.company("Exempel AB")
    user = factory.user("admin@example.se", company=company, role="admin", locale="sv")
    enable_sso_module(dbsession, company)
    testapp = browser(net.app)
    sign_in(testapp, user.email)
    page = save((testapp, company), idp_metadata_url=net.url("internal", "/metadata"))
    assert errors(page) == ["internal.outbound.test leder till en adress i ett privat eller "
                            "internt nätverk, och därifrån går det inte att hämta något."]
