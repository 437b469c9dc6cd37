"""A company's connection: its settings, its encrypted secrets, its provider."""
from __future__ import annotations

import json

from sqlalchemy import select

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
