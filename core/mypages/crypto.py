"""Encryption at rest for secrets (TOTP secrets, SSO client secrets, plugins' columns).

Keys come from the environment (``mypages.encryption_keys = env:MYPAGES_ENCRYPTION_KEYS``),
comma-separated Fernet keys, newest first. Everything is encrypted with the
first key and decrypted with any of them, so a key is rotated by putting a
new one in front, running ``mypages keys rotate`` (which re-encrypts every
stored secret) and then dropping the old key. Nobody is signed out.

A column of type :class:`EncryptedText` is encrypted on write and decrypted on read
with these keys, which :func:`bind_keys` hands to the engine's dialect (all a column type
is given). An encrypted value cannot be searched for; a :class:`BlindIndex` column beside
it holds a keyed hash (HMAC-SHA256 under ``mypages.blind_index_key``, its own keys) of
the normalised value, filled in on every ORM write, which :func:`blind_index_lookup`
finds rows by. ``mypages keys rotate`` re-encrypts every such column and rebuilds every
blind index with the newest keys.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Callable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String, Text, event, inspect, select, update
from sqlalchemy.orm import Mapper
from sqlalchemy.types import TypeDecorator

# the keys are read as settings, where production's checks refuse the development key
from mypages.services import registry_of, settings_of
from mypages.settings import DEVELOPMENT_BLIND_INDEX_KEY, DEVELOPMENT_KEY


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
    """A random key: a Fernet key, also good as a blind index key."""
    return Fernet.generate_key().decode()


Normalizer = Callable[[str], str]


def normalized(value: str) -> str:
    """The default normalisation of a blind index: spaces collapsed, case folded, so
    ``" Anna@Example.SE "`` and ``"anna@example.se"`` are found alike."""
    return " ".join(value.split()).casefold()


class BlindIndexer:
    """Keyed hashes of values: HMAC-SHA256 under the newest key for what is written, under
    every key for look-ups (rows not yet rebuilt after a new key was put first)."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("at least one blind index key is needed")
        self._keys = [key.encode() for key in keys]

    def _digest(self, key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    def digest(self, value: str, normalize: Normalizer | None = None) -> str:
        return self._digest(self._keys[0], (normalize or normalized)(value))

    def digests(self, value: str, normalize: Normalizer | None = None) -> list[str]:
        return [self._digest(key, (normalize or normalized)(value)) for key in self._keys]


@dataclass(frozen=True)
class Keyring:
    """The keys a database's encrypted columns and blind indexes are written with."""

    encryptor: Encryptor
    indexer: BlindIndexer


def bind_keys(engine, keyring: Keyring) -> None:
    """Give ``engine``'s columns of :class:`EncryptedText` and :class:`BlindIndex` their
    keys: a column type is given the dialect only, and each engine has its own."""
    engine.dialect.mypages_keyring = keyring


def _keyring(dialect) -> Keyring:
    keyring = getattr(dialect, "mypages_keyring", None)
    if keyring is None:
        raise RuntimeError("this engine has no keys for encrypted columns: make it with "
                           "mypages.db (the application's registry['db.engine'])")
    return keyring


class EncryptedText(TypeDecorator):
    """Text encrypted at rest with ``mypages.encryption_keys`` (Fernet: AES with an HMAC):
    written encrypted with the newest key, read back as the text. Cannot be compared in
    SQL; find rows by a :class:`BlindIndex` instead. ``mypages keys rotate`` re-encrypts
    every column of this type in a table of the database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError("an EncryptedText column holds text")
        return _keyring(dialect).encryptor.encrypt(value)

    def process_result_value(self, value, dialect):
        return None if value is None else _keyring(dialect).encryptor.decrypt(value)


class BlindIndex(TypeDecorator):
    """The keyed hash of the column ``source``'s value (64 hexadecimal characters), filled in
    whenever a row is written through the ORM; ``normalize`` makes the value canonical first
    (by default spaces are collapsed and case folded). Index it, and look rows up with
    :func:`blind_index_lookup`."""

    impl = String(64)
    cache_ok = True

    def __init__(self, source: str, normalize: Normalizer | None = None):
        super().__init__()
        self.source = source
        self.normalize = normalize


def blind_index(where, value: str, normalize: Normalizer | None = None) -> str:
    """The blind index of ``value`` (normalised by ``normalize``, by default spaces collapsed
    and case folded) under the newest key; ``where`` is the registry, a request, or a job's
    or an event's context."""
    return registry_of(where)["crypto.keyring"].indexer.digest(value, normalize)


def blind_index_lookup(where, column, value: str):
    """A condition for ``select(...).where()``: the :class:`BlindIndex` ``column`` is that
    of ``value`` (under any configured key, so rows are found before a rotation rebuilt
    them)."""
    indexer = registry_of(where)["crypto.keyring"].indexer
    return column.in_(indexer.digests(value, column.type.normalize))


def _blind_indexes(mapper) -> list[tuple[str, BlindIndex]]:
    """(attribute, type) of each blind index column of a mapped class, cached on the mapper."""
    found = mapper.__dict__.get("_mypages_blind_indexes")
    if found is None:
        found = [(mapper.get_property_by_column(column).key, column.type)
                 for column in mapper.columns if isinstance(column.type, BlindIndex)]
        mapper._mypages_blind_indexes = found
    return found


def _fill_blind_indexes(mapper, connection, target) -> None:
    indexes = _blind_indexes(mapper)
    if not indexes:
        return
    state = inspect(target)
    indexer = _keyring(connection.dialect).indexer
    for attribute, index in indexes:
        source = state.attrs[index.source]
        if state.persistent and not source.history.has_changes():
            continue
        value = source.value
        setattr(target, attribute, None if value is None else indexer.digest(value,
                                                                             index.normalize))


event.listen(Mapper, "before_insert", _fill_blind_indexes)
event.listen(Mapper, "before_update", _fill_blind_indexes)


def register_encrypted_column(config, column) -> None:
    """Directive: ``column`` (a mapped attribute) holds values from ``Encryptor.encrypt``;
    ``mypages keys rotate`` re-encrypts it."""
    config.registry["crypto.columns"].append(column)


def _encrypted_tables(mappers) -> dict:
    """The tables of ``mappers`` that have columns of :class:`EncryptedText` or
    :class:`BlindIndex`."""
    tables = {}
    for mapper in mappers:
        table = mapper.local_table
        if any(isinstance(column.type, (EncryptedText, BlindIndex)) for column in table.columns):
            tables[table.name] = table
    return tables


def _rotate_table(dbsession, table, indexer: BlindIndexer) -> int:
    """Write every row's encrypted values again (with the newest key, by their type) and its
    blind indexes from the values read."""
    key_columns = list(table.primary_key.columns)
    encrypted = [c for c in table.columns if isinstance(c.type, EncryptedText)]
    indexes = [c for c in table.columns if isinstance(c.type, BlindIndex)]
    sources = {table.c[index.type.source] for index in indexes}
    read = list(dict.fromkeys(encrypted + list(sources)))
    rows = dbsession.execute(select(*key_columns, *read)).all()
    for row in rows:
        keys, values = row[:len(key_columns)], dict(zip((c.name for c in read),
                                                        row[len(key_columns):]))
        changes = {column.name: values[column.name] for column in encrypted}
        for index in indexes:
            value = values[index.type.source]
            changes[index.name] = (None if value is None
                                   else indexer.digest(value, index.type.normalize))
        dbsession.execute(update(table).where(*[c == k for c, k in zip(key_columns, keys)])
                          .values(changes))
    return len(rows)


def rotate_all(registry, dbsession, mappers=()) -> dict[str, int]:
    """Re-encrypt every registered column and every column of :class:`EncryptedText` of
    ``mappers``' tables with the newest key, and rebuild their blind indexes with the newest
    blind index key; returns counts per column or table. Tables not in the database (a
    plugin that was never migrated) are left alone."""
    encryptor = registry["crypto"]
    counts = {}
    present = set(inspect(dbsession.connection()).get_table_names())
    for name, table in sorted(_encrypted_tables(mappers).items()):
        if name in present:
            counts[name] = _rotate_table(dbsession, table,
                                         registry["crypto.keyring"].indexer)
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
    settings = settings_of(config)
    encryptor = Encryptor(list(settings.encryption_keys) or [DEVELOPMENT_KEY])
    config.registry["crypto"] = encryptor
    config.registry["crypto.keyring"] = Keyring(encryptor, BlindIndexer(
        list(settings.blind_index_keys) or [DEVELOPMENT_BLIND_INDEX_KEY]))
    config.registry["crypto.columns"] = []
    config.add_directive("register_encrypted_column", register_encrypted_column)
