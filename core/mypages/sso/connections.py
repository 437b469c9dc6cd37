"""A company's connection: its settings, its encrypted secrets, its provider, and the
addresses it makes the core fetch, checked before it is saved."""
from __future__ import annotations

import json

from sqlalchemy import select

from mypages.outbound import Outbound, OutboundError
from mypages.sso import saml
from mypages.sso.models import SsoConnection

#: the key of the Single Sign On module
MODULE_KEY = "sso"


def connection_of(dbsession, company_id: int) -> SsoConnection | None:
    return dbsession.scalars(select(SsoConnection).where(
        SsoConnection.company_id == company_id)).one_or_none()


def provider_of(registry, connection: SsoConnection):
    return registry["sso.providers"].get(connection.provider)


def values_of(registry, connection: SsoConnection) -> dict:
    """Settings and decrypted secrets together, for the provider and the protocol code."""
    values = dict(connection.settings or {})
    if connection.secrets_encrypted:
        values.update(json.loads(registry["crypto"].decrypt(connection.secrets_encrypted)))
    return values


def store_secrets(registry, connection: SsoConnection, secrets: dict) -> None:
    connection.secrets_encrypted = (registry["crypto"].encrypt(json.dumps(secrets))
                                    if secrets else None)


def check_addresses(outbound: Outbound, provider, protocol: str, values: dict) -> list:
    """What the core will fetch for the connection, checked before it is saved, whichever
    plugin offers the provider: a SAML connection's metadata is fetched and read; an
    OIDC connection's discovery address (its authority's host) must pass the outbound
    policy, its name looked up now, as fetching it later would."""
    if protocol == "saml":
        return saml.check_idp_metadata(outbound, values)
    try:
        outbound.check_resolved(provider.discovery_url(values))
    except OutboundError as error:
        return [error.message]
    return []
