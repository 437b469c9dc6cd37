"""Password hashing with argon2id (argon2-cffi).

The cost is a setting (``mypages.passwords.argon2_memory_cost`` in KiB,
``..._time_cost``, ``..._parallelism``), by default argon2-cffi's RFC 9106
"low memory" profile: 64 MiB, t=3, p=4. Production refuses a cost below the
OWASP floor (19 MiB, t=2, p=1); the tests run on a cheap one. A hash made with
other parameters is remade with the configured ones at the next successful
sign-in. The app's hasher is ``request.registry["passwords"]``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

from argon2 import PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError

SETTING_PREFIX = "mypages.passwords.argon2_"


@dataclass(frozen=True)
class Argon2Cost:
    memory_cost: int  # KiB
    time_cost: int
    parallelism: int

    def below(self, floor: "Argon2Cost") -> list[str]:
        """The names of the parameters under ``floor``'s."""
        return [name for name, value in asdict(self).items() if value < getattr(floor, name)]


#: today's strong default (what a PasswordHasher() makes)
DEFAULT_COST = Argon2Cost(memory_cost=profiles.RFC_9106_LOW_MEMORY.memory_cost,
                          time_cost=profiles.RFC_9106_LOW_MEMORY.time_cost,
                          parallelism=profiles.RFC_9106_LOW_MEMORY.parallelism)
OWASP_FLOOR = Argon2Cost(memory_cost=19 * 1024, time_cost=2, parallelism=1)


def cost_from_settings(settings: dict) -> Argon2Cost:
    """The cost the settings ask for, each parameter defaulting to ``DEFAULT_COST``'s;
    ``ValueError`` names a parameter argon2 cannot run with."""
    values = {}
    for name, default in asdict(DEFAULT_COST).items():
        raw = settings.get(SETTING_PREFIX + name, default)
        try:
            values[name] = int(raw)
        except (TypeError, ValueError):
            raise ValueError(f"{SETTING_PREFIX}{name} must be a whole number, not {raw!r}") from None
        if values[name] < 1:
            raise ValueError(f"{SETTING_PREFIX}{name} must be at least 1")
    if values["memory_cost"] < 8 * values["parallelism"]:  # argon2's own minimum
        raise ValueError(f"{SETTING_PREFIX}memory_cost must be at least 8 KiB per lane "
                         f"({SETTING_PREFIX}parallelism)")
    return Argon2Cost(**values)


class Passwords:
    """Hashes and verifies passwords at one cost."""

    def __init__(self, cost: Argon2Cost = DEFAULT_COST):
        self.cost = cost
        self._hasher = PasswordHasher(type=Type.ID, **asdict(cost))

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
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def includeme(config):
    config.registry["passwords"] = Passwords(config.get_settings()["mypages.passwords.argon2"])
