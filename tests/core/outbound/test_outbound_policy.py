"""Which addresses the outbound policy lets a request connect to."""
from __future__ import annotations

from ipaddress import ip_address, ip_network

import pytest

from mypages.outbound.addresses import Policy, is_public

INTERNAL = [
    "127.0.0.1", "127.255.255.254", "::1",                       # loopback
    "10.0.0.1", "172.16.0.1", "192.168.1.1", "fc00::1", "fd12:3456::1",  # private
    "169.254.1.1", "fe80::1",                                    # link-local
    "169.254.169.254", "fd00:ec2::254",                          # cloud instance metadata
    "100.64.0.1", "100.127.255.254",                             # shared address space (CGNAT)
    "0.0.0.0", "::", "0.1.2.3",                                  # unspecified, "this network"
    "224.0.0.1", "ff02::1",                                      # multicast
    "240.0.0.1", "255.255.255.255",                              # reserved, broadcast
    "192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1",  # documentation
    "198.18.0.1",                                                # benchmarking
    # IPv6 forms of internal IPv4 addresses: mapped, 6to4, NAT64, Teredo
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "2002:7f00:1::", "2002:a9fe:a9fe::1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
]
PUBLIC = ["1.1.1.1", "8.8.8.8", "20.190.128.1", "2606:4700::1111", "2a00:1450:4001::1",
          "2002:808:808::1"]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_not_public(address):
    assert not is_public(ip_address(address))
    assert not Policy().address_allowed(ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert is_public(ip_address(address))
    assert Policy().address_allowed(ip_address(address))


def test_development_allows_internal_addresses_but_never_cloud_metadata():
    policy = Policy(allow_private=True)
    for address in ("127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "::ffff:127.0.0.1"):
        assert policy.address_allowed(ip_address(address))
    for address in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254",
                    "64:ff9b::a9fe:a9fe"):
        assert not policy.address_allowed(ip_address(address))


def test_allowed_networks_let_their_addresses_through_and_no_others():
    policy = Policy(allowed_networks=(ip_network("10.1.0.0/16"), ip_network("169.254.0.0/16")))
    assert policy.address_allowed(ip_address("10.1.2.3"))
    assert policy.address_allowed(ip_address("::ffff:10.1.2.3"))
    assert not policy.address_allowed(ip_address("10.2.0.1"))
    assert not policy.address_allowed(ip_address("127.0.0.1"))
    assert policy.address_allowed(ip_address("169.254.1.1"))
    assert not policy.address_allowed(ip_address("169.254.169.254"))  # not even when listed


def test_only_https_unless_development_says_so():
    assert Policy().scheme_allowed("https")
    assert not Policy().scheme_allowed("http")
    assert Policy(allow_private=True).scheme_allowed("http")
    assert not Policy(allow_private=True).scheme_allowed("ftp")
