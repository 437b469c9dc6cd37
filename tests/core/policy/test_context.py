"""The request-context loader (mypages.policy.context): records read by label, one writer of
``request.user``, a route factory that only reads, and the session's upkeep in one place."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import event, literal_column, select

from mypages.accounts import (SESSION_COLUMNS, SESSION_COOKIE, SESSION_GROUP, TOUCH_EVERY,
                              USER_COLUMNS, USER_GROUP, UserInfo)
from mypages.accounts.models import User, UserSession
from mypages.policy.engine import BREAK_GLASS_GROUP, DEFAULT_POLICY, POLICY_GROUP, EffectivePolicy
from mypages.companies import (COMPANY_COLUMNS, COMPANY_GROUP, MEMBERSHIP_COLUMNS,
                               MEMBERSHIP_GROUP, CompanyInfo, MembershipInfo, company_context)
from mypages.companies.models import Company, Membership, Role
from mypages.policy.models import BreakGlassAdmin, CompanyPolicy
from mypages.db import utcnow
from mypages.modules.lifecycle import entitled_column, entitled_from_mapping
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.policy.context import COMPANY_PAGE
from mypages.services import settings_of
from mypages.testing.plugin import sign_in


@contextmanager
def statements_of(app):
    seen = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.split()[0])

    engine = app.registry["db.engine"]
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)


@pytest.fixture
def member_row(factory, dbsession):
    """A company with a policy, two modules, and an admin who is a break-glass admin and has
    a session."""
    company = factory.company("Etiketten AB", org_number="556677-8899", default_locale="en")
    user = factory.user(company=company, role="admin", display_name="Ada")
    now = utcnow()
    dbsession.add_all([
        CompanyPolicy(company_id=company.id, require_mfa=True, password_allowed=False,
                      password_min_length=14, idle_minutes=30, absolute_hours=8),
        BreakGlassAdmin(company_id=company.id, user_id=user.id),
        ModuleActivation(company_id=company.id, module_key="notes", state=ModuleState.active),
        ModuleActivation(company_id=company.id, module_key="sso", state=ModuleState.trial,
                         trial_ends_at=now + dt.timedelta(days=3)),
        UserSession(id="d" * 64, user_id=user.id, created_at=now, last_seen_at=now,
                    amr={"pwd": now.isoformat()}, ip="", user_agent=""),
    ])
    dbsession.commit()
    return company, user


def test_every_record_is_read_by_its_labels_wherever_its_columns_are(dbsession, member_row):
    """The groups in another order than the loader's, with columns of nobody's between them:
    each record still reads its own values."""
    company, user = member_row
    noise = [literal_column(str(n)).label(f"noise_{n}") for n in range(3)]
    statement = (
        select(entitled_column(Company.id, utcnow()), noise[0],
               *POLICY_GROUP.columns(CompanyPolicy.__table__), *reversed(MEMBERSHIP_COLUMNS),
               noise[1], *USER_COLUMNS, *BREAK_GLASS_GROUP.columns(BreakGlassAdmin.__table__),
               *reversed(COMPANY_COLUMNS), noise[2], *SESSION_COLUMNS)
        .select_from(Company)
        .join(Membership, Membership.company_id == Company.id)
        .join(User, User.id == Membership.user_id)
        .join(UserSession, UserSession.user_id == User.id)
        .join(CompanyPolicy, CompanyPolicy.company_id == Company.id)
        .outerjoin(BreakGlassAdmin, (BreakGlassAdmin.company_id == Company.id)
                   & (BreakGlassAdmin.user_id == User.id))
    )
    mapping = dbsession.execute(statement).one()._mapping
    assert COMPANY_GROUP.from_mapping(mapping) == CompanyInfo.of(company)
    assert USER_GROUP.from_mapping(mapping) == UserInfo.of(dbsession.get(User, user.id))
    assert MEMBERSHIP_GROUP.from_mapping(mapping) == MembershipInfo(user.id, Role.admin)
    assert SESSION_GROUP.from_mapping(mapping).id == "d" * 64
    assert POLICY_GROUP.from_mapping(mapping) == EffectivePolicy(
        require_mfa=True, password_allowed=False, password_min_length=14,
        idle=dt.timedelta(minutes=30), absolute=dt.timedelta(hours=8))
    assert BREAK_GLASS_GROUP.from_mapping(mapping) is True
    assert entitled_from_mapping(mapping) == {"notes", "sso"}


def test_a_group_that_an_outer_join_did_not_find_is_its_missing_value(dbsession, factory):
    company = factory.company()
    statement = (select(*COMPANY_COLUMNS, *MEMBERSHIP_COLUMNS,
                        *POLICY_GROUP.columns(CompanyPolicy.__table__),
                        *BREAK_GLASS_GROUP.columns(BreakGlassAdmin.__table__))
                 .select_from(Company)
                 .outerjoin(Membership, Membership.company_id == Company.id)
                 .outerjoin(CompanyPolicy, CompanyPolicy.company_id == Company.id)
                 .outerjoin(BreakGlassAdmin, BreakGlassAdmin.company_id == Company.id)
                 .where(Company.id == company.id))
    mapping = dbsession.execute(statement).one()._mapping
    assert COMPANY_GROUP.from_mapping(mapping) == CompanyInfo.of(company)
    assert MEMBERSHIP_GROUP.from_mapping(mapping) is None
    assert POLICY_GROUP.from_mapping(mapping) is DEFAULT_POLICY
    assert BREAK_GLASS_GROUP.from_mapping(mapping) is False


def test_the_company_page_labels_are_unique():
    labels = [column.key for column in COMPANY_PAGE.selected_columns]
    assert len(labels) == len(set(labels))


@contextmanager
def request_to(app, path: str, cookie: str | None = None):
    request = Request.blank(path, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"} if cookie else {})
    env = prepare(request=request, registry=app.registry)
    try:
        yield env["request"]
    finally:
        env["closer"]()


def test_request_user_has_one_writer(app, factory):
    user = UserInfo.of(factory.user())
    with request_to(app, "/") as request:
        assert request.user is None
        with pytest.raises(AttributeError):
            request.user = user
        request.request_context.act_as(None, user)
        assert request.user is user


def test_the_route_factory_only_reads_and_the_upkeep_writes_afterwards(app, testapp, factory,
                                                                      dbsession):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    row = dbsession.scalars(select(UserSession)).one()
    row.last_seen_at -= TOUCH_EVERY + dt.timedelta(seconds=5)
    dbsession.commit()
    before = row.last_seen_at
    with request_to(app, f"/c/{company.id}/", testapp.cookies[SESSION_COOKIE]) as request:
        request.matchdict = {"company_id": str(company.id)}
        with statements_of(app) as seen:
            context = company_context(request)
        assert seen == ["SELECT"]
        assert (context.company.id, context.membership.user_id) == (company.id, user.id)
        assert request.user.id == user.id
        with statements_of(app) as seen:
            request.request_context.keep_up()
        assert "UPDATE" in seen
    dbsession.expire_all()
    assert dbsession.get(UserSession, row.id).last_seen_at > before


@pytest.mark.parametrize("path", ["/c/{id}/", "/account"])
def test_a_session_past_the_idle_timeout_is_ended_though_the_answer_is_a_refusal(
        app, testapp, factory, dbsession, path):
    company = factory.company()
    user = factory.user(company=company)
    sign_in(testapp, user.email)
    row = dbsession.scalars(select(UserSession)).one()
    row.last_seen_at -= settings_of(app).session_idle + TOUCH_EVERY
    dbsession.commit()
    response = testapp.get(path.format(id=company.id), status=303)
    assert "/login" in response.location
    dbsession.expire_all()
    assert dbsession.get(UserSession, row.id).ended_at is not None
