"""Name resolution for outbound requests and DNS look-ups."""
from __future__ import annotations

import socket
from ipaddress import ip_address

import dns.exception
import dns.nameserver
import dns.resolver

from mypages.outbound.addresses import Address


class Unresolvable(Exception):
    """The name has no address (or the look-up failed)."""


def _nameserver(entry: str) -> dns.nameserver.Do53Nameserver:
    """``host``, ``host:port``, ``[v6-address]:port`` or a bare IPv6 address."""
    if entry.startswith("["):
        host, _, port = entry[1:].partition("]")
        return dns.nameserver.Do53Nameserver(host, int(port.lstrip(":") or 53))
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return dns.nameserver.Do53Nameserver(host, int(port))
    return dns.nameserver.Do53Nameserver(entry)


def resolver_from_settings(settings: dict) -> dns.resolver.Resolver:
    """The system's resolver, or ``mypages.dns.nameservers`` (``host`` or ``host:port``,
    separated by spaces)."""
    configured = settings.get("mypages.dns.nameservers", "").split()
    resolver = dns.resolver.Resolver(configure=not configured)
    if configured:
        resolver.nameservers = [_nameserver(entry) for entry in configured]
    resolver.lifetime = float(settings.get("mypages.dns.timeout", 5))
    return resolver


class AddressResolver:
    """Every address a host name has: through ``mypages.dns.nameservers`` when they are
    set, otherwise through the operating system (``getaddrinfo``: the hosts file, then
    DNS)."""

    def __init__(self, settings: dict):
        self._dns = (resolver_from_settings(settings)
                     if settings.get("mypages.dns.nameservers", "").split() else None)

    def __call__(self, host: str, port: int) -> list[Address]:
        try:
            return [ip_address(host)]
        except ValueError:
            pass
        found = self._from_dns(host) if self._dns is not None else self._from_system(host, port)
        if not found:
            raise Unresolvable(host)
        return list(dict.fromkeys(found))  # in order, once each

    def _from_dns(self, host: str) -> list[Address]:
        found = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._dns.resolve(host, rdtype, search=False)
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException:
                raise Unresolvable(host) from None
            found += [ip_address(record.address) for record in answer]
        return found

    @staticmethod
    def _from_system(host: str, port: int) -> list[Address]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise Unresolvable(host) from None
        # a scope id ("fe80::1%eth0") is not part of the address
        return [ip_address(info[4][0].split("%")[0]) for info in infos]
