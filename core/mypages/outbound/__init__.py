"""Outbound requests to addresses people type: one HTTP client that never reaches
internal networks.

Company admins type the addresses of their identity providers; a plugin's
settings may hold more. Fetched from the server, such an address could reach
what only the server can (a database's admin page on loopback, the cloud's
instance metadata with its credentials): server-side request forgery. Every
such request goes through :class:`~mypages.outbound.client.Outbound`,
``request.outbound`` (or :func:`outbound_client` with the registry), which
refuses them under the policy of :class:`~mypages.outbound.addresses.Policy`.

Settings:

``mypages.outbound.allow_private``
    ``true`` lets plain http and internal addresses through: for development
    and tests, whose fake identity providers listen on loopback. Production
    refuses to start with it.
``mypages.outbound.allow_networks``
    internal networks (CIDR, separated by spaces) that may be reached on
    purpose, for example an identity provider on the company network.
``mypages.outbound.ca_file``
    a PEM file of the certificate authorities to trust instead of the
    public ones (certifi's), for such an internal identity provider.
``mypages.outbound.timeout``
    seconds; each connection, read and the whole answer (default 10).
"""
from __future__ import annotations

from pyramid.exceptions import ConfigurationError
from pyramid.settings import asbool

from mypages.outbound.addresses import Policy, parse_networks
from mypages.outbound.client import DEFAULT_TIMEOUT, Outbound, OutboundError
from mypages.outbound.resolver import AddressResolver

__all__ = ["Outbound", "OutboundError", "Policy", "outbound_client", "includeme"]


def policy_from_settings(settings: dict) -> Policy:
    try:
        networks = parse_networks(settings.get("mypages.outbound.allow_networks", ""))
    except ValueError as error:
        raise ConfigurationError(f"mypages.outbound.allow_networks: {error}") from None
    return Policy(allow_private=asbool(settings.get("mypages.outbound.allow_private", False)),
                  allowed_networks=networks)


def outbound_client(registry) -> Outbound:
    """The application's outbound client (on a request: ``request.outbound``)."""
    return registry["outbound"]


def includeme(config):
    settings = config.get_settings()
    config.registry["outbound"] = Outbound(
        policy_from_settings(settings), AddressResolver(settings),
        ca_file=settings.get("mypages.outbound.ca_file") or None,
        timeout=float(settings.get("mypages.outbound.timeout", DEFAULT_TIMEOUT)))
    config.add_request_method(lambda request: request.registry["outbound"], "outbound", reify=True)
