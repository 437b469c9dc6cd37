"""The outbound client on its own: the names it resolves, what it refuses before any
connection, and the application's client as configured."""
from __future__ import annotations

from ipaddress import ip_address

import pytest

from mypages.outbound import Outbound, OutboundError, Policy, outbound_client
from mypages.outbound.resolver import AddressResolver, Unresolvable
from mypages.settings import Settings, parse
from mypages.testing.outbound import Trap
from mypages.toolkit import Outbound as ToolkitOutbound, OutboundError as ToolkitOutboundError
from mypages.toolkit import outbound_client as toolkit_outbound_client


@pytest.fixture
def trap():
    trap = Trap().start()
    yield trap
    trap.stop()


def strict() -> Outbound:
    return Outbound(Policy(), AddressResolver(Settings()))


def test_the_system_resolver_is_asked_without_configured_name_servers():
    assert ip_address("127.0.0.1") in AddressResolver(Settings())("localhost", 443)


def test_localhost_through_the_system_resolver_is_refused(trap):
    with pytest.raises(OutboundError) as refused:
        strict().get(f"https://localhost:{trap.port}/")
    assert refused.value.reason == "address"
    assert trap.connections == 0


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1"])
def test_other_spellings_of_loopback_are_refused(trap, host):
    """The check is on the address the name resolves to, however it is written."""
    with pytest.raises(OutboundError) as refused:
        strict().get(f"https://{host}:{trap.port}/")
    assert refused.value.reason in ("address", "unresolvable", "invalid")
    assert trap.connections == 0


def test_configured_name_servers_are_asked(dns_server):
    dns_server.set_addresses("idp.example.test", ["192.0.2.10", "2001:db8::10"])
    resolve = AddressResolver(parse({"sqlalchemy.url": "sqlite://", **dns_server.settings}))
    assert resolve("idp.example.test", 443) == [ip_address("192.0.2.10"), ip_address("2001:db8::10")]
    with pytest.raises(Unresolvable):
        resolve("nowhere.example.test", 443)


def test_a_name_that_does_not_resolve_is_a_clear_error(dns_server):
    settings = parse({"sqlalchemy.url": "sqlite://", **dns_server.settings})
    outbound = Outbound(Policy(), AddressResolver(settings))
    with pytest.raises(OutboundError) as failed:
        outbound.get("https://nowhere.example.test/metadata")
    assert failed.value.reason == "unresolvable"
    assert failed.value.message.interpolate() == "nowhere.example.test could not be found."


@pytest.mark.parametrize("url, reason", [
    ("http://idp.example.test/", "scheme"),
    ("ftp://idp.example.test/", "invalid"),
    ("https:///no-host", "invalid"),
    ("https://[fd00:ec2::254]/", "address"),
])
def test_check_refuses_without_the_network(url, reason):
    with pytest.raises(OutboundError) as refused:
        strict().check(url)
    assert refused.value.reason == reason


def test_check_resolved_looks_the_name_up_now(dns_server):
    """For forms: one internal address among the name's is enough to refuse it; a name
    that cannot be found is left to the fetch."""
    dns_server.set_addresses("idp.example.test", "93.184.215.14")
    dns_server.set_addresses("mixed.example.test", ["93.184.215.14", "10.0.0.5"])
    dns_server.set_addresses("metadata.example.test", "169.254.169.254")
    settings = parse({"sqlalchemy.url": "sqlite://", **dns_server.settings})
    outbound = Outbound(Policy(), AddressResolver(settings))
    assert outbound.check_resolved("https://idp.example.test/x") == "https://idp.example.test/x"
    assert outbound.check("https://mixed.example.test/") == "https://mixed.example.test/"
    with pytest.raises(OutboundError) as refused:
        outbound.check_resolved("https://mixed.example.test/")
    assert refused.value.reason == "address"
    assert refused.value.message.interpolate() == (
        "mixed.example.test leads to an address in a private or internal network, which "
        "cannot be fetched.")
    assert outbound.check_resolved("https://nowhere.example.test/") == "https://nowhere.example.test/"
    development = Outbound(Policy(allow_private=True), AddressResolver(settings))
    with pytest.raises(OutboundError):
        development.check_resolved("https://metadata.example.test/")
    with pytest.raises(OutboundError) as refused:
        outbound.check_resolved("http://idp.example.test/")
    assert refused.value.reason == "scheme"


def test_the_application_has_one_client_for_the_core_and_the_plugins(app):
    client = outbound_client(app.registry)
    assert isinstance(client, Outbound) and client is app.registry["sso.providers"]["azure"].outbound
    assert (ToolkitOutbound, ToolkitOutboundError, toolkit_outbound_client) == (
        Outbound, OutboundError, outbound_client)
    # the tests' own settings: the fake identity providers listen on loopback
    assert client.policy == Policy(allow_private=True)
