"""What BankID returns as proof of a completed order, made for real by the fake: an XML
signature (XML-DSig, enveloping the ``bankIdSignedData`` as BankID's does) by the person's
certificate, and an OCSP response (DER) by the issuing authority saying that certificate is
good. Verification (:mod:`mypages_bankid.verify`) thus checks real cryptography.
"""
from __future__ import annotations

import base64
import datetime as dt
import secrets

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from lxml import etree
from signxml import XMLSigner, methods

#: the namespace of BankID's signed data
NS = "http://www.bankid.com/signature/v1.0.0/types"


def _element(parent, name: str, text: str | None = None):
    element = etree.SubElement(parent, f"{{{NS}}}{name}")
    element.text = text
    return element


def signed_xml(certificates, body: dict, kind: str) -> bytes:
    """The XML signature of an order: what it showed and hid (base64, as sent), and who
    asked (the relying party's certificate's name)."""
    data = etree.Element(f"{{{NS}}}bankIdSignedData", nsmap={None: NS}, Id="bidSignedData")
    if body.get("userVisibleData"):
        _element(data, "usrVisibleData", body["userVisibleData"]).set("charset", "UTF-8")
    if body.get("userNonVisibleData"):
        _element(data, "usrNonVisibleData", body["userNonVisibleData"])
    server = _element(data, "srvInfo")
    _element(server, "name", base64.b64encode(
        certificates.rp.certificate.subject.rfc4514_string().encode()).decode())
    _element(server, "nonce", base64.b64encode(secrets.token_bytes(20)).decode())
    client = _element(data, "clientInfo")
    _element(client, "funcId", "Signing" if kind.endswith("sign") else "Identification")
    person_pem = certificates.person.cert_pem().decode()
    signed = XMLSigner(method=methods.enveloping, signature_algorithm="ecdsa-sha256",
                       digest_algorithm="sha256").sign(
        data, key=certificates.person.key, cert=[person_pem])
    return etree.tostring(signed)


def ocsp_response(certificates, now: dt.datetime) -> bytes:
    """The issuing authority's answer that the person's certificate is good, now."""
    response = (ocsp.OCSPResponseBuilder()
                .add_response(cert=certificates.person.certificate,
                              issuer=certificates.signing_ca.certificate,
                              algorithm=hashes.SHA256(), cert_status=ocsp.OCSPCertStatus.GOOD,
                              this_update=now, next_update=now + dt.timedelta(hours=12),
                              revocation_time=None, revocation_reason=None)
                .responder_id(ocsp.OCSPResponderEncoding.HASH,
                              certificates.signing_ca.certificate)
                .sign(certificates.signing_ca.key, hashes.SHA256()))
    return response.public_bytes(serialization.Encoding.DER)
