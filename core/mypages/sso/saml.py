"""The SAML 2.0 service provider: python3-saml in strict mode, plus the checks it leaves
to us.

python3-saml parses with a hardened lxml parser (no DTDs, no entities, no
comments), verifies the XML signatures with xmlsec against the certificate
from the identity provider's metadata (never one the response carries), and
checks destination, recipient, audience, issuer, InResponseTo and the time
conditions. On top of that this module demands an InResponseTo that names the
AuthnRequest of this very attempt (no unsolicited responses), a Destination
and an Audience that are present and ours, signature and digest algorithms
from an allow-list, a SubjectConfirmation that expires, and it records every
assertion id until then, so an assertion is used once (ASVS 6.8.3).

The identity provider comes from its metadata, pasted as XML or fetched from
a URL through the application's outbound client (https only, never an
internal address, each redirect checked too), and each company's connection
has SP metadata of its own. Nothing here takes the request: the view hands
over an :class:`~mypages.sso.exchange.Exchange` and the posted form.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Mapping
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants as C
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError as Invalid
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.response import OneLogin_Saml2_Response
from onelogin.saml2.settings import OneLogin_Saml2_Settings
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from mypages.contract import FederatedIdentity, SsoRejected
from mypages.i18n import _
from mypages.outbound import Outbound, OutboundError
from mypages.refusals import Refusal
from mypages.sso.exchange import Exchange
from mypages.sso.models import SamlAssertionSeen, SsoAttempt, SsoConnection

log = logging.getLogger(__name__)

PERSISTENT = C.NAMEID_PERSISTENT
UNSPECIFIED = C.NAMEID_UNSPECIFIED

# SHA-1 is out (python3-saml's rejectDeprecatedAlgorithm); so is anything not named here
SIGNATURE_ALGORITHMS = frozenset({
    C.RSA_SHA256, C.RSA_SHA384, C.RSA_SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
})
DIGEST_ALGORITHMS = frozenset({C.SHA256, C.SHA384, C.SHA512})

METADATA_TTL = 300  # seconds; a rotated IdP key is picked up within this
METADATA_MAX_BYTES = 2_000_000
RESPONSE_MAX_CHARS = 1_000_000  # base64 of a SAMLResponse; real ones are a few kB

# python3-saml's validation errors, as short reasons for the audit trail
REASONS = {
    Invalid.WRONG_INRESPONSETO: "saml-in-response-to",
    Invalid.WRONG_NUMBER_OF_ASSERTIONS: "saml-assertion-count",
    Invalid.WRONG_AUDIENCE: "saml-audience",
    Invalid.ASSERTION_EXPIRED: "saml-expired",
    Invalid.SESSION_EXPIRED: "saml-expired",
    Invalid.RESPONSE_EXPIRED: "saml-expired",
    Invalid.ASSERTION_TOO_EARLY: "saml-not-yet-valid",
    Invalid.WRONG_SUBJECTCONFIRMATION: "saml-subject-confirmation",
    Invalid.WRONG_DESTINATION: "saml-destination",
    Invalid.EMPTY_DESTINATION: "saml-destination",
    Invalid.WRONG_ISSUER: "saml-issuer",
    Invalid.ISSUER_MULTIPLE_IN_RESPONSE: "saml-issuer",
    Invalid.ISSUER_NOT_FOUND_IN_ASSERTION: "saml-issuer",
    Invalid.DEPRECATED_SIGNATURE_METHOD: "saml-algorithm",
    Invalid.DEPRECATED_DIGEST_METHOD: "saml-algorithm",
    Invalid.INVALID_XML_FORMAT: "saml-schema",
    Invalid.STATUS_CODE_IS_NOT_SUCCESS: "saml-status",
    Invalid.NO_NAMEID: "saml-nameid",
    Invalid.EMPTY_NAMEID: "saml-nameid",
    Invalid.SP_NAME_QUALIFIER_NAME_MISMATCH: "saml-nameid",
}
for _code in (Invalid.NO_SIGNATURE_FOUND, Invalid.NO_SIGNED_ASSERTION, Invalid.NO_SIGNED_MESSAGE,
              Invalid.INVALID_SIGNATURE, Invalid.WRONG_SIGNED_ELEMENT,
              Invalid.ID_NOT_FOUND_IN_SIGNED_ELEMENT, Invalid.DUPLICATED_ID_IN_SIGNED_ELEMENTS,
              Invalid.INVALID_SIGNED_ELEMENT, Invalid.DUPLICATED_REFERENCE_IN_SIGNED_ELEMENTS,
              Invalid.UNEXPECTED_SIGNED_ELEMENTS, Invalid.WRONG_NUMBER_OF_SIGNATURES_IN_RESPONSE,
              Invalid.WRONG_NUMBER_OF_SIGNATURES_IN_ASSERTION, Invalid.WRONG_NUMBER_OF_SIGNATURES):
    REASONS[_code] = "saml-signature"


class MetadataError(Refusal):
    """The identity provider's metadata cannot be used; ``message`` says why, for the admin."""


# -- the identity provider's metadata -------------------------------------------

def fetch_metadata(outbound: Outbound, url: str) -> bytes:
    """The metadata at ``url``; the outbound client refuses plain http (metadata carries
    the keys we trust) and internal addresses, on every redirect too."""
    try:
        answer = outbound.get(url, follow_redirects=True, max_bytes=METADATA_MAX_BYTES, headers={
            "Accept": "application/samlmetadata+xml, application/xml, text/xml"})
    except OutboundError as error:
        raise MetadataError(error.message) from None
    if answer.status_code != 200:
        raise MetadataError(_("The metadata URL answered with status ${status}.",
                              mapping={"status": answer.status_code}))
    return answer.content


def parse_metadata(xml: str | bytes) -> dict:
    """The ``idp`` part of python3-saml's settings, from metadata XML (parsed without DTDs
    or entities by python3-saml's hardened parser)."""
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml, required_sso_binding=C.BINDING_HTTP_REDIRECT)
    except Exception as error:  # lxml syntax errors, DTDForbidden, EntitiesForbidden, ...
        log.info("SAML metadata refused: %r", error)
        raise MetadataError(_("The metadata is not valid XML, or uses XML features that are "
                              "refused (document types and entities).")) from None
    idp = parsed.get("idp") or {}
    if not idp.get("entityId"):
        raise MetadataError(_("The metadata describes no SAML identity provider."))
    if not (idp.get("singleSignOnService") or {}).get("url"):
        raise MetadataError(_("The metadata has no single sign-on address for the "
                              "HTTP-Redirect binding."))
    # only keys published for signing are trusted (python3-saml would fall back on an
    # encryption-only one); several of them while the identity provider rolls its key over
    descriptor = OneLogin_Saml2_XML.query(OneLogin_Saml2_XML.to_etree(xml),
                                          "(//md:EntityDescriptor)[1]/md:IDPSSODescriptor")[0]
    certificates = OneLogin_Saml2_XML.query(descriptor, "./md:KeyDescriptor[not(@use) or @use='signing']"
                                                        "/ds:KeyInfo/ds:X509Data/ds:X509Certificate")
    signing = ["".join((OneLogin_Saml2_XML.element_text(node) or "").split()) for node in certificates]
    signing = [cert for cert in signing if cert]
    if not signing:
        raise MetadataError(_("The metadata has no signing certificate."))
    idp.pop("x509cert", None)
    idp.pop("x509certMulti", None)
    if len(signing) == 1:
        idp["x509cert"] = signing[0]
    else:
        idp["x509certMulti"] = {"signing": signing}
    return idp


class MetadataCache:
    """Parsed metadata by source, kept briefly; one per application."""

    def __init__(self):
        self._entries: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            entry = self._entries.get(key)
        return entry[1] if entry and entry[0] > time.monotonic() else None

    def put(self, key: str, idp: dict) -> None:
        now = time.monotonic()
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[key] = (now + METADATA_TTL, idp)


def idp_settings(values: dict, outbound: Outbound, cache: MetadataCache | None = None) -> dict:
    """The identity provider of a connection, from ``idp_metadata_xml`` or
    ``idp_metadata_url``; raises :class:`MetadataError`."""
    xml = (values.get("idp_metadata_xml") or "").strip()
    url = (values.get("idp_metadata_url") or "").strip()
    if not xml and not url:
        raise MetadataError(_("Give the identity provider's metadata URL or its metadata XML."))
    key = "xml:" + hashlib.sha256(xml.encode()).hexdigest() if xml else "url:" + url
    idp = cache.get(key) if cache is not None else None
    if idp is None:
        idp = parse_metadata(xml.encode() if xml else fetch_metadata(outbound, url))
        if cache is not None:
            cache.put(key, idp)
    return idp


def check_idp_metadata(outbound: Outbound, values: dict) -> list:
    """Problems with the metadata settings of a SAML connection about to be saved (fetches
    the URL, so the admin learns at once when it does not work)."""
    if (values.get("idp_metadata_xml") or "").strip() and (values.get("idp_metadata_url") or "").strip():
        return [_("Give either the metadata URL or the metadata XML, not both.")]
    try:
        idp_settings(values, outbound)
    except MetadataError as error:
        return [error.message]
    return []


def metadata_cache(registry) -> MetadataCache:
    """The application's cache of parsed identity provider metadata."""
    cache = registry.get("sso.saml_metadata_cache")
    if cache is None:
        cache = registry["sso.saml_metadata_cache"] = MetadataCache()
    return cache


# -- our side: entity id, ACS and settings ----------------------------------------

def _nameid_format(provider, values: dict) -> str:
    """The NameID format we ask for: a provider may choose (``saml_nameid_format(values)``);
    else persistent, the stable kind a person can be keyed on."""
    choose = getattr(provider, "saml_nameid_format", None)
    return (choose(values) if callable(choose) else None) or PERSISTENT


def _sp(exchange: Exchange, provider, values) -> dict:
    return {
        "entityId": exchange.entity_id,
        "assertionConsumerService": {"url": exchange.acs_url,
                                     "binding": C.BINDING_HTTP_POST},
        "NameIDFormat": _nameid_format(provider, values),
    }


SECURITY = {
    "authnRequestsSigned": False,
    "logoutRequestSigned": False,
    "logoutResponseSigned": False,
    "signMetadata": False,
    "wantAssertionsSigned": True,
    "wantAssertionsEncrypted": False,
    "wantNameId": True,
    "wantNameIdEncrypted": False,
    "wantAttributeStatement": False,
    # no RequestedAuthnContext: the identity provider decides how people prove themselves
    "requestedAuthnContext": False,
    "rejectDeprecatedAlgorithm": True,
    "rejectUnsolicitedResponsesWithInResponseTo": True,
    "allowRepeatAttributeName": False,
    "signatureAlgorithm": C.RSA_SHA256,
    "digestAlgorithm": C.SHA256,
}


def _settings(exchange: Exchange, connection, provider, values) -> OneLogin_Saml2_Settings:
    try:
        idp = idp_settings(values, exchange.outbound, exchange.metadata_cache)
    except MetadataError as error:
        raise SsoRejected("saml-metadata", error.message) from None
    security = dict(SECURITY, wantMessagesSigned=values.get("want_messages_signed") == "yes")
    try:
        # a copy: python3-saml reformats the certificates in place, and ``idp`` is cached
        return OneLogin_Saml2_Settings({"strict": True, "debug": False, "idp": copy.deepcopy(idp),
                                        "sp": _sp(exchange, provider, values),
                                        "security": security})
    except OneLogin_Saml2_Error as error:  # e.g. a certificate python3-saml cannot read
        log.warning("SAML settings of connection %s refused: %s", connection.id, error)
        raise SsoRejected("saml-metadata") from None


def _request_data(acs: str, post: dict | None = None) -> dict:
    """python3-saml compares Destination and Recipient with "the current URL": ours is the
    ACS address people reach us at (behind proxies the WSGI host may differ)."""
    parts = urlsplit(acs)
    return {"https": "on" if parts.scheme == "https" else "off", "http_host": parts.netloc,
            "script_name": parts.path, "get_data": {}, "post_data": post or {}}


def sp_metadata(exchange: Exchange, provider, values: dict) -> str:
    """Our SAML metadata for a company's connection (``exchange`` names our addresses for
    it), for its identity provider."""
    settings = OneLogin_Saml2_Settings({"strict": True, "sp": _sp(exchange, provider, values),
                                        "security": dict(SECURITY)}, sp_validation_only=True)
    metadata = settings.get_sp_metadata()
    errors = settings.validate_metadata(metadata)
    if errors:
        raise RuntimeError(f"our SAML metadata does not validate: {errors}")
    return metadata.decode() if isinstance(metadata, bytes) else metadata


# -- the sign-in ---------------------------------------------------------------------

def request_location(exchange: Exchange, connection: SsoConnection, provider, values: dict,
                     attempt: SsoAttempt, state: str, login_hint: str | None) -> str:
    """An AuthnRequest by HTTP-Redirect; its ID becomes the attempt's nonce, which the
    response's InResponseTo must name. ``login_hint`` is not sent: a Subject in the
    AuthnRequest is refused by some identity providers."""
    settings = _settings(exchange, connection, provider, values)
    auth = OneLogin_Saml2_Auth(_request_data(exchange.acs_url), settings)
    location = auth.login(return_to=state, set_nameid_policy=True)
    attempt.nonce = auth.get_last_request_id()
    return location


def _refuse(reason: str, error: Exception | str) -> SsoRejected:
    log.info("SAML response refused (%s): %s", reason, error)
    return SsoRejected(reason)


def _check_algorithms(document) -> None:
    for node in OneLogin_Saml2_XML.query(document, "//ds:SignatureMethod"):
        if node.get("Algorithm") not in SIGNATURE_ALGORITHMS:
            raise _refuse("saml-algorithm", f"signature method {node.get('Algorithm')}")
    for node in OneLogin_Saml2_XML.query(document, "//ds:DigestMethod"):
        if node.get("Algorithm") not in DIGEST_ALGORITHMS:
            raise _refuse("saml-algorithm", f"digest method {node.get('Algorithm')}")


def _remember_assertion(exchange: Exchange, connection, assertion_id: str,
                        not_on_or_after: int) -> None:
    """Record the assertion until it expires (with the clock drift python3-saml allows);
    a second use is refused."""
    dbsession = exchange.dbsession
    now = exchange.clock.now()
    key = hashlib.sha256(f"{connection.id}\n{assertion_id}".encode()).hexdigest()
    expires_at = dt.datetime.fromtimestamp(not_on_or_after + C.ALLOWED_CLOCK_DRIFT, dt.timezone.utc)
    dbsession.execute(delete(SamlAssertionSeen).where(SamlAssertionSeen.expires_at < now))
    if dbsession.get(SamlAssertionSeen, key) is not None:
        raise SsoRejected("assertion-replay")
    dbsession.add(SamlAssertionSeen(assertion_id=key, connection_id=connection.id,
                                    expires_at=expires_at))
    try:
        dbsession.flush()
    except IntegrityError:  # the same assertion, posted at the same moment
        raise SsoRejected("assertion-replay") from None


def finish(exchange: Exchange, connection: SsoConnection, provider, values: dict,
           attempt: SsoAttempt, form: Mapping[str, str]) -> FederatedIdentity:
    """Check the SAMLResponse the identity provider posted to our ACS (``form``)."""
    encoded = form.get("SAMLResponse", "")
    if not encoded or len(encoded) > RESPONSE_MAX_CHARS:
        raise _refuse("saml-malformed", "no SAMLResponse, or an oversized one")
    settings = _settings(exchange, connection, provider, values)
    acs = exchange.acs_url
    try:
        response = OneLogin_Saml2_Response(settings, encoded)
    except Exception as error:  # not base64, not XML, a DTD or entities
        raise _refuse("saml-malformed", repr(error)) from None
    try:
        response.is_valid(_request_data(acs), request_id=attempt.nonce, raise_exceptions=True)
        # python3-saml lets a response without InResponseTo through: we never ask for those
        if response.get_in_response_to() is None:
            raise _refuse("saml-unsolicited", "no InResponseTo")
        if response.get_in_response_to() != attempt.nonce:
            raise _refuse("saml-in-response-to", "InResponseTo is not this attempt's request")
        if response.document.get("Destination") != acs:
            raise _refuse("saml-destination", f"Destination {response.document.get('Destination')!r}")
        if settings.get_sp_data()["entityId"] not in response.get_audiences():
            raise _refuse("saml-audience", "no Audience naming us")
        _check_algorithms(response.document)
        not_on_or_after = response.get_assertion_not_on_or_after()
        if not not_on_or_after:
            raise _refuse("saml-subject-confirmation", "the SubjectConfirmationData never expires")
        nameid = response.get_nameid_data()
        attributes = response.get_attributes()
        assertion_id = response.get_assertion_id()
    except Invalid as error:
        raise _refuse(REASONS.get(error.code, "saml-invalid"), error) from None
    except SsoRejected:
        raise
    except Exception as error:  # python3-saml's own errors (missing certificate, ...)
        raise _refuse("saml-invalid", repr(error)) from None
    _remember_assertion(exchange, connection, assertion_id, not_on_or_after)
    claims = dict(attributes)
    claims["nameid"] = nameid.get("Value", "")
    claims["nameid_format"] = nameid.get("Format", UNSPECIFIED)
    return provider.identity(values, claims, None, "saml")
