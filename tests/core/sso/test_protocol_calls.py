"""The protocol code takes plain values, not a request: an exchange built by hand, as the
command line or a job would, and the provider's answer as a plain mapping."""
from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from lxml import etree
from sqlalchemy import select

from mypages.contract import SsoRejected
from mypages.outbound import outbound_client
from mypages.services import clock, settings_of
from mypages.sso import oidc, saml
from mypages.sso.connections import provider_of, values_of
from mypages.sso.exchange import Exchange
from mypages.sso.models import SamlAssertionSeen, SsoAttempt
from mypages.testing.sso import AZURE_TENANT, azure_values, connect
from mypages_devtools.fakes.oidc_provider import azure_user

SUBJECT = "0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01"


def by_hand(app, dbsession, **addresses) -> Exchange:
    return Exchange(dbsession=dbsession, outbound=outbound_client(app.registry),
                    clock=clock(app.registry), **addresses)


def test_an_oidc_sign_in_without_a_request(app, dbsession, example_company, azure_idp):
    azure_idp.add_user(azure_user(AZURE_TENANT, SUBJECT, "anna@example.se", "Anna Andersson",
                                  xms_edov=True))
    connection = connect(app, dbsession, example_company, "azure", *azure_values(azure_idp))
    provider, values = provider_of(app.registry, connection), values_of(app.registry, connection)
    exchange = by_hand(app, dbsession,
                       redirect_uri=settings_of(app.registry).url("/sso/oidc/callback"))
    attempt = SsoAttempt(nonce=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(64))

    location = oidc.request_location(exchange, connection, provider, values, attempt, "the-state",
                                     "anna@example.se")
    answer = httpx.get(location, follow_redirects=False)
    back = urlsplit(answer.headers["location"])
    assert back.path == "/sso/oidc/callback"
    params = dict(parse_qsl(back.query))
    assert params["state"] == "the-state"

    identity = oidc.finish(exchange, connection, provider, values, attempt, params)
    assert (identity.subject, identity.email, identity.email_verified) == (
        f"{AZURE_TENANT}:{SUBJECT}", "anna@example.se", True)


def test_our_saml_metadata_without_a_request(app, dbsession, example_company):
    connection = connect(app, dbsession, example_company, "saml", {}, protocol="saml")
    exchange = by_hand(app, dbsession, entity_id="https://portal.example/sp",
                       acs_url="https://portal.example/acs")
    metadata = saml.sp_metadata(exchange, provider_of(app.registry, connection), {})
    root = etree.fromstring(metadata.encode())
    assert root.get("entityID") == "https://portal.example/sp"
    [acs] = root.iter("{urn:oasis:names:tc:SAML:2.0:metadata}AssertionConsumerService")
    assert acs.get("Location") == "https://portal.example/acs"


def test_a_saml_answer_is_read_from_a_plain_mapping(app, dbsession, example_company):
    """Refused before anything is parsed or recorded: no SAMLResponse in the form."""
    connection = connect(app, dbsession, example_company, "saml", {}, protocol="saml")
    exchange = by_hand(app, dbsession, entity_id="https://portal.example/sp",
                       acs_url="https://portal.example/acs")
    attempt = SsoAttempt(nonce="id-1", code_verifier="")
    with pytest.raises(SsoRejected) as refused:
        saml.finish(exchange, connection, provider_of(app.registry, connection), {}, attempt,
                    {"RelayState": "the-state"})
    assert refused.value.reason == "saml-malformed"
    assert dbsession.scalars(select(SamlAssertionSeen)).all() == []
