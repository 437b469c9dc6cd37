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

from mypages.outbound.addresses import Policy
from mypages.outbound.client import Outbound, OutboundError
from mypages.outbound.resolver import AddressResolver
from mypages.services import find, settings_of

__all__ = ["Outbound", "OutboundError", "Policy", "outbound_client", "includeme"]


def outbound_from_settings(settings) -> Outbound:
    outbound = settings.outbound
    return Outbound(Policy(allow_private=outbound.allow_private,
                           allowed_networks=outbound.allow_networks),
                    AddressResolver(settings), ca_file=outbound.ca_file, timeout=outbound.timeout)


def outbound_client(registry) -> Outbound:
    """The application's outbound client, a service (on a request also ``request.outbound``);
    ``registry`` may also be anything with one (a request, a job's context)."""
    return find(registry, Outbound)


def includeme(config):
    client = outbound_from_settings(settings_of(config))
    # also kept as such: identity providers are handed it while the app is configured,
    # before services can be looked up
    config.registry["outbound"] = client
    config.register_service(client, Outbound)
    config.add_request_method(outbound_client, "outbound", reify=True)
