"""Companies and their people.

Every company-scoped URL starts with ``/c/{company_id}/`` (``config.add_company_route``) and
is resolved to a :class:`CompanyContext` by the request-context loader
(:mod:`mypages.policy.context`): the company and the signed-in user's membership of it, read
from the column groups below. Permissions come from that membership alone, so a company admin
can never act on another company, whatever id is in the URL.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mypages.contract import CompanyInfo
from mypages.db import ColumnGroup
from mypages.policy.engine import DEFAULT_POLICY, EffectivePolicy

from mypages.companies.models import Company, Membership, Role


@dataclass(frozen=True, slots=True)
class MembershipInfo:
    """The signed-in user's membership of the company being worked in (read-only)."""

    user_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


#: :class:`CompanyInfo` and :class:`MembershipInfo` in a row: ``COMPANY_GROUP.from_mapping(row._mapping)``
#: (None where no company was joined) from the labelled ``COMPANY_COLUMNS``, and so on
COMPANY_GROUP = ColumnGroup.of(CompanyInfo, "company")
MEMBERSHIP_GROUP = ColumnGroup.of(MembershipInfo, "membership")
COMPANY_COLUMNS = COMPANY_GROUP.columns(Company.__table__)
MEMBERSHIP_COLUMNS = MEMBERSHIP_GROUP.columns(Membership.__table__)


class CompanyContext:
    """The company being worked in, the user's membership of it, the company's sign-in
    policy, whether the user is one of its break-glass admins, and the modules the company is
    entitled to."""

    def __init__(self, company: CompanyInfo, membership: MembershipInfo | None,
                 policy: EffectivePolicy = DEFAULT_POLICY, break_glass: bool = False,
                 entitled_modules: frozenset[str] = frozenset()):
        self.company = company
        self.membership = membership
        self.policy = policy
        self.break_glass = break_glass
        self.entitled_modules = entitled_modules

    def permits(self, user, permission: str) -> bool:
        membership = self.membership
        if membership is None or membership.user_id != user.id:
            return False
        if permission == "company.view":
            return True
        if permission == "company.admin":
            return membership.role == Role.admin
        return False


def _settings_tabs(request) -> list:
    """Company settings tabs: the core's, then those of the modules the company is entitled to."""
    tabs = []
    for offered in request.company_hooks.mypages_company_settings_tabs(
            request=request, company=request.company):
        tabs.extend(offered)
    return sorted(tabs, key=lambda tab: tab.order)


def includeme(config):
    config.add_request_method(_settings_tabs, "settings_tabs", reify=True)
    config.add_route("companies", "/companies")
    config.add_company_route("dashboard", "/")
    config.add_company_route("company_settings", "/settings/")
    config.scan(".views")
