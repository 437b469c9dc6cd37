"""Outbound requests under the production policy, in tests.

Production fetches admin-typed addresses over https only and never from an
internal network. To test that for real on one machine, the ``strict_outbound``
fixture builds the application with that policy, resolving names through the
tests' own DNS server, and lets through one address only: 127.0.0.2, where
:class:`TlsServer` serves https with a certificate of a test certificate
authority (trustme) for ``*.outbound.test``. It stands for the public internet;
the rest of loopback (127.0.0.1, where :class:`Trap` listens) stands for the
internal network a refused request would have reached.
"""
from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import make_server

import trustme

from mypages.testing.servers import QuietHandler, ThreadingWsgiServer

PUBLIC = "127.0.0.2"
INTERNAL = "127.0.0.1"
DOMAIN = "outbound.test"


class _TlsWsgiServer(ThreadingWsgiServer):
    def handle_error(self, request, client_address):
        pass  # a client refusing our certificate, say


class Routes:
    """A WSGI application answering ``path -> (status, headers, body)``; it records the
    paths asked for."""

    def __init__(self):
        self.routes: dict[str, tuple[str, list, bytes]] = {}
        self.asked: list[str] = []

    def serve(self, path: str, body: bytes | str, content_type: str = "application/xml") -> None:
        body = body.encode() if isinstance(body, str) else body
        self.routes[path] = ("200 OK", [("Content-Type", content_type)], body)

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = ("302 Found", [("Location", location)], b"")

    def __call__(self, environ, start_response):
        self.asked.append(environ["PATH_INFO"])
        status, headers, body = self.routes.get(environ["PATH_INFO"],
                                                ("404 Not Found", [], b"not here"))
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]


class TlsServer:
    """``app`` over https on ``host`` (a port free there and, for :class:`Trap`, also on
    127.0.0.1), in a thread."""

    def __init__(self, app, context: ssl.SSLContext, host: str = PUBLIC, port: int = 0):
        self.app = app
        self._server = make_server(host, port, app, server_class=_TlsWsgiServer,
                                   handler_class=QuietHandler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, name: str, path: str = "/") -> str:
        """``https://NAME.outbound.test:PORT/path`` (or NAME itself, when it has a dot)."""
        host = name if "." in name else f"{name}.{DOMAIN}"
        return f"https://{host}:{self.port}{path}"

    def start(self) -> "TlsServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Trap:
    """A TCP listener on 127.0.0.1 counting the connections it gets: the internal service
    that no refused request may reach."""

    def __init__(self, port: int = 0):
        self._socket = socket.create_server((INTERNAL, port))
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self.connections = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except OSError:  # the time-out of each wait, or the socket closed
                continue
            self.connections += 1
            connection.close()

    def start(self) -> "Trap":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._socket.close()


def public_and_trap(app, context: ssl.SSLContext) -> tuple[TlsServer, Trap]:
    """A :class:`TlsServer` on 127.0.0.2 and a :class:`Trap` on 127.0.0.1, on the same port:
    a request that reached the wrong address would be seen."""
    for _ in range(20):
        trap = Trap()
        try:
            server = TlsServer(app, context, PUBLIC, trap.port)
        except OSError:
            trap.stop()
            continue
        return server.start(), trap.start()
    raise RuntimeError("no port free on both loopback addresses")


class CertificateAuthority:
    """A certificate authority of the tests' own (trustme): the application trusts
    ``ca_file``; :meth:`server_context` serves ``*.outbound.test`` with its certificate."""

    def __init__(self, directory: Path):
        self._ca = trustme.CA()
        self.ca_file = str(directory / "outbound-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_file)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert(f"*.{DOMAIN}").configure_cert(context)
        return context


def strict_settings(authority: CertificateAuthority, dns_settings: dict) -> dict:
    """Production's outbound policy, with 127.0.0.2 let through and the test authority
    trusted, resolving names through the tests' DNS server."""
    return {"mypages.outbound.allow_private": "false",
            "mypages.outbound.allow_networks": f"{PUBLIC}/32",
            "mypages.outbound.ca_file": authority.ca_file, **dns_settings}


@dataclass
class StrictOutbound:
    """What the ``strict_outbound`` fixture gives: the application under production's
    outbound policy, the https server standing for the internet (``routes`` says what it
    answers), the trap on the internal address, and the DNS server the app asks."""

    app: object
    routes: Routes
    server: TlsServer
    trap: Trap
    dns: object

    def url(self, name: str, path: str = "/") -> str:
        return self.server.url(name, path)

    def reset(self) -> None:
        """As new: no routes, no DNS records, no connections seen."""
        self.routes.routes.clear()
        self.routes.asked.clear()
        self.dns.clear()
        self.trap.connections = 0
