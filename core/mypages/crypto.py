"""Encryption at rest for secrets (TOTP secrets, later SSO client secrets and API keys).

Keys come from the environment (``mypages.encryption_keys = env:MYPAGES_ENCRYPTION_KEYS``),
comma-separated Fernet keys, newest first. Everything is encrypted with the
first key and decrypted with any of them, so a key is rotated by putting a
new one in front, running ``mypages keys rotate`` (which re-encrypts every
stored secret) and then dropping the old key. Nobody is signed out.
"""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select, update

# the keys are read as settings, where production's checks refuse the development key
from mypages.services import settings_of
from mypages.settings import DEVELOPMENT_KEY


class DecryptionFailed(Exception):
    """A stored secret could not be decrypted with any configured key."""


class Encryptor:
    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed("no configured key decrypts this value") from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` with the newest key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise DecryptionFailed("no configured key decrypts this value") from exc


def new_key() -> str:
    return Fernet.generate_key().decode()


def add_encrypted_column(config, column) -> None:
    """Directive: ``column`` (a mapped attribute) holds values from ``Encryptor.encrypt``;
    ``mypages keys rotate`` re-encrypts it."""
    config.registry["crypto.columns"].append(column)


def rotate_all(registry, dbsession) -> dict[str, int]:
    """Re-encrypt every registered column with the newest key; returns counts per column."""
    encryptor = registry["crypto"]
    counts = {}
    for column in registry["crypto.columns"]:
        model = column.class_
        key_columns = list(model.__mapper__.primary_key)
        rows = dbsession.execute(select(*key_columns, column).where(column.is_not(None))).all()
        for row in rows:
            *keys, value = row
            dbsession.execute(update(model).where(*[c == k for c, k in zip(key_columns, keys)])
                              .values({column.key: encryptor.rotate(value)}))
        counts[f"{model.__tablename__}.{column.key}"] = len(rows)
    return counts


def includeme(config):
    keys = settings_of(config).encryption_keys
    config.registry["crypto"] = Encryptor(list(keys) or [DEVELOPMENT_KEY])
    config.registry["crypto.columns"] = []
    config.add_directive("add_encrypted_column", add_encrypted_column)
