"""Which network addresses an outbound request may connect to."""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

Address = IPv4Address | IPv6Address

#: cloud instance metadata services (AWS, Azure, GCP, OpenStack; AWS over IPv6): never
#: reachable from outbound requests, whatever the policy says
METADATA_ADDRESSES = frozenset({ip_address("169.254.169.254"), ip_address("fd00:ec2::254")})

# IPv6 prefixes that carry an IPv4 address inside them
_NAT64 = ip_network("64:ff9b::/96")
_NAT64_LOCAL = ip_network("64:ff9b:1::/48")


def plain(address: Address) -> Address:
    """An IPv4-mapped IPv6 address (``::ffff:127.0.0.1``) as the IPv4 address it is."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def embedded_ipv4(address: Address) -> list[IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to through a translation mechanism
    (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, IPv4Address):
        return []
    found = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64 or address in _NAT64_LOCAL:
        found.append(IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _public(address: Address) -> bool:
    return (address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_reserved or address.is_multicast or address.is_unspecified))


def is_public(address: Address) -> bool:
    """On the public internet: not loopback, private, link-local, the shared address space
    (100.64.0.0/10), reserved, multicast, unspecified or for documentation; nor an IPv6
    address that leads to one of those."""
    return (_public(address) and all(_public(inner) for inner in embedded_ipv4(address))
            and not is_metadata(address))


def is_metadata(address: Address) -> bool:
    return any(candidate in METADATA_ADDRESSES
               for candidate in (address, *embedded_ipv4(address)))


def parse_networks(value: str) -> tuple:
    """``mypages.outbound.allow_networks``: networks in CIDR notation, separated by spaces
    or lines."""
    return tuple(ip_network(entry, strict=False) for entry in value.split())


@dataclass(frozen=True)
class Policy:
    """What outbound requests may reach.

    By default only https, and only addresses on the public internet.
    ``allow_private`` (development and tests: the offline fakes on loopback) lets plain
    http and every address through; ``allowed_networks`` are internal networks an
    operator lets through on purpose (an identity provider on the company network).
    Cloud metadata addresses are refused in every case.
    """

    allow_private: bool = False
    allowed_networks: tuple = ()

    def scheme_allowed(self, scheme: str) -> bool:
        return scheme == "https" or (scheme == "http" and self.allow_private)

    def address_allowed(self, address: Address) -> bool:
        address = plain(address)
        if is_metadata(address):
            return False
        if self.allow_private or is_public(address):
            return True
        return any(address.version == network.version and address in network
                   for network in self.allowed_networks)
