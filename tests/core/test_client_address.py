"""The client's address: the connection's, unless a trusted proxy forwarded the request."""
import pytest
from pyramid.exceptions import ConfigurationError

from mypages.client_address import parse_address, resolve, trusted_proxies
from mypages.settings import parse

DATABASE = {"sqlalchemy.url": "sqlite://"}

BALANCERS = trusted_proxies("10.0.0.0/8, 2001:db8:1::/48\n192.0.2.10")


@pytest.mark.parametrize("forwarded", [None, "", "6.6.6.6", "6.6.6.6, 10.0.0.9"])
def test_without_trusted_proxies_the_header_is_ignored(forwarded):
    assert resolve("203.0.113.5", forwarded, trusted_proxies("")) == "203.0.113.5"


def test_a_connection_not_from_a_trusted_proxy_is_the_client_whatever_it_forwards():
    assert resolve("203.0.113.5", "10.0.0.9", BALANCERS) == "203.0.113.5"
    assert resolve("203.0.113.5", "198.51.100.7, 10.0.0.9", BALANCERS) == "203.0.113.5"


@pytest.mark.parametrize("forwarded, client", [
    ("198.51.100.7", "198.51.100.7"),
    # what the client wrote on the left is never believed: the right-most untrusted hop wins
    ("6.6.6.6, 198.51.100.7", "198.51.100.7"),
    ("6.6.6.6, 198.51.100.7, 10.0.0.9, 192.0.2.10", "198.51.100.7"),
    ("10.1.1.1, 198.51.100.7, 10.2.2.2", "198.51.100.7"),
    # hops as balancers write them: ports, IPv6 in brackets, IPv4 mapped into IPv6, spaces
    ("198.51.100.7:51234", "198.51.100.7"),
    ("[2001:DB8:2::7]:443", "2001:db8:2::7"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("  198.51.100.7 ,10.0.0.9", "198.51.100.7"),
    # a hop that is not an address: the trusted proxy that wrote it is as far as anyone vouches
    ("198.51.100.7, unknown", "10.0.0.2"),
    ("198.51.100.7, " + "x" * 5000, "10.0.0.2"),
    ("198.51.100.7, fe80::1%" + "e" * 300, "10.0.0.2"),
    # every hop trusted: the farthest one
    ("10.3.3.3, 10.4.4.4", "10.3.3.3"),
])
def test_behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client(forwarded, client):
    assert resolve("10.0.0.2", forwarded, BALANCERS) == client


def test_ipv6_balancers_and_networks():
    assert resolve("2001:db8:1::5", "2001:db8:9::1, 2001:db8:1::6", BALANCERS) == "2001:db8:9::1"
    assert resolve("2001:db8:2::5", "198.51.100.7", BALANCERS) == "2001:db8:2::5"


def test_unix_socket_connections_are_trusted_only_when_named():
    assert resolve("", "198.51.100.7", trusted_proxies("unix")) == "198.51.100.7"
    assert resolve("", "198.51.100.7", BALANCERS) == ""
    assert resolve("", None, trusted_proxies("unix")) == ""


def test_the_result_is_always_a_normalised_address_or_nothing():
    assert resolve("not an address", "198.51.100.7", BALANCERS) == ""
    assert resolve("2001:0DB8:0000::0001", None, BALANCERS) == "2001:db8::1"
    assert parse_address('"198.51.100.7"') is not None
    assert parse_address("198.51.100.7:http") is None


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.example.se", "10.0.0.1-10.0.0.9"])
def test_a_wrong_trusted_proxy_stops_start_up(value):
    with pytest.raises(ConfigurationError, match="mypages.trusted_proxies"):
        parse({**DATABASE, "mypages.trusted_proxies": value})


def test_the_setting_is_read_once():
    trusted = parse({**DATABASE, "mypages.trusted_proxies": "10.0.0.0/8 unix"}).trusted_proxies
    assert trusted.unix and [str(n) for n in trusted.networks] == ["10.0.0.0/8"]
    assert not parse(DATABASE).trusted_proxies
