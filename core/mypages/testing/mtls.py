"""An https server that requires client certificates (mutual TLS), on loopback, for plugins
whose outside service authenticates the caller by its certificate (BankID's RP API, say):
the ``certificate_authority`` and ``mtls_server`` fixtures.

The server's certificate (for 127.0.0.1 and localhost) and the client certificates it
accepts are issued by a throwaway certificate authority (trustme); a client without one
of its certificates is refused in the TLS handshake, before any HTTP.
"""
from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme

from mypages.testing.outbound import TlsServer

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate and its private key, as PEM files (``cert`` holds the chain)."""

    cert: str
    key: str

    @property
    def pair(self) -> tuple[str, str]:
        """``(cert, key)``: what ``ssl.SSLContext.load_cert_chain`` (and requests) take."""
        return (self.cert, self.key)


def issue_client_certificate(ca: trustme.CA, directory: Path, name: str = "client") -> ClientCertificate:
    """A client certificate issued by ``ca`` for ``name``, written to ``directory``."""
    leaf = ca.issue_cert(f"{name}.client.test", common_name=name)
    cert, key = directory / f"{name}-cert.pem", directory / f"{name}-key.pem"
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key))
    return ClientCertificate(str(cert), str(key))


class MtlsServer:
    """``app`` (a WSGI application) over https on 127.0.0.1, accepting only clients with a
    certificate of ``client_ca``; its own certificate is of ``server_ca``.

    ``url`` is its address, ``ca_file`` the file of the authority to trust it by,
    ``client`` a :class:`ClientCertificate` it accepts (``issue_client(name)`` makes more);
    ``client_context()`` is an SSL context that trusts the server and presents ``client``.
    """

    def __init__(self, app, directory: Path, client_ca: trustme.CA,
                 server_ca: trustme.CA | None = None):
        self.directory = Path(directory)
        self.client_ca = client_ca
        server_ca = server_ca or client_ca
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(context)
        server_ca.issue_cert(HOST, "localhost").configure_cert(context)
        self.ca_file = str(self.directory / "server-ca.pem")
        server_ca.cert_pem.write_to_path(self.ca_file)
        self.client = self.issue_client("client")
        self._server = TlsServer(app, context, host=HOST)
        self.port = self._server.port
        self.url = f"https://{HOST}:{self.port}"

    def issue_client(self, name: str) -> ClientCertificate:
        return issue_client_certificate(self.client_ca, self.directory, name)

    def client_context(self, client: ClientCertificate | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(*(client or self.client).pair)
        return context

    def start(self) -> "MtlsServer":
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()
