"""Password hashing with argon2id (argon2-cffi).

The parameters are above the OWASP floor (19 MiB, t=2, p=1); a hash made
with weaker parameters is upgraded at the next successful sign-in.
"""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

OWASP_FLOOR = dict(memory_cost=19 * 1024, time_cost=2, parallelism=1)

#: argon2-cffi's RFC 9106 "low memory" profile: 64 MiB, t=3, p=4.
HASHER = PasswordHasher(type=Type.ID)

# Verified against when the account does not exist, so both cases cost the same.
_DUMMY_HASH = HASHER.hash("no such user: equal timing")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)
