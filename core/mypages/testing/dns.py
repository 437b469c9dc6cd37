"""A real DNS server on loopback for tests: TXT and address records the test sets, served
over UDP and TCP.

Built on dnslib's server, so the app's own dnspython resolver asks it real
questions over the wire (point ``mypages.dns.nameservers`` at it); nothing in
the app is replaced. ``stop()`` takes it down, to see what a DNS outage does.
"""
from __future__ import annotations

import socket
import threading

from ipaddress import ip_address

from dnslib import AAAA, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer as _DnslibServer

HOST = "127.0.0.1"
TTL = 60


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


class _Zone(BaseResolver):
    """Answers from the records the test set; unknown names are NXDOMAIN."""

    def __init__(self, server: "DnsServer"):
        self.server = server

    def resolve(self, request, handler):
        reply = request.reply()
        if self.server.failing:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        qname = request.q.qname
        name, qtype = _key(str(qname)), QTYPE[request.q.qtype]
        with self.server._lock:
            records = list(self.server.records.get(name, ()))
            addresses = self.server._next_addresses(name, qtype)
            self.server.queries.append((name, qtype))
            self.server.transports.append(handler.protocol)
        if addresses is not None:
            for address in addresses:
                if qtype == "A" and address.version == 4:
                    reply.add_answer(RR(qname, QTYPE.A, rdata=A(str(address)), ttl=0))
                elif qtype == "AAAA" and address.version == 6:
                    reply.add_answer(RR(qname, QTYPE.AAAA, rdata=AAAA(str(address)), ttl=0))
        elif not records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype in (QTYPE.TXT, QTYPE.ANY):
            for value in records:
                # one TXT record may hold several strings of at most 255 bytes each
                data = value.encode()
                chunks = [data[i:i + 255] for i in range(0, len(data), 255)] or [b""]
                reply.add_answer(RR(qname, QTYPE.TXT, rdata=TXT(chunks), ttl=TTL))
        # a name with records but none of the asked type: NOERROR without answers
        return reply


class _Handler(DNSHandler):
    """As a real server: an answer too long for a plain UDP message (512 bytes) goes out
    truncated (TC set, the question kept) and the client asks again over TCP."""

    def get_reply(self, data):
        if self.protocol != "udp":
            return super().get_reply(data)
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        packed = reply.pack()
        if len(packed) <= 512:
            return packed
        truncated = request.reply()
        truncated.header.tc = 1
        return truncated.pack()


def _free_port_for_udp_and_tcp() -> int:
    """A port free for both UDP and TCP (DNS clients fall back to TCP on the same port)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((HOST, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((HOST, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no port free for both UDP and TCP")


class DnsServer:
    """``start()``, set records with ``add_txt(name, value)`` and ``set_addresses(name,
    ...)``, point the app at ``settings``."""

    def __init__(self, host: str = HOST):
        self.host = host
        self.port: int | None = None
        self.records: dict[str, list[str]] = {}
        # name -> (answers in turn, the last one repeated; questions asked so far, by type)
        self.addresses: dict[str, tuple[list[list], dict[str, int]]] = {}
        self.queries: list[tuple[str, str]] = []  # (name, type) of every question received
        self.transports: list[str] = []  # "udp" or "tcp", of every question received
        #: answer SERVFAIL to everything (a broken authoritative server)
        self.failing = False
        self._lock = threading.Lock()
        self._servers: list[_DnslibServer] = []

    def start(self) -> "DnsServer":
        """Start answering: on a free port the first time, then on the same one again after
        a ``stop()`` (the apps' settings point there)."""
        quiet = DNSLogger(logf=lambda _message: None)
        for attempt in range(5):
            port = self.port or _free_port_for_udp_and_tcp()
            try:
                servers = [_DnslibServer(_Zone(self), address=self.host, port=port, tcp=tcp,
                                         logger=quiet, handler=_Handler) for tcp in (False, True)]
            except OSError:
                if attempt == 4:
                    raise
                continue  # taken between the probe and the bind
            for server in servers:
                server.start_thread()
            self._servers, self.port = servers, port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """Stop answering; the port is closed, as when a name server is down."""
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    @property
    def running(self) -> bool:
        return bool(self._servers)

    @property
    def settings(self) -> dict:
        """App settings that resolve through this server only."""
        return {"mypages.dns.nameservers": f"{self.host}:{self.port}", "mypages.dns.timeout": "2"}

    def add_txt(self, name: str, value: str) -> None:
        with self._lock:
            self.records.setdefault(_key(name), []).append(value)

    def set_addresses(self, name: str, *answers) -> None:
        """A and AAAA records of ``name``. Each answer is an address or a list of them; with
        several answers, the first question of each type gets the first, the next one
        the next, and so on, the last one repeated (a name that changes its address
        between two look-ups, as in DNS rebinding). TTL 0: resolvers do not keep them."""
        turns = [[ip_address(a) for a in ([answer] if isinstance(answer, str) else answer)]
                 for answer in answers]
        with self._lock:
            self.addresses[_key(name)] = (turns, {})

    def _next_addresses(self, name: str, qtype: str) -> list | None:
        if name not in self.addresses:
            return None
        turns, asked = self.addresses[name]
        turn = asked.get(qtype, 0)
        asked[qtype] = turn + 1
        return turns[min(turn, len(turns) - 1)]

    def remove(self, name: str) -> None:
        with self._lock:
            self.records.pop(_key(name), None)
            self.addresses.pop(_key(name), None)

    def clear(self) -> None:
        with self._lock:
            self.records.clear()
            self.addresses.clear()
            self.queries.clear()
            self.transports.clear()
        self.failing = False
