"""Password hashing with argon2id (argon2-cffi).

The cost is a setting (``mypages.passwords.argon2_memory_cost`` in KiB,
``..._time_cost``, ``..._parallelism``), by default argon2-cffi's RFC 9106
"low memory" profile: 64 MiB, t=3, p=4. Production refuses a cost below the
OWASP floor (19 MiB, t=2, p=1); the tests run on a cheap one. A hash made with
other parameters is remade with the configured ones at the next successful
sign-in. The app's hasher is the :class:`~mypages.services.PasswordHasher` service,
``password_hasher(request)`` (or of the registry).
"""
from __future__ import annotations

from dataclasses import asdict
from functools import cached_property

from argon2 import PasswordHasher as Argon2Hasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from mypages.services import PasswordHasher, settings_of
# the cost is read as a setting, where production's checks refuse one below the floor
from mypages.settings import DEFAULT_COST, OWASP_FLOOR, Argon2Cost  # noqa: F401


class Passwords(PasswordHasher):
    """Hashes and verifies passwords at one cost."""

    def __init__(self, cost: Argon2Cost = DEFAULT_COST):
        self.cost = cost
        self._hasher = Argon2Hasher(type=Type.ID, **asdict(cost))

    @cached_property
    def _dummy_hash(self) -> str:
        """Verified against when the account does not exist, so both cases cost the same;
        made at first need, so building an app that never signs anyone in costs no hash."""
        return self._hasher.hash("no such user: equal timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password_hash`` is of ``password``; with no hash (no such account,
        say), ``False`` after the same work as a real check."""
        try:
            return (self._hasher.verify(password_hash or self._dummy_hash, password)
                    and password_hash is not None)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters (or another argon2 type)."""
        return self._hasher.check_needs_rehash(password_hash)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether a stored hash, made at any cost (its parameters are in it), is of ``password``."""
    try:
        return Argon2Hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def includeme(config):
    passwords = Passwords(settings_of(config).password_cost)
    config.register_service(passwords, PasswordHasher)
