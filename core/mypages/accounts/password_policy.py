"""Password rules: the platform floor, and what a company may add on top.

The common-password list is the 30,000 most common passwords shipped with
zxcvbn (``zxcvbn.frequency_lists``).
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import func, select

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


def min_length_for_user(dbsession, user_id: int | None) -> int:
    """The strictest minimum length among the companies the user belongs to."""
    from mypages.companies.models import CompanyPolicy, Membership

    if user_id is None:
        return PLATFORM_MIN_LENGTH
    strictest = dbsession.scalar(
        select(func.max(CompanyPolicy.password_min_length))
        .join(Membership, Membership.company_id == CompanyPolicy.company_id)
        .where(Membership.user_id == user_id))
    return max(PLATFORM_MIN_LENGTH, strictest or 0)


def password_allowed_for_user(dbsession, user_id: int) -> bool:
    """False when a company of the user requires Single Sign On and the user is not its
    break-glass admin: then no password path (sign-in, reset) is open."""
    from mypages.companies.models import BreakGlassAdmin, CompanyPolicy, Membership

    blocked = dbsession.scalar(
        select(func.count()).select_from(Membership)
        .join(CompanyPolicy, CompanyPolicy.company_id == Membership.company_id)
        .outerjoin(BreakGlassAdmin, (BreakGlassAdmin.company_id == Membership.company_id)
                   & (BreakGlassAdmin.user_id == Membership.user_id))
        .where(Membership.user_id == user_id, CompanyPolicy.password_allowed.is_(False),
               BreakGlassAdmin.user_id.is_(None)))
    return not blocked
