"""The request context: who a request acts for and, on a company page, the company.

One loader builds what a request knows of its caller from the column groups the domains
export (:class:`mypages.db.ColumnGroup`), each record read back from the row by its labels
with the group's ``from_mapping()``:
the session and the user (accounts), the company and the membership (companies), the
company's sign-in policy and break-glass admins (the policy engine), the modules the
company is entitled to (modules), and the number of the user's unread notifications, for the
bell of the top bar (the notification centre). A company page reads all of them in one SELECT; any other
page reads the session and user, if its cookie holds a session, in one SELECT too. The loader
sits in the sign-in policy, the lowest layer that knows all of them; the parts below ask it
through the request: ``request.user``, ``request.request_context`` (companies' route factory,
core/mypages/companies/__init__.py, asks it for the company page).

``request.user`` and ``request.user_session`` are read from the request's
:class:`RequestContext`, their one writer: it fills them when they are first asked for, and
sign-in, step-up and sign-out change them through :meth:`RequestContext.act_as`.

A company page is only for the company's members. Whoever is not one gets the same answer
for every ``/c/{company_id}/...`` address, whether that company exists, has a module or not:
a visitor who is not signed in is sent to sign in, a signed-in person gets "Page not found".

Reading never writes. What the session found needs (its last-seen time noted, or ending at a
timeout) is written after the response by :func:`session_upkeep_tween_factory`, through
:func:`mypages.accounts.session_upkeep`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from mypages.accounts import (SESSION_COLUMNS, SESSION_GROUP, USER_COLUMNS, USER_GROUP,
                              SessionInfo, SessionUpkeep, UserInfo, session_digest,
                              session_upkeep)
from mypages.accounts.models import User, UserSession
from mypages.companies import (COMPANY_COLUMNS, COMPANY_GROUP, MEMBERSHIP_COLUMNS,
                                MEMBERSHIP_GROUP, PAGE_COLUMNS)
from mypages.companies.models import Company, Membership
from mypages.db import PreparedRead
from mypages.inbox import unread_count
from mypages.modules.lifecycle import entitled_column, entitled_from_mapping
from mypages.policy.engine import BREAK_GLASS_GROUP, POLICY_GROUP, CompanyPolicyContext
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.services import clock, session_store


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the request acts for: the signed-in session and user, or neither."""

    session: SessionInfo | None
    user: UserInfo | None
    #: the user's unread notifications (0 right after signing in: the next page counts them)
    unread: int = 0


NOBODY = Identity(None, None)
UNREAD = "inbox_unread"

#: the signed-in browser's session and its user, by the digest of the cookie's token, and
#: how many of the user's notifications are unread (through an index of its own)
SIGNED_IN = (
    select(*SESSION_COLUMNS, *USER_COLUMNS, unread_count(User.id).label(UNREAD))
    .join_from(UserSession, User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("digest"), UserSession.ended_at.is_(None))
)
READ_SIGNED_IN = PreparedRead(SIGNED_IN)

#: A company page: the signed-in session and user and, if the user is a member of the
#: company in the address, the company, the membership, the company's sign-in policy, whether
#: the user is one of its break-glass admins, and its entitled modules. Everything of the
#: company is joined through the membership, so nothing is read of a company the caller is
#: not a member of.
COMPANY_PAGE = (
    SIGNED_IN.add_columns(
        *COMPANY_COLUMNS, *MEMBERSHIP_COLUMNS, *POLICY_GROUP.columns(CompanyPolicy.__table__),
        *BREAK_GLASS_GROUP.columns(BreakGlassAdmin.__table__),
        entitled_column(Membership.company_id, bindparam("now")))
    # a membership disabled for going unused (dormant access) opens nothing
    .outerjoin(Membership, (Membership.user_id == UserSession.user_id)
               & (Membership.company_id == bindparam("company_id"))
               & Membership.disabled_at.is_(None))
    .outerjoin(Company, Company.id == Membership.company_id)
    .outerjoin(CompanyPolicy, CompanyPolicy.company_id == Membership.company_id)
    .outerjoin(BreakGlassAdmin, (BreakGlassAdmin.company_id == Membership.company_id)
               & (BreakGlassAdmin.user_id == UserSession.user_id))
)


#: the company page's read for a route without columns of its own, and its columns
PLAIN_COMPANY_PAGE = (PreparedRead(COMPANY_PAGE), ())
#: the registry's {route name: (read, its own columns)}, built once at start-up
COMPANY_PAGES = "context.company_pages"


def _build_company_pages(registry) -> None:
    """COMPANY_PAGE with each route's own columns (mypages.companies.add_company_page_columns),
    once every plugin has added its own."""
    registry[COMPANY_PAGES] = {
        route: (PreparedRead(COMPANY_PAGE.add_columns(*columns)), tuple(columns))
        for route, columns in registry.get(PAGE_COLUMNS, {}).items()}


def _company_page_of(request) -> tuple:
    """The read of the matched route's company page and the route's own columns."""
    route = request.matched_route
    if route is None:
        return PLAIN_COMPANY_PAGE
    return request.registry[COMPANY_PAGES].get(route.name, PLAIN_COMPANY_PAGE)


class RequestContext:
    """What one request knows of its caller, read at most once: ``request.request_context``.

    Creating it reads nothing; the first question does.
    """

    __slots__ = ("_request", "_identity", "_upkeep")

    def __init__(self, request):
        self._request = request
        self._identity: Identity | None = None
        self._upkeep: tuple[SessionInfo, SessionUpkeep] | None = None

    @property
    def identity(self) -> Identity:
        """Who the request acts for, read from the session cookie's session if not known yet."""
        if self._identity is None:
            digest = session_digest(self._request)
            self._adopt(READ_SIGNED_IN.first(self._request, {"digest": digest})
                        if digest else None)
        return self._identity

    @property
    def user_if_loaded(self) -> UserInfo | None:
        """The signed-in user if already known, else None, without reading anything: for
        headers and refusals that must not cost a query or touch a failed transaction."""
        return self._identity.user if self._identity is not None else None

    def act_as(self, user_session: SessionInfo | None, user: UserInfo | None) -> None:
        """Change who the request acts for: sign-in, step-up and sign-out (and scripts that
        act for someone) change ``request.user`` and ``request.user_session`` here, only."""
        self._identity = Identity(user_session, user)

    def company_page(self, company_id: int) -> CompanyPolicyContext | None:
        """Company ``company_id`` as the signed-in caller may see it: None when nobody is
        signed in, and when the caller is not a member of it (or it does not exist)."""
        if self._identity is not None and self._identity.user is None:
            return None
        digest = session_digest(self._request)
        if digest is None:
            if self._identity is None:
                self._identity = NOBODY
            return None
        read, columns = _company_page_of(self._request)
        mapping = read.first(self._request, {
            "digest": digest, "company_id": company_id, "now": clock(self._request).now()})
        if self._identity is None:
            self._adopt(mapping)
        user = self._identity.user
        membership = MEMBERSHIP_GROUP.from_mapping(mapping) if mapping is not None else None
        if user is None or membership is None or membership.user_id != user.id:
            return None
        return CompanyPolicyContext(
            COMPANY_GROUP.from_mapping(mapping), membership, entitled_from_mapping(mapping),
            POLICY_GROUP.from_mapping(mapping), BREAK_GLASS_GROUP.from_mapping(mapping),
            {column.name: mapping[column.name] for column in columns})

    def _adopt(self, mapping) -> None:
        """The session and user of a row, if the session may go on; notes what it needs."""
        user_session = SESSION_GROUP.from_mapping(mapping) if mapping is not None else None
        if user_session is None:
            self._identity = NOBODY
            return
        user = USER_GROUP.from_mapping(mapping)
        upkeep = session_store(self._request).judge(user_session, user)
        self._upkeep = (user_session, upkeep) if upkeep is not None else None
        goes_on = upkeep is None or upkeep is SessionUpkeep.touch
        self._identity = Identity(user_session, user, mapping[UNREAD]) if goes_on else NOBODY

    def keep_up(self) -> None:
        """Write what the session found at the start needs, if anything."""
        if self._upkeep is not None:
            user_session, upkeep = self._upkeep
            self._upkeep = None
            session_upkeep(self._request.registry, user_session, upkeep)


def session_upkeep_tween_factory(handler, registry):
    """After the response, outside the request's transaction: the session's upkeep."""

    def session_upkeep_tween(request):
        response = handler(request)
        request.request_context.keep_up()
        return response

    return session_upkeep_tween


def _user(request) -> UserInfo | None:
    return request.request_context.identity.user


def _user_session(request) -> SessionInfo | None:
    return request.request_context.identity.session


def _unread_notifications(request) -> int:
    return request.request_context.identity.unread


def includeme(config):
    config.add_request_method(RequestContext, "request_context", reify=True)
    config.add_request_method(_unread_notifications, "unread_notifications", reify=True)
    # read-only properties: only RequestContext.act_as changes who the request acts for
    config.add_request_method(property(_user), "user", property=True)
    config.add_request_method(property(_user_session), "user_session", property=True)
    config.add_tween("mypages.policy.context.session_upkeep_tween_factory",
                     over="pyramid_tm.tm_tween_factory")
    config.on_plugins_ready(_build_company_pages)
