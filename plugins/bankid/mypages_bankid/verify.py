"""Checking a kept BankID signature, long after it was made (``mypages bankid verify``).

The XML signature is verified with signxml against the certificate it carries, and that
certificate's chain against the authorities the operator trusts (``bankid.signing_ca_file``:
BankID's root for people's certificates, or the fake's in development); what it signed must
be the text and the data kept with it. The OCSP response is parsed with cryptography: it
must be signed by the certificate's issuer (or a responder the issuer certified), say "good"
and be about that very certificate.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from lxml import etree
from signxml import XMLVerifier
from signxml.exceptions import InvalidInput, InvalidSignature as InvalidXmlSignature

from mypages_bankid.fake.evidence import NS
from mypages_bankid.models import Signature

DS = "http://www.w3.org/2000/09/xmldsig#"


@dataclass
class Verification:
    """What was found: ``problems`` is empty when everything holds."""

    problems: list[str] = field(default_factory=list)
    certificate: str = ""
    ocsp_status: str = ""
    ocsp_produced_at: dt.datetime | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


def load_authorities(path: str | None) -> list[x509.Certificate]:
    if not path:
        return []
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _chain_to(leaf, intermediates, authorities, when) -> x509.Certificate | None:
    """The issuer of ``leaf`` if a path leads from it to a trusted authority, each
    certificate valid at ``when``; else None."""
    current, issuer_of_leaf = leaf, None
    for _ in range(len(intermediates) + 1):
        if not current.not_valid_before_utc <= when <= current.not_valid_after_utc:
            return None
        trusted = next((ca for ca in authorities if _issued_by(current, ca)), None)
        if trusted is not None:
            return issuer_of_leaf or trusted
        issuer = next((c for c in intermediates if c is not current and _issued_by(current, c)),
                      None)
        if issuer is None:
            return None
        issuer_of_leaf, current = issuer_of_leaf or issuer, issuer
    return None


def _certificates(root) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(base64.b64decode("".join(node.text.split())))
            for node in root.iter(f"{{{DS}}}X509Certificate")]


def _text_of(signed, name: str) -> bytes | None:
    node = signed.find(f"{{{NS}}}{name}")
    return None if node is None or node.text is None else base64.b64decode(node.text)


def _signed_data(results):
    for result in results:
        element = result.signed_xml
        if element is None:
            continue
        if element.tag == f"{{{NS}}}bankIdSignedData":
            return element
        found = element.find(f".//{{{NS}}}bankIdSignedData")
        if found is not None:
            return found
    return None


def _check_ocsp_signature(response, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(response.signature, response.tbs_response_bytes,
                       ec.ECDSA(response.signature_hash_algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(response.signature, response.tbs_response_bytes, padding.PKCS1v15(),
                       response.signature_hash_algorithm)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify(row: Signature, authorities: list[x509.Certificate]) -> Verification:
    found = Verification()
    if row.status != "complete" or not row.signature:
        found.problems.append("the order was not signed")
        return found
    if not authorities:
        found.problems.append("no authority to verify against: set bankid.signing_ca_file")
        return found
    try:
        xml = base64.b64decode(row.signature, validate=True)
        certificates = _certificates(etree.fromstring(xml))
    except (binascii.Error, ValueError, etree.XMLSyntaxError):
        found.problems.append("the XML signature cannot be read")
        return found
    if not certificates:
        found.problems.append("the XML signature carries no certificate")
        return found
    leaf = certificates[0]
    found.certificate = leaf.subject.rfc4514_string()
    issuer = _chain_to(leaf, certificates[1:], authorities, row.signed_at)
    if issuer is None:
        found.problems.append("the signer's certificate does not lead to a trusted authority")
    try:
        results = XMLVerifier().verify(
            xml, x509_cert=leaf.public_bytes(serialization.Encoding.PEM).decode(),
            expect_references=True)
        signed = _signed_data(results if isinstance(results, list) else [results])
    except (InvalidXmlSignature, InvalidInput) as error:
        found.problems.append(f"the XML signature is not valid: {error}")
        signed = None
    if signed is not None:
        if (_text_of(signed, "usrVisibleData") or b"").decode("utf-8", "replace") != row.text:
            found.problems.append("the signed text is not the text kept")
        if (_text_of(signed, "usrNonVisibleData") or b"") != bytes(row.data):
            found.problems.append("the signed data is not the data kept")
    elif not any(p.startswith("the XML signature is not") for p in found.problems):
        found.problems.append("the XML signature signs no BankID data")
    _check_ocsp(row, leaf, issuer, found)
    return found


def _check_ocsp(row, leaf, issuer, found: Verification) -> None:
    try:
        response = ocsp.load_der_ocsp_response(base64.b64decode(row.ocsp_response or "",
                                                                validate=True))
    except (binascii.Error, ValueError):
        found.problems.append("the OCSP response cannot be read")
        return
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        found.problems.append(f"the OCSP response is {response.response_status.name}")
        return
    found.ocsp_status = response.certificate_status.name.lower()
    found.ocsp_produced_at = response.produced_at_utc
    if response.serial_number != leaf.serial_number:
        found.problems.append("the OCSP response is about another certificate")
    if response.certificate_status != ocsp.OCSPCertStatus.GOOD:
        found.problems.append(f"the OCSP response says {found.ocsp_status}")
    if issuer is None:
        return
    responders = [issuer] + [c for c in response.certificates if _issued_by(c, issuer)]
    if not any(_check_ocsp_signature(response, responder) for responder in responders):
        found.problems.append("the OCSP response is not signed by the certificate's issuer")
