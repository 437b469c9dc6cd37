"""The client's address, the one place that decides it: ``request.client_addr``.

It is the address of the connection, unless that connection comes from a proxy named in
``mypages.trusted_proxies``; then ``X-Forwarded-For`` is read from the right, each hop a
trusted proxy wrote is passed over, and the first address no trusted proxy is known by is the
client. The values on the left are the client's own writing and are never believed. With no
trusted proxy (the default) the header is ignored altogether.

WebOb's own ``client_addr`` takes the left-most ``X-Forwarded-For`` value whenever the header
is there, so any client could choose its address; this property replaces it. Nothing in the
stack does address-based trust as a WSGI step: gunicorn never sets ``REMOTE_ADDR`` from
forwarding headers (its ``forwarded_allow_ips`` covers the scheme only); waitress trusts one
proxy address and a hop count and leaves the header in place for WebOb to misread; werkzeug's
``ProxyFix`` trusts a number of hops without looking at who connected; python-ipware matches
proxies as text prefixes and prefers headers to the connection. So this is nginx's
``real_ip_recursive`` walk, on :mod:`ipaddress` networks.
"""
from __future__ import annotations

import ipaddress
import logging
import re

from pyramid.exceptions import ConfigurationError
from pyramid.settings import aslist

from mypages.services import settings_of

log = logging.getLogger(__name__)

#: in ``mypages.trusted_proxies``: connections over a Unix socket (a proxy on the same machine)
UNIX = "unix"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# "[2001:db8::1]:443" and "192.0.2.1:443": some balancers add the client's port
_WITH_PORT = re.compile(r"^\[(?P<v6>[0-9A-Fa-f:.]+)\](?::\d{1,5})?$|^(?P<v4>[0-9.]+):\d{1,5}$")


class TrustedProxies:
    """The proxies whose ``X-Forwarded-For`` is believed: networks, and perhaps Unix sockets."""

    def __init__(self, networks: tuple[Network, ...] = (), unix: bool = False):
        self.networks = networks
        self.unix = unix

    def __bool__(self) -> bool:
        return bool(self.networks) or self.unix

    def trusts(self, address: Address | None) -> bool:
        if address is None:  # not an IP connection: a Unix socket
            return self.unix
        return any(address in network for network in self.networks)


def trusted_proxies(value: str | None) -> TrustedProxies:
    """``mypages.trusted_proxies``: addresses and networks (``10.0.0.0/8``, ``2001:db8::/32``)
    separated by spaces, commas or new lines, and ``unix`` for Unix socket connections."""
    if isinstance(value, TrustedProxies):
        return value
    networks, unix = [], False
    for item in aslist((value or "").replace(",", " ")):
        if item.lower() == UNIX:
            unix = True
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"mypages.trusted_proxies: {item!r} is neither an IP address, a network such as "
                f"10.0.0.0/8, nor {UNIX!r}") from None
    return TrustedProxies(tuple(networks), unix)


def parse_address(text: str) -> Address | None:
    """An address as a proxy writes it (perhaps with a port), or None if it is none."""
    text = text.strip().strip('"')
    match = _WITH_PORT.match(text)
    if match:
        text = match.group("v6") or match.group("v4")
    if "%" in text:  # a scope id is the proxy's business, and of any length
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve(remote_addr: str, forwarded_for: str | None, trusted: TrustedProxies) -> str:
    """The client's address from the connection's and the ``X-Forwarded-For`` header.

    A hop that is not an address (``unknown``, garbage) ends the walk: the trusted proxy that
    wrote it is the farthest anyone can vouch for. Always a normalised address or ``""``,
    never header text, so what is stored fits its column.
    """
    peer = parse_address(remote_addr or "")
    if not trusted.trusts(peer) or not forwarded_for:
        return str(peer) if peer is not None else ""
    hops = forwarded_for.split(",")
    client = peer
    while hops and trusted.trusts(client):
        hop = parse_address(hops.pop())
        if hop is None:
            break
        client = hop
    return str(client) if client is not None else ""


_warned = False


def client_addr(request) -> str:
    """``request.client_addr``: see the module's docstring."""
    global _warned
    environ = request.environ
    forwarded_for = environ.get("HTTP_X_FORWARDED_FOR")
    trusted = settings_of(request).trusted_proxies
    address = resolve(environ.get("REMOTE_ADDR", ""), forwarded_for, trusted)
    if forwarded_for and not _warned and not trusted.trusts(parse_address(
            environ.get("REMOTE_ADDR", ""))):
        _warned = True  # once per process: a hint for the operator, not a record of clients
        log.warning("X-Forwarded-For came from %r, which mypages.trusted_proxies does not name; "
                    "the header is ignored. If that is your load balancer, name it there.",
                    environ.get("REMOTE_ADDR", ""))
    return address


def includeme(config):
    config.add_request_method(client_addr, "client_addr", reify=True)
