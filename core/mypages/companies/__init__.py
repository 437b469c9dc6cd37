"""Companies and their people.

Every company-scoped URL starts with ``/c/{company_id}/`` and is resolved by
:func:`company_context`: the company and the signed-in user's membership of
it. Permissions come from that membership alone, so a company admin can
never act on another company, whatever id is in the URL.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import bindparam, select

from mypages.accounts import (SESSION_AND_USER_COLUMNS, adopt_session, session_and_user,
                              session_digest)
from mypages.accounts.models import User, UserSession
from mypages.accounts.policy import (DEFAULT_POLICY, POLICY_FIELDS, EffectivePolicy,
                                     policy_from_columns)
from mypages.db import read_first, utcnow
from mypages.modules.lifecycle import entitled_keys_subquery
from mypages.web.inputs import id_placeholders

from mypages.companies.models import BreakGlassAdmin, Company, CompanyPolicy, Membership, Role


@dataclass(frozen=True, slots=True)
class CompanyInfo:
    """The company being worked in, as read when the request began: ``request.company``.
    Read-only; a view that changes the company loads :class:`Company` through
    ``request.dbsession``."""

    id: int
    name: str
    org_number: str | None
    default_locale: str | None
    created_at: dt.datetime

    @classmethod
    def of(cls, company: Company) -> "CompanyInfo":
        return cls(company.id, company.name, company.org_number, company.default_locale,
                   company.created_at)


@dataclass(frozen=True)
class MembershipInfo:
    """The signed-in user's membership of the company being worked in (read-only)."""

    user_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin


class CompanyContext:
    """The company being worked in, the user's membership of it (or None), the
    company's sign-in policy and whether the user is one of its break-glass admins."""

    def __init__(self, company: CompanyInfo, membership: MembershipInfo | None,
                 policy: EffectivePolicy = DEFAULT_POLICY, break_glass: bool = False):
        self.company = company
        self.membership = membership
        self.policy = policy
        self.break_glass = break_glass

    def permits(self, user, permission: str) -> bool:
        membership = self.membership
        if membership is None or membership.user_id != user.id:
            return False
        if permission == "company.view":
            return True
        if permission == "company.admin":
            return membership.role == Role.admin
        return False


_companies, _policies = Company.__table__.c, CompanyPolicy.__table__.c
#: Everything a company page needs, in one round trip of plain columns (no ORM objects):
#: the signed-in session and user (by the digest of the cookie's token, if any), the
#: company, the user's membership, the company's policy, whether the user is a
#: break-glass admin, and the entitled modules.
COMPANY_PAGE = (
    select(*SESSION_AND_USER_COLUMNS, *(_companies[field.name] for field in fields(CompanyInfo)),
           Membership.__table__.c.role,
           *(_policies[field] for field in POLICY_FIELDS), BreakGlassAdmin.__table__.c.user_id,
           entitled_keys_subquery(_companies.id, bindparam("now")))
    .select_from(Company.__table__)
    .outerjoin(UserSession, (UserSession.id == bindparam("digest")) & UserSession.ended_at.is_(None))
    .outerjoin(User, User.id == UserSession.user_id)
    .outerjoin(Membership, (Membership.company_id == Company.id)
               & (Membership.user_id == UserSession.user_id))
    .outerjoin(CompanyPolicy, CompanyPolicy.company_id == Company.id)
    .outerjoin(BreakGlassAdmin, (BreakGlassAdmin.company_id == Company.id)
               & (BreakGlassAdmin.user_id == UserSession.user_id))
    .where(Company.id == bindparam("company_id"))
)
_COMPANY_STARTS = len(SESSION_AND_USER_COLUMNS)
_COMPANY = slice(_COMPANY_STARTS, _COMPANY_STARTS + len(fields(CompanyInfo)))


def company_context(request) -> CompanyContext:
    try:
        company_id = int(request.matchdict["company_id"])
    except (KeyError, ValueError):
        raise HTTPNotFound()
    row = read_first(request, COMPANY_PAGE, {
        "company_id": company_id, "digest": session_digest(request), "now": utcnow(),
    })
    if row is None:
        raise HTTPNotFound()
    company = CompanyInfo(*row[_COMPANY])
    role, *policy_values, break_glass, entitled = row[_COMPANY.stop:]
    if "user" in request.__dict__:  # already known: the join found the same session
        user = request.user
    else:
        user_session, user = session_and_user(row)
        if user_session is None or adopt_session(request, user_session, user) is None:
            request.user, request.user_session, user = None, None, None
    request.entitled_modules = frozenset(entitled.split(",")) if entitled else frozenset()
    if user is None:
        return CompanyContext(company, None)
    return CompanyContext(company, MembershipInfo(user.id, role) if role is not None else None,
                          policy_from_columns(*policy_values), break_glass is not None)


def _company(request) -> Company | None:
    context = getattr(request, "context", None)
    return context.company if isinstance(context, CompanyContext) else None


def _membership(request) -> MembershipInfo | None:
    context = getattr(request, "context", None)
    return context.membership if isinstance(context, CompanyContext) else None


def _settings_tabs(request) -> list:
    """Company settings tabs: the core's, then those of the modules the company is entitled to."""
    tabs = []
    for offered in request.company_hooks.mypages_company_settings_tabs(
            request=request, company=request.company):
        tabs.extend(offered)
    return sorted(tabs, key=lambda tab: tab.order)


def add_company_route(config, name: str, pattern: str, **kw) -> None:
    """Directive: a route under ``/c/{company_id}`` resolved to a :class:`CompanyContext`.
    Every ``{..._id}`` placeholder is an id or the route does not match (404)."""
    pattern = "/c/{company_id}" + pattern
    ids = tuple(dict.fromkeys(id_placeholders(pattern) + tuple(kw.pop("ids", ()))))
    config.add_route(name, pattern, factory=company_context, ids=ids, **kw)


def includeme(config):
    config.add_directive("add_company_route", add_company_route)
    config.add_request_method(_company, "company", reify=True)
    config.add_request_method(_membership, "membership", reify=True)
    config.add_request_method(_settings_tabs, "settings_tabs", reify=True)
    config.register_core_hooks("core.companies", "mypages.companies.hooks")
    config.add_route("companies", "/companies")
    config.add_route("invitation", "/invitation/{token}")
    config.add_company_route("dashboard", "/")
    config.add_company_route("company_settings", "/settings/")
    config.add_company_route("company_people", "/settings/people")
    config.add_company_route("company_person", "/settings/people/{user_id}/{action}",
                             request_method="POST")
    config.add_company_route("company_invitations", "/settings/people/invitations",
                             request_method="POST")
    config.add_company_route("company_security", "/settings/security")
    config.scan(".views")
    config.scan(".settings_views")
