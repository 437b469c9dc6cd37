"""A SAML 2.0 identity provider on pysaml2, for the tests and the offline demo.

pysaml2's ``Server`` does the protocol: it parses the service provider's
AuthnRequest (HTTP-Redirect binding), finds the ACS in the SP's metadata,
builds the Response and signs the assertion and the response (pysaml2 calls
the ``xmlsec1`` program). Around it this module serves the IdP metadata, an
SSO endpoint that authenticates ``fake.user`` at once and answers with an
HTML form that posts the response to the ACS (a script the fake serves itself
submits it, so a Content-Security-Policy of ``script-src 'self'`` lets it run
where the fake is mounted in the app; tests read the form and post it
themselves), and misbehaviours for the
attack cases, made by editing pysaml2's XML with lxml: before signing (and
then signed again, as a real but wrongly configured IdP would) or after
signing (as an attacker in the middle would).

The signing key and certificate are made at start with ``cryptography``; a
second, "foreign" key is there to sign what the metadata does not vouch for.
The SP must be known: ``fake.trust_sp(metadata_xml)``, or the fake fetches
the metadata from the SP's entity id (ours is its metadata URL) on first
sight.

Misbehaviours (``fake.misbehave(...)``, ``fake.reset()`` ends them):

``sign_response``     False: the Response carries no signature
``sign_assertion``    False: the Assertion carries no signature
``sha1``              sign with rsa-sha1 and sha1 digests
``foreign_key``       sign with a key the metadata does not publish (its certificate in
                      KeyInfo)
``audience``          the Audience of the assertion (``None``: no AudienceRestriction)
``destination``       the Destination of the response (``None``: none)
``expire``            "conditions", "subject" or "both": NotOnOrAfter 10 minutes ago
``unsolicited``       no InResponseTo anywhere (as if the IdP started the sign-in)
``wrap``              "before", "after", "inside" or "around": after signing, a second,
                      unsigned assertion for ``wrap_nameid`` is put before or after the
                      signed one, inside its signature (ds:Object), or around it (the
                      signed one moved into the unsigned one's Advice)
``wrap_nameid``       the NameID of that unsigned assertion (the victim)
``nameid_comment``    after signing, an empty XML comment is put into the NameID text at
                      this index (``alice@example.se<!---->.evil.com``)
``doctype``           "internal-entity" (NameID as an entity of its own value),
                      "external-entity" (NameID read from ``entity_file``) or
                      "billion-laughs"; the signatures stay valid for a parser that expands
``entity_file``       the file the external entity names
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import html
import re
import secrets
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from cryptography.utils import CryptographyDeprecationWarning
from lxml import etree
from webob import Request, Response

with warnings.catch_warnings():
    # pysaml2 still imports a cipher mode from where cryptography is moving it
    warnings.simplefilter("ignore", CryptographyDeprecationWarning)
    from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name
    from saml2.config import IdPConfig
    from saml2.metadata import create_metadata_string
    from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, Assertion, NameID
    from saml2.samlp import Response as SamlResponse
    from saml2.server import Server

NS = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
SHA256 = ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256")
SHA1 = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")
#: submits the form of the SAML response, as an IdP's page does
POST_SCRIPT = 'document.getElementById("saml-post").submit();\n'
PASSWORD_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
MISBEHAVIOURS = frozenset({
    "sign_response", "sign_assertion", "sha1", "foreign_key", "audience", "destination", "expire",
    "unsolicited", "wrap", "wrap_nameid", "nameid_comment", "doctype", "entity_file"})


@dataclass
class SamlUser:
    """The person the fake signs in. Attribute names are pysaml2's friendly names ("mail",
    "displayName", ...), sent as OID URNs, or any URI, sent as it is."""

    nameid: str = "alice-7f3c9e"
    nameid_format: str = NAMEID_FORMAT_PERSISTENT
    attributes: dict = field(default_factory=lambda: {
        "mail": ["alice@example.se"], "displayName": ["Alice Andersson"]})


def _key_and_certificate(folder: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Fake SAML IdP ({name})")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=365))
                   .sign(key, hashes.SHA256()))
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


def _saml_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeSamlIdp:
    """The WSGI application; ``base_url`` is where it is served (its entity id is
    ``base_url + "/metadata"``)."""

    def __init__(self, base_url: str, user: SamlUser | None = None, *,
                 fetch_unknown_sp_metadata: bool = True):
        self.base_url = base_url.rstrip("/")
        self.user = user or SamlUser()
        self.fetch_unknown_sp_metadata = fetch_unknown_sp_metadata
        self._folder = tempfile.TemporaryDirectory(prefix="fake-saml-idp-")
        folder = Path(self._folder.name)
        self.key_file, self.cert_file = _key_and_certificate(folder, "idp")
        self.foreign_key_file, self.foreign_cert_file = _key_and_certificate(folder, "foreign")
        xmlsec1 = shutil.which("xmlsec1")
        if xmlsec1 is None:
            raise RuntimeError("the fake SAML IdP signs with the xmlsec1 program; install it")
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": False,
            }},
            "key_file": self.key_file, "cert_file": self.cert_file,
            "xmlsec_binary": xmlsec1, "metadata": {},
        })
        self._config = config
        self.server = Server(config=config)
        self._trusted: set[str] = set()
        self.misbehaviour: dict = {}
        self.last_response_xml: str | None = None
        self.last_form: tuple[str, dict] | None = None
        self.requests_seen: list[str] = []  # AuthnRequest IDs
        self.metadata_requests = 0

    # -- configuration ------------------------------------------------------------

    @property
    def entity_id(self) -> str:
        return self.base_url + "/metadata"

    @property
    def metadata_url(self) -> str:
        return self.base_url + "/metadata"

    @property
    def sso_url(self) -> str:
        return self.base_url + "/sso"

    def metadata(self) -> str:
        xml = create_metadata_string(None, config=self._config, valid=None, cert=None,
                                     keyfile=None, sign=False)
        return xml.decode() if isinstance(xml, bytes) else xml

    def trust_sp(self, metadata_xml: str | bytes) -> None:
        """Know a service provider by its metadata (as an IdP admin registers an app)."""
        text = metadata_xml.decode() if isinstance(metadata_xml, bytes) else metadata_xml
        self.server.metadata.load("inline", text)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        self._trusted.update(etree.fromstring(text.encode(), parser).xpath("//@entityID"))

    def misbehave(self, **knobs) -> None:
        unknown = set(knobs) - MISBEHAVIOURS
        if unknown:
            raise ValueError(f"unknown misbehaviour {sorted(unknown)}")
        self.misbehaviour.update(knobs)

    def reset(self) -> None:
        self.misbehaviour = {}

    def close(self) -> None:
        self._folder.cleanup()

    # -- WSGI -----------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        if request.path_info == "/post.js":
            response = Response(POST_SCRIPT, content_type="text/javascript")
        elif request.path_info == "/metadata":
            self.metadata_requests += 1
            response = Response(self.metadata(), content_type="application/samlmetadata+xml")
        elif request.path_info == "/sso" and request.method == "GET":
            response = self._sso(request)
        else:
            response = Response("not found", status=404, content_type="text/plain")
        return response(environ, start_response)

    def _sso(self, request) -> Response:
        encoded = request.GET.get("SAMLRequest")
        if not encoded:
            return Response("SAMLRequest is missing", status=400, content_type="text/plain")
        try:
            parsed = self.server.parse_authn_request(encoded, BINDING_HTTP_REDIRECT)
        except Exception as error:  # what a real IdP would show: an error page
            return Response(f"bad AuthnRequest: {error}", status=400, content_type="text/plain")
        message = parsed.message
        self.requests_seen.append(message.id)
        sp_entity_id = message.issuer.text
        if sp_entity_id not in self._trusted:
            if not self.fetch_unknown_sp_metadata:
                return Response("unknown service provider", status=403, content_type="text/plain")
            import httpx

            self.trust_sp(httpx.get(sp_entity_id, timeout=10).raise_for_status().content)
        args = self.server.response_args(message, [BINDING_HTTP_POST])
        xml = self.response_xml(args["in_response_to"], args["destination"], sp_entity_id)
        return self._post_form(args["destination"], xml, request.GET.get("RelayState"))

    # -- the response ------------------------------------------------------------------

    def response_xml(self, in_response_to: str | None, destination: str, sp_entity_id: str) -> str:
        """A signed response for ``self.user``, with the misbehaviours applied."""
        knobs = self.misbehaviour
        sign_alg, digest_alg = SHA1 if knobs.get("sha1") else SHA256
        user = self.user
        xml = str(self.server.create_authn_response(
            {k: list(v) for k, v in user.attributes.items()}, in_response_to, destination,
            sp_entity_id, name_id=NameID(format=user.nameid_format, text=user.nameid),
            authn={"class_ref": PASSWORD_CONTEXT},
            sign_response=knobs.get("sign_response", True),
            sign_assertion=knobs.get("sign_assertion", True),
            sign_alg=sign_alg, digest_alg=digest_alg))
        document = etree.fromstring(xml.encode())
        if self._edit_before_signing(document) or knobs.get("foreign_key"):
            document = self._sign_again(document)
        self._tamper_after_signing(document)
        xml = etree.tostring(document, encoding="unicode")
        xml = self._with_doctype(xml, user.nameid)
        self.last_response_xml = xml
        return xml

    def _edit_before_signing(self, document) -> bool:
        knobs = self.misbehaviour
        edited = False
        if "audience" in knobs:
            for node in list(document.iterfind(".//saml:AudienceRestriction", NS)):
                if knobs["audience"] is None:
                    node.getparent().remove(node)
                else:
                    node.find("saml:Audience", NS).text = knobs["audience"]
            edited = True
        if "destination" in knobs:
            if knobs["destination"] is None:
                document.attrib.pop("Destination", None)
            else:
                document.set("Destination", knobs["destination"])
            edited = True
        if knobs.get("expire"):
            past = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
            paths = {"conditions": [".//saml:Conditions"],
                     "subject": [".//saml:SubjectConfirmationData"],
                     "both": [".//saml:Conditions", ".//saml:SubjectConfirmationData"]}[knobs["expire"]]
            for path in paths:
                for node in document.iterfind(path, NS):
                    node.set("NotOnOrAfter", _saml_time(past))
                    if node.get("NotBefore"):
                        node.set("NotBefore", _saml_time(past - dt.timedelta(minutes=5)))
            edited = True
        if knobs.get("unsolicited"):
            for node in [document, *document.iterfind(".//saml:SubjectConfirmationData", NS)]:
                node.attrib.pop("InResponseTo", None)
            edited = True
        return edited

    def _sign_again(self, document):
        """Sign the (edited) document again: the assertion first, then the response that
        contains it; with the foreign key if asked."""
        key_file = self.key_file
        if self.misbehaviour.get("foreign_key"):
            # as an attacker would: the foreign key, and its certificate in KeyInfo
            key_file = self.foreign_key_file
            pem = Path(self.foreign_cert_file).read_text()
            body = "".join(line for line in pem.splitlines() if "-----" not in line)
            for node in document.iterfind(".//ds:X509Certificate", NS):
                node.text = body
        xml = etree.tostring(document, encoding="unicode")
        assertion = document.find("saml:Assertion", NS)
        if assertion is not None and assertion.find("ds:Signature", NS) is not None:
            xml = self.server.sec.sign_statement(xml, class_name(Assertion()), key_file=key_file,
                                                 node_id=assertion.get("ID"))
        if document.find("ds:Signature", NS) is not None:
            xml = self.server.sec.sign_statement(xml, class_name(SamlResponse()), key_file=key_file,
                                                 node_id=document.get("ID"))
        return etree.fromstring(xml.encode() if isinstance(xml, str) else xml)

    def _tamper_after_signing(self, document) -> None:
        knobs = self.misbehaviour
        if knobs.get("wrap"):
            self._wrap(document, knobs["wrap"], knobs.get("wrap_nameid", "victim"))
        if knobs.get("nameid_comment") is not None:
            nameid = document.find("saml:Assertion/saml:Subject/saml:NameID", NS)
            text, at = nameid.text, knobs["nameid_comment"]
            nameid.text = text[:at]
            comment = etree.Comment("")
            comment.tail = text[at:]
            nameid.append(comment)

    @staticmethod
    def _wrap(document, where: str, nameid: str) -> None:
        signed = document.find("saml:Assertion", NS)
        evil = copy.deepcopy(signed)
        evil.remove(evil.find("ds:Signature", NS))
        evil.set("ID", "_" + secrets.token_hex(16))
        evil.find("saml:Subject/saml:NameID", NS).text = nameid
        if where == "before":
            signed.addprevious(evil)
        elif where == "after":
            signed.addnext(evil)
        elif where == "inside":
            # content of the enveloped signature is outside what its digest covers
            holder = etree.SubElement(signed.find("ds:Signature", NS), f"{{{NS['ds']}}}Object")
            holder.append(evil)
        elif where == "around":
            signed.addprevious(evil)
            advice = etree.Element(f"{{{NS['saml']}}}Advice")
            evil.find("saml:Conditions", NS).addnext(advice)
            advice.append(signed)  # moves it
        else:
            raise ValueError(f"unknown wrapping {where!r}")

    def _with_doctype(self, xml: str, nameid: str) -> str:
        kind = self.misbehaviour.get("doctype")
        if not kind:
            return xml
        root = etree.fromstring(xml.encode())
        name = f"{root.prefix}:Response" if root.prefix else "Response"
        # the NameID's text becomes an entity that expands to exactly what was signed
        nameid_text = re.compile(r"(<(?:\w+:)?NameID\b[^>]*>)"
                                 + re.escape(html.escape(nameid, quote=False)) + "<")
        if kind == "internal-entity":
            declarations = f'<!ENTITY who "{html.escape(nameid)}">'
            xml = nameid_text.sub(r"\1&who;<", xml, count=1)
        elif kind == "external-entity":
            path = Path(self.misbehaviour["entity_file"]).resolve()
            declarations = f'<!ENTITY who SYSTEM "{path.as_uri()}">'
            xml = nameid_text.sub(r"\1&who;<", xml, count=1)
        elif kind == "billion-laughs":
            declarations = '<!ENTITY lol0 "lol">' + "".join(
                f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
            xml = xml.replace(PASSWORD_CONTEXT, PASSWORD_CONTEXT + "&lol9;", 1)
        else:
            raise ValueError(f"unknown doctype {kind!r}")
        return f"<!DOCTYPE {name} [{declarations}]>" + xml

    def _post_form(self, action: str, xml: str, relay_state: str | None) -> Response:
        encoded = base64.b64encode(xml.encode()).decode()
        fields = {"SAMLResponse": encoded}
        if relay_state is not None:
            fields["RelayState"] = relay_state
        self.last_form = (action, fields)
        inputs = "".join(f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
                         for name, value in fields.items())
        page = (f'<!doctype html><html><head><meta charset="utf-8"><title>Fake SAML IdP</title></head>'
                f'<body><form id="saml-post" method="post" action="{html.escape(action)}">{inputs}'
                f'<p>Signed in at the fake SAML identity provider as {html.escape(self.user.nameid)}.</p>'
                f'<button type="submit">Continue</button></form>'
                f'<script src="{html.escape(self.base_url)}/post.js"></script></body></html>')
        return Response(page, content_type="text/html")
