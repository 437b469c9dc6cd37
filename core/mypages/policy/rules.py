"""The sign-in rules as accounts asks them (core/mypages/accounts/rules.py), answered with
what the companies a person belongs to and the platform's operators require: whether a
password may still be used, the longest minimum length, who requires a second factor, what
a company of the person's is entitled to."""
from __future__ import annotations

from sqlalchemy import func, select

from mypages.accounts.password_policy import PLATFORM_MIN_LENGTH
from mypages.accounts.rules import SignInRules
from mypages.companies.models import Membership
from mypages.modules.lifecycle import entitled_keys
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


def company_min_length(dbsession, company_id: int) -> int:
    """The minimum length the company asks for (the platform's floor at least)."""
    policy = dbsession.get(CompanyPolicy, company_id)
    return max(PLATFORM_MIN_LENGTH, policy.password_min_length if policy else 0)


def company_requires_mfa(dbsession, user_id: int) -> bool:
    """Whether a company the user belongs to requires a second factor."""
    return bool(dbsession.scalar(
        select(func.count()).select_from(Membership)
        .join(CompanyPolicy, CompanyPolicy.company_id == Membership.company_id)
        .where(Membership.user_id == user_id, CompanyPolicy.require_mfa.is_(True))))


class PolicyRules(SignInRules):
    """The answers of the sign-in policy, for every company of the person and the platform."""

    def password_allowed(self, dbsession, user_id: int) -> bool:
        return password_allowed_for_user(dbsession, user_id)

    def min_password_length(self, dbsession, user_id: int | None,
                            company_id: int | None = None) -> int:
        joining = company_min_length(dbsession, company_id) if company_id is not None else 0
        return max(min_length_for_user(dbsession, user_id), joining)

    def entitled_modules(self, dbsession, user_id: int, company_id: int,
                         now) -> frozenset[str] | None:
        member = dbsession.scalar(select(Membership.id).where(
            Membership.user_id == user_id, Membership.company_id == company_id))
        return entitled_keys(dbsession, company_id, now) if member is not None else None

    def second_factor_required_by(self, request) -> str | None:
        if request.user.is_operator:
            return "operator"
        if request.platform_requires_mfa:
            return "platform"
        if company_requires_mfa(request.dbsession, request.user.id):
            return "company"
        return None
