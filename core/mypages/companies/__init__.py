"""Companies and their people.

Every company-scoped URL starts with ``/c/{company_id}/`` and is resolved by
:func:`company_context`: the company and the signed-in user's membership of
it. Permissions come from that membership alone, so a company admin can
never act on another company, whatever id is in the URL.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from mypages.companies.models import Company, Membership, Role


class CompanyContext:
    """The company being worked in, and the user's membership of it (or None)."""

    def __init__(self, company: Company, membership: Membership | None):
        self.company = company
        self.membership = membership

    def permits(self, user, permission: str) -> bool:
        membership = self.membership
        if membership is None or membership.user_id != user.id:
            return False
        if permission == "company.view":
            return True
        if permission == "company.admin":
            return membership.role == Role.admin
        return False


def company_context(request) -> CompanyContext:
    try:
        company_id = int(request.matchdict["company_id"])
    except (KeyError, ValueError):
        raise HTTPNotFound()
    user = request.user
    if user is None:
        company = request.dbsession.get(Company, company_id)
        if company is None:
            raise HTTPNotFound()
        return CompanyContext(company, None)
    row = request.dbsession.execute(
        select(Company, Membership)
        .outerjoin(Membership, (Membership.company_id == Company.id) & (Membership.user_id == user.id))
        .where(Company.id == company_id)
    ).first()
    if row is None:
        raise HTTPNotFound()
    return CompanyContext(*row)


def _company(request) -> Company | None:
    context = getattr(request, "context", None)
    return context.company if isinstance(context, CompanyContext) else None


def _membership(request) -> Membership | None:
    context = getattr(request, "context", None)
    return context.membership if isinstance(context, CompanyContext) else None


def add_company_route(config, name: str, pattern: str, **kw) -> None:
    """Directive: a route under ``/c/{company_id}`` resolved to a :class:`CompanyContext`."""
    config.add_route(name, "/c/{company_id}" + pattern, factory=company_context, **kw)


def includeme(config):
    config.add_directive("add_company_route", add_company_route)
    config.add_request_method(_company, "company", reify=True)
    config.add_request_method(_membership, "membership", reify=True)
    config.add_route("companies", "/companies")
    config.add_company_route("dashboard", "/")
    config.add_company_route("company_settings", "/settings/")
    config.scan(".views")
