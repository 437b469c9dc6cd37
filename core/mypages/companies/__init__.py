"""Companies and their memberships.

Every company-scoped URL starts with ``/c/{company_id}/`` (``config.add_company_route``) and
is resolved to a :class:`CompanyContext` by :func:`company_context`: the company and the
signed-in user's membership of it, read from the column groups below. Permissions come from
that membership alone, so a company admin can never act on another company, whatever id is
in the URL.

The company is read in the same statement as who is signed in, by the request-context loader,
which knows every part of that statement and so sits in the layer above (the sign-in policy,
core/mypages/policy/context.py): it offers ``request.request_context``, and
:func:`company_context` asks it for the company.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import case

from mypages.companies.models import Company, Membership, Role
from mypages.contract import CompanyInfo
from mypages.db import ColumnGroup
from mypages.web.inputs import as_id, id_placeholders


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
    """The company being worked in, the user's membership of it, and the modules the company
    is entitled to (the layers above may add what they read with it: the sign-in policy adds
    the company's policy)."""

    def __init__(self, company: CompanyInfo, membership: MembershipInfo | None,
                 entitled_modules: frozenset[str] = frozenset(), page_values=None):
        self.company = company
        self.membership = membership
        self.entitled_modules = entitled_modules
        #: what the route's own columns read (:func:`add_company_page_columns`), by label
        self.page_values = page_values if page_values is not None else {}

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
    """The route factory of every company page: the company as the caller may see it, from
    ``request.request_context.company_page(company_id)``.

    Nobody signed in: sent to sign in, for every company id. Signed in but not a member, or
    no such company: "Page not found", the same page either way.
    """
    company_id = as_id(request.matchdict.get("company_id"))  # the route's ids= let it through
    context = (request.request_context.company_page(company_id)
               if company_id is not None else None)
    if context is not None:
        return context
    if request.user is None:
        raise HTTPForbidden()
    raise HTTPNotFound()


def add_company_route(config, name: str, pattern: str, **kw) -> None:
    """Directive: a route under ``/c/{company_id}`` resolved to a :class:`CompanyContext`
    (for the company's members only; see :func:`company_context`). Every ``{..._id}``
    placeholder is an id or the route does not match (404)."""
    pattern = "/c/{company_id}" + pattern
    ids = tuple(dict.fromkeys(id_placeholders(pattern) + tuple(kw.pop("ids", ()))))
    config.add_route(name, pattern, factory=company_context, ids=ids, **kw)


#: the registry's {route name: labelled columns} of :func:`add_company_page_columns`
PAGE_COLUMNS = "companies.page_columns"

#: the company of a company page's SELECT, for the columns of :func:`add_company_page_columns`
PAGE_COMPANY_ID = Membership.company_id


def for_admins(expression, label: str):
    """A column of :func:`add_company_page_columns` read only when the caller is one of the
    company's admins (NULL for a member: their page does not pay for it). A ``select()`` is
    made a scalar subquery."""
    if hasattr(expression, "scalar_subquery"):
        expression = expression.scalar_subquery()
    return case((Membership.role == Role.admin, expression)).label(label)


def add_company_page_columns(config, route_name: str, *columns) -> None:
    """Directive: labelled columns that the company page ``route_name`` reads in the
    request's one SELECT (mypages.policy.context), beside the company and the membership;
    the page finds their values in ``request.context.page_values[label]``. A column names
    the company as :data:`PAGE_COMPANY_ID` and is usually a scalar subquery (see
    :func:`for_admins`): a card of the dashboard costs no SELECT of its own."""
    config.registry.setdefault(PAGE_COLUMNS, {}).setdefault(route_name, []).extend(columns)


def _company(request) -> CompanyInfo | None:
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


class ShownLink(NamedTuple):
    """A link of the top bar as the page shows it."""

    title: str
    href: str
    current: bool


def _navigation(request) -> list[ShownLink]:
    """The company's links in the top bar (``mypages_navigation``), translated, in order,
    the page's own marked; none outside a company's pages."""
    company = request.company
    if company is None:
        return []
    items = [item for offered in request.company_hooks.mypages_navigation(
        request=request, company=company) for item in offered]
    route = request.matched_route.name if request.matched_route is not None else None
    shown = [(item.order, request.translate(item.title), item) for item in items]
    return [ShownLink(title, request.path_for(item.route_name, company_id=company.id),
                      route is not None and (route == item.route_name or route in item.current_on))
            for _order, title, item in sorted(shown, key=lambda entry: entry[:2])]


def includeme(config):
    config.add_directive("add_company_route", add_company_route)
    config.add_directive("add_company_page_columns", add_company_page_columns)
    config.add_request_method(_company, "company", reify=True)
    config.add_request_method(_membership, "membership", reify=True)
    config.add_request_method(_settings_tabs, "settings_tabs", reify=True)
    config.add_request_method(_navigation, "navigation", reify=True)
    config.register_core_hooks("core.companies", "mypages.companies.hooks")
    config.add_route("companies", "/companies")
    config.add_company_route("dashboard", "/")
    config.add_company_route("company_settings", "/settings/")
    config.add_company_route("company_information", "/settings/company")
    config.scan(".views")
