"""What the companies a person belongs to ask of their password, on top of the platform's
floor (core/mypages/accounts/password_policy.py)."""
from __future__ import annotations

from sqlalchemy import func, select

from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH
from mypages.companies.models import Membership
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy


def min_length_for_user(dbsession, user_id: int | None) -> int:
    """The strictest minimum length among the companies the user belongs to."""
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
    blocked = dbsession.scalar(
        select(func.count()).select_from(Membership)
        .join(CompanyPolicy, CompanyPolicy.company_id == Membership.company_id)
        .outerjoin(BreakGlassAdmin, (BreakGlassAdmin.company_id == Membership.company_id)
                   & (BreakGlassAdmin.user_id == Membership.user_id))
        .where(Membership.user_id == user_id, CompanyPolicy.password_allowed.is_(False),
               BreakGlassAdmin.user_id.is_(None)))
    return not blocked
