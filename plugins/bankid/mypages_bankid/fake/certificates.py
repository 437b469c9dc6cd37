"""Certificates for the fake RP API, made when it starts (never shipped, never reused).

Two authorities, as BankID has them: one signs the server's certificate (the "BankID SSL Root
CA" a relying party pins), one signs the relying party's client certificate (which the
server demands). The client certificate is written as BankID hands it out, a PKCS#12 file
with a password, and as a PEM pair. Made with ``cryptography`` rather than trustme, so
``make run`` needs no test package.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: the password of the fake's PKCS#12 file, like the public test certificate's "qwerty123"
P12_PASSWORD = "qwerty123"
#: what a run leaves for the next one to sign and serve with (``keep=True``)
KEPT = ("server_ca.pem", "server.pem", "server.key", "rp_ca.pem", "rp.pem", "rp.key", "rp.p12",
        "signing_ca.pem", "signing_ca.key", "person.pem", "person.key")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fake BankID"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key():
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class Issued:
    certificate: x509.Certificate
    key: object

    def cert_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self, password: str | None = None) -> bytes:
        encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                      else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8, encryption)


def _issue(subject: str, issuer: Issued | None, *, ca: bool, not_after: dt.datetime,
           server: bool = False, client: bool = False, signer: bool = False) -> Issued:
    key = _key()
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(issuer.certificate.subject if issuer else _name(subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(days=1))
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
    if ca or signer:  # key identifiers, which path validation of a signer's chain wants
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if signer:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=True, key_cert_sign=False,
            crl_sign=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, encipher_only=False, decipher_only=False), critical=True
        ).add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if client:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


class FakeCertificates:
    """The fake's authorities and certificates, written as files under ``directory``:

    ``server_ca.pem``  what the relying party pins (``bankid.ca_file``)
    ``rp.p12``         the relying party's certificate and key, password :data:`P12_PASSWORD`
    ``rp.pem``, ``rp.key``  the same as a PEM pair (the key unencrypted)
    ``signing_ca.pem`` the authority of the people's certificates, which signatures verify against
    """

    def __init__(self, directory: Path | str, *, name: str = "Fake BankID",
                 rp_not_after: dt.datetime | None = None, keep: bool = False):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if keep and all((self.directory / file).exists() for file in KEPT):
            self._load()
            return
        far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3650)
        self.server_ca = _issue(f"{name} SSL Root CA", None, ca=True, not_after=far)
        self.server = _issue("localhost", self.server_ca, ca=False, not_after=far, server=True)
        self.rp_ca = _issue(f"{name} RP CA", None, ca=True, not_after=far)
        self.rp = _issue("FP Testcert fake", self.rp_ca, ca=False, client=True,
                         not_after=rp_not_after or far)
        # the people's BankID: an issuing authority and one person's signing certificate,
        # with which the fake signs every completed order (``signing_ca.pem`` is what
        # ``bankid.signing_ca_file`` names to verify signatures)
        self.signing_ca = _issue(f"{name} Customer CA", None, ca=True, not_after=far)
        self.person = _issue("Karl Karlsson", self.signing_ca, ca=False, signer=True,
                             not_after=far)
        self.signing_ca_file = self._write("signing_ca.pem", self.signing_ca.cert_pem())
        # kept so that a later process (``keep=True``) signs as the same authority
        self._write("signing_ca.key", self.signing_ca.key_pem())
        self._write("person.pem", self.person.cert_pem())
        self._write("person.key", self.person.key_pem())
        self.server_ca_file = self._write("server_ca.pem", self.server_ca.cert_pem())
        self.rp_ca_file = self._write("rp_ca.pem", self.rp_ca.cert_pem())
        self.server_cert_file = self._write("server.pem", self.server.cert_pem()
                                            + self.server_ca.cert_pem())
        self.server_key_file = self._write("server.key", self.server.key_pem())
        self.rp_cert_file = self._write("rp.pem", self.rp.cert_pem())
        self.rp_key_file = self._write("rp.key", self.rp.key_pem())
        self.rp_p12_file = self._write("rp.p12", pkcs12.serialize_key_and_certificates(
            b"rp", self.rp.key, self.rp.certificate, None,
            serialization.BestAvailableEncryption(P12_PASSWORD.encode())))

    def _load(self) -> None:
        """The files an earlier run wrote (the authorities' keys that only made the
        certificates are not needed again)."""
        def read(name: str) -> bytes:
            return (self.directory / name).read_bytes()

        def issued(certificate: str, key: str | None = None) -> Issued:
            return Issued(x509.load_pem_x509_certificate(read(certificate)),
                          serialization.load_pem_private_key(read(key), None) if key else None)

        self.server_ca, self.server = issued("server_ca.pem"), issued("server.pem", "server.key")
        self.rp_ca, self.rp = issued("rp_ca.pem"), issued("rp.pem", "rp.key")
        self.signing_ca = issued("signing_ca.pem", "signing_ca.key")
        self.person = issued("person.pem", "person.key")
        for attribute, name in (("server_ca_file", "server_ca.pem"), ("rp_ca_file", "rp_ca.pem"),
                                ("server_cert_file", "server.pem"),
                                ("server_key_file", "server.key"), ("rp_cert_file", "rp.pem"),
                                ("rp_key_file", "rp.key"), ("rp_p12_file", "rp.p12"),
                                ("signing_ca_file", "signing_ca.pem")):
            setattr(self, attribute, str(self.directory / name))

    def _write(self, name: str, data: bytes) -> str:
        path = self.directory / name
        path.write_bytes(data)
        path.chmod(0o600)
        return str(path)

    def server_context(self) -> ssl.SSLContext:
        """The fake server's TLS: its own certificate, and a client certificate of the RP
        authority demanded of every connection."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert_file, self.server_key_file)
        context.load_verify_locations(self.rp_ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
        return context
