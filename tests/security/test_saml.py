"""SAML service provider: the attack cases of identity-security.md ("SAML service provider").

The identity provider is the fake on pysaml2 over real HTTP; it signs a correct response
and then misbehaves as each case needs (an IdP configured wrongly, or an attacker editing
the signed XML in between). Every case ends on the refusal page with its reason, an
"sso.rejected" audit event and no session; the first test shows the same set-up signs in
when nobody misbehaves, so each refusal is the protection at work.
"""
from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.db import utcnow
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.sso.models import SamlAssertionSeen, SsoAttempt, SsoConnection, SsoLink, VerifiedDomain
from mypages.testing.plugin import csrf_token
from mypages.testing.saml import WsgiServer, idp_answer
from tests.security.support import browser, count

ALICE = "alice@example.se"


@pytest.fixture
def saml_company(app, dbsession, factory, testapp, saml_idp):
    """A company on the SSO trial, connected to the fake IdP (by its metadata URL), with
    example.se verified and Alice linked to the fake's default user."""
    company = factory.company()
    alice = factory.user(ALICE, company=company)
    now = utcnow()
    dbsession.add(ModuleActivation(company_id=company.id, module_key="sso", state=ModuleState.trial,
                                   trial_started_at=now, trial_ends_at=now + dt.timedelta(days=10)))
    connection = SsoConnection(company_id=company.id, provider="saml", protocol="saml",
                               settings={"idp_metadata_url": saml_idp.metadata_url})
    dbsession.add(connection)
    dbsession.flush()
    dbsession.add(SsoLink(connection_id=connection.id, subject=saml_idp.user.nameid, user_id=alice.id))
    dbsession.add(VerifiedDomain(company_id=company.id, domain="example.se", token="t",
                                 verified_at=now))
    dbsession.commit()
    # the IdP admin registers our app from our metadata
    saml_idp.trust_sp(testapp.get(f"/sso/saml/{connection.id}/metadata").text)
    return company, alice, connection


def start(testapp, email: str = ALICE) -> str:
    """Identifier-first: the browser is sent to the IdP; returns where."""
    return testapp.get("/sso/start", {"email": email}, status=303).location


def post_to_acs(testapp, action: str, fields: dict):
    return testapp.post(urlsplit(action).path, fields, expect_errors=True)


def sign_in(testapp, email: str = ALICE):
    return post_to_acs(testapp, *idp_answer(start(testapp, email)))


def rejected_reasons(dbsession) -> list[str]:
    dbsession.expire_all()
    return [e.details.get("reason") for e in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.action == "sso.rejected").order_by(AuditEvent.id))]


def assert_refused(page, dbsession, reason: str, sessions: int = 0) -> None:
    """The refusal page with ``reason``, audited, and no session beyond ``sessions``."""
    assert page.status_int == 403, page.text[:2000]
    assert page.html.find(attrs={"data-reason": True})["data-reason"] == f"sso-{reason}"
    assert rejected_reasons(dbsession)[-1] == reason
    assert count(dbsession, UserSession) == sessions


def test_untampered_response_signs_in(saml_company, testapp, dbsession):
    _, alice, _ = saml_company
    done = sign_in(testapp)
    assert done.status_int == 303, done.text[:2000]
    sessions = dbsession.scalars(select(UserSession)).all()
    assert [s.user_id for s in sessions] == [alice.id]
    assert "sso:saml" in sessions[0].amr
    assert rejected_reasons(dbsession) == []


# -- signatures -------------------------------------------------------------------------

@pytest.mark.parametrize("unsigned", [
    {"sign_response": False, "sign_assertion": False},
    # a signed response does not stand in for a signed assertion (wantAssertionsSigned)
    {"sign_assertion": False},
], ids=["nothing-signed", "assertion-unsigned"])
def test_unsigned_response_is_refused(saml_company, saml_idp, testapp, dbsession, unsigned):
    saml_idp.misbehave(**unsigned)
    assert_refused(sign_in(testapp), dbsession, "saml-signature")


def test_unsigned_response_is_refused_where_the_connection_wants_it_signed(
        saml_company, saml_idp, testapp, dbsession):
    _, _, connection = saml_company
    connection.settings = dict(connection.settings, want_messages_signed="yes")
    dbsession.commit()
    saml_idp.misbehave(sign_response=False)  # the assertion alone is signed
    assert_refused(sign_in(testapp), dbsession, "saml-signature")


def test_signature_by_another_key_is_refused(saml_company, saml_idp, testapp, dbsession):
    # signed with a key the metadata does not publish, its certificate in KeyInfo
    saml_idp.misbehave(foreign_key=True)
    assert_refused(sign_in(testapp), dbsession, "saml-signature")


@pytest.mark.parametrize("where", ["before", "after", "inside", "around"])
def test_signature_wrapping_is_refused(saml_company, saml_idp, factory, dbsession, testapp, where):
    """XSW: the signed assertion stays intact, a second, unsigned one names the victim."""
    company, _, connection = saml_company
    victim = factory.user("victim@example.se", company=company, role="admin")
    dbsession.add(SsoLink(connection_id=connection.id, subject="victim-0001", user_id=victim.id))
    dbsession.commit()
    # only the assertion signed (common at IdPs): nothing but the wrapping defences stand
    saml_idp.misbehave(sign_response=False, wrap=where, wrap_nameid="victim-0001")
    assert_refused(sign_in(testapp), dbsession, "saml-assertion-count")


def test_comment_in_nameid_does_not_truncate_it(saml_company, saml_idp, dbsession, testapp):
    """CVE-2017-11427 family: ``alice@example.se<!---->.evil.com`` is signed as
    ``alice@example.se.evil.com``; a parser that reads the first text node sees Alice."""
    _, alice, connection = saml_company
    dbsession.add(SsoLink(connection_id=connection.id, subject=ALICE, user_id=alice.id))
    dbsession.commit()
    saml_idp.user.nameid = ALICE + ".evil.com"
    saml_idp.user.attributes = {"mail": ["mallory@evil.com"]}
    saml_idp.misbehave(nameid_comment=len(ALICE))
    page = sign_in(testapp)
    assert "<!---->" in saml_idp.last_response_xml  # the attack was made
    # the whole NameID is read: nobody of that name here, and Alice is not signed in
    assert_refused(page, dbsession, "no-account")


# -- replay and the request it answers ------------------------------------------------------

def test_assertion_replay_is_refused(saml_company, saml_idp, app, dbsession):
    first = browser(app)
    action, fields = idp_answer(start(first))
    assert post_to_acs(first, action, fields).status_int == 303
    request_id = saml_idp.requests_seen[-1]
    assert count(dbsession, SamlAssertionSeen) == 1

    attacker = browser(app, ip="10.0.0.66")
    # the same post again: its state is used up
    assert_refused(post_to_acs(attacker, action, fields), dbsession, "state-invalid", sessions=1)
    # inside an attempt of the attacker's own: it answers another AuthnRequest
    relay_state = dict(fields, RelayState=_relay_state(attacker, saml_idp))
    assert_refused(post_to_acs(attacker, action, relay_state), dbsession, "saml-in-response-to",
                   sessions=1)
    # and were both of those beaten (the attempt answering the old request), the
    # assertion id is on record until it expires
    relay_state = dict(fields, RelayState=_relay_state(attacker, saml_idp))
    _bind_attempt_to(dbsession, relay_state["RelayState"], request_id)
    assert_refused(post_to_acs(attacker, action, relay_state), dbsession, "assertion-replay",
                   sessions=1)


def _relay_state(testapp, saml_idp) -> str:
    """A fresh attempt of this browser; its state, as the IdP would echo it."""
    return idp_answer(start(testapp))[1]["RelayState"]


def _bind_attempt_to(dbsession, state: str, request_id: str) -> None:
    from mypages.sso.flow import digest

    attempt = dbsession.get(SsoAttempt, digest(state))
    attempt.nonce = request_id
    dbsession.commit()


def test_response_to_another_request_is_refused(saml_company, saml_idp, app, dbsession):
    # the IdP answers browser A's request; browser B posts it inside its own attempt
    a, b = browser(app), browser(app, ip="10.0.0.2")
    action, fields = idp_answer(start(a))
    fields = dict(fields, RelayState=_relay_state(b, saml_idp))
    assert_refused(post_to_acs(b, action, fields), dbsession, "saml-in-response-to")


def test_unsolicited_response_is_refused(saml_company, saml_idp, testapp, dbsession):
    # IdP-initiated sign-in is off: a response answering no request of ours is refused...
    saml_idp.misbehave(unsolicited=True)
    action, fields = idp_answer(start(testapp))
    assert 'InResponseTo' not in saml_idp.last_response_xml
    assert_refused(post_to_acs(testapp, action, fields), dbsession, "saml-unsolicited")
    # ...and without the RelayState of an attempt it never reaches the SAML checks
    fields.pop("RelayState")
    assert_refused(post_to_acs(testapp, action, fields), dbsession, "state-missing")


# -- conditions ---------------------------------------------------------------------------

@pytest.mark.parametrize("audience", ["https://other-sp.example/metadata", None],
                         ids=["other", "missing"])
def test_wrong_audience_is_refused(saml_company, saml_idp, testapp, dbsession, audience):
    saml_idp.misbehave(audience=audience)
    assert_refused(sign_in(testapp), dbsession, "saml-audience")


@pytest.mark.parametrize("destination", ["https://other-sp.example/acs", None],
                         ids=["other", "missing"])
def test_wrong_destination_is_refused(saml_company, saml_idp, testapp, dbsession, destination):
    saml_idp.misbehave(destination=destination)
    assert_refused(sign_in(testapp), dbsession, "saml-destination")


@pytest.mark.parametrize("expire, reason", [
    ("conditions", "saml-expired"),
    ("subject", "saml-subject-confirmation"),
])
def test_expired_not_on_or_after_is_refused(saml_company, saml_idp, testapp, dbsession, expire, reason):
    saml_idp.misbehave(expire=expire)
    assert_refused(sign_in(testapp), dbsession, reason)


# -- algorithms -------------------------------------------------------------------------------

def test_sha1_signature_is_refused(saml_company, saml_idp, testapp, dbsession):
    saml_idp.misbehave(sha1=True)
    page = sign_in(testapp)
    assert "xmldsig#rsa-sha1" in saml_idp.last_response_xml
    assert_refused(page, dbsession, "saml-algorithm")


# -- XML parsing ------------------------------------------------------------------------------

def test_internal_entity_is_refused(saml_company, saml_idp, testapp, dbsession):
    # the entity expands to exactly what was signed: only refusing DTDs stops it
    saml_idp.misbehave(doctype="internal-entity")
    page = sign_in(testapp)
    assert "&who;" in saml_idp.last_response_xml
    assert_refused(page, dbsession, "saml-malformed")


def test_external_entity_is_refused(saml_company, saml_idp, testapp, dbsession, tmp_path):
    # XXE: the NameID read from a local file (which holds just what was signed)
    secret = tmp_path / "nameid.txt"
    secret.write_text(saml_idp.user.nameid)
    saml_idp.misbehave(doctype="external-entity", entity_file=str(secret))
    assert_refused(sign_in(testapp), dbsession, "saml-malformed")


def test_entity_expansion_is_refused_quickly(saml_company, saml_idp, testapp, dbsession):
    saml_idp.misbehave(doctype="billion-laughs")
    location = start(testapp)
    action, fields = idp_answer(location)
    began = time.monotonic()
    page = post_to_acs(testapp, action, fields)
    assert time.monotonic() - began < 5
    assert_refused(page, dbsession, "saml-malformed")


def _xxe_metadata(saml_idp, tmp_path) -> str:
    """The IdP's real metadata with its certificate moved into an external entity."""
    metadata = saml_idp.metadata()
    start_tag = "X509Certificate>"
    head, rest = metadata.split(start_tag, 1)
    certificate, tail = rest.split("<", 1)
    holder = tmp_path / "certificate.txt"
    holder.write_text(certificate)
    root = metadata.split("<", 2)[1].split()[0].lstrip("?")
    return (f'<!DOCTYPE {root} [<!ENTITY cert SYSTEM "{holder.as_uri()}">]>'
            + head + start_tag + "&cert;<" + tail)


@pytest.fixture
def saml_admin(saml_company, factory, signed_in):
    company, _, _ = saml_company
    admin = factory.user("admin@example.se", company=company, role="admin", locale="en")
    return signed_in(admin)


def _save_connection(testapp, company, **values):
    token = csrf_token(testapp, f"/c/{company.id}/settings/sso")
    return testapp.post(f"/c/{company.id}/settings/sso/save",
                        {"csrf_token": token, "provider": "saml", "protocol": "saml", **values},
                        expect_errors=True)


def test_metadata_xml_with_entities_is_refused(saml_company, saml_admin, saml_idp, dbsession, tmp_path):
    company, _, connection = saml_company
    page = _save_connection(saml_admin, company, idp_metadata_xml=_xxe_metadata(saml_idp, tmp_path))
    assert page.status_int == 400
    assert "document types and entities" in page.html.find(class_="error").text
    dbsession.expire_all()
    assert dbsession.get(SsoConnection, connection.id).settings == {
        "idp_metadata_url": saml_idp.metadata_url}


def test_metadata_url_with_entities_is_refused(saml_company, saml_admin, saml_idp, dbsession, tmp_path):
    company, _, connection = saml_company
    body = _xxe_metadata(saml_idp, tmp_path).encode()

    def hostile(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [body]

    server = WsgiServer(hostile).start()
    try:
        page = _save_connection(saml_admin, company, idp_metadata_url=server.url + "/metadata")
    finally:
        server.stop()
    assert page.status_int == 400
    assert "document types and entities" in page.html.find(class_="error").text
    dbsession.expire_all()
    assert dbsession.get(SsoConnection, connection.id).settings == {
        "idp_metadata_url": saml_idp.metadata_url}
