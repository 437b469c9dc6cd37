"""Password rules of the platform: the floor every password must clear (a company may ask
for more: core/mypages/policy/rules.py).

The common-password list is the 30,000 most common passwords shipped with
zxcvbn (``zxcvbn.frequency_lists``).
"""
from __future__ import annotations

from functools import lru_cache

from mypages.i18n import _

PLATFORM_MIN_LENGTH = 12
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def problems(password: str, *, email: str = "", min_length: int = PLATFORM_MIN_LENGTH) -> list:
    """Why ``password`` is refused (translatable messages); empty when it is fine."""
    found = []
    min_length = max(min_length, PLATFORM_MIN_LENGTH)
    if len(password) < min_length:
        found.append(_("The password must be at least ${length} characters long.",
                       mapping={"length": min_length}))
    if len(password) > MAX_LENGTH:
        found.append(_("The password can be at most ${length} characters long.",
                       mapping={"length": MAX_LENGTH}))
    if password.lower() in common_passwords() or len(set(password)) < 4:
        found.append(_("This password is too common or too simple. Choose another."))
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in password.lower():
        found.append(_("The password must not contain your e-mail address."))
    return found
