"""Name resolution for outbound requests and DNS look-ups."""
from __future__ import annotations

import socket
from ipaddress import ip_address
from typing import TYPE_CHECKING

import dns.exception
import dns.nameserver
import dns.resolver

from mypages.outbound.addresses import Address

if TYPE_CHECKING:  # the settings parse the outbound policy's networks with this package
    from mypages.settings import Settings


class Unresolvable(Exception):
    """The name has no address (or the look-up failed)."""


def resolver_from_settings(settings: Settings) -> dns.resolver.Resolver:
    """The system's resolver, or the name servers of ``mypages.dns.nameservers``."""
    configured = settings.dns_nameservers
    resolver = dns.resolver.Resolver(configure=not configured)
    if configured:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)
                                for host, port in configured]
    resolver.lifetime = settings.dns_timeout
    return resolver


class AddressResolver:
    """Every address a host name has: through ``mypages.dns.nameservers`` when they are
    set, otherwise through the operating system (``getaddrinfo``: the hosts file, then
    DNS)."""

    def __init__(self, settings: Settings):
        self._dns = resolver_from_settings(settings) if settings.dns_nameservers else None

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
