"""What a company page reads: one statement, and no ORM session unless the view needs one
(mypages.policy.context, mypages.db.read_first)."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import FrozenInstanceError

import pytest
from sqlalchemy import event, select

from mypages.accounts import TOUCH_EVERY, UserInfo
from mypages.accounts.models import UserSession
from mypages.companies import CompanyInfo
from mypages.testing.plugin import csrf_token


@contextmanager
def recorded(app):
    """(statements, ORM sessions begun) while the block runs."""
    statements, sessions = [], []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    def on_begin(session, transaction, connection):
        sessions.append(session)

    engine, session_factory = app.registry["db.engine"], app.registry["db.session_factory"]
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(session_factory, "after_begin", on_begin)
    try:
        yield statements, sessions
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(session_factory, "after_begin", on_begin)


@pytest.mark.parametrize("role", ["member", "admin"])
def test_the_dashboard_is_one_select_and_opens_no_orm_session(app, factory, signed_in, modules,
                                                              role):
    company = factory.company(name="Ett Företag AB")
    user = factory.user(company=company, role=role)
    modules.activate(company, "sso")  # a module whose card reads nothing more
    browser = signed_in(user)
    browser.get(f"/c/{company.id}/")  # the session's last-seen time is fresh now
    with recorded(app) as (statements, sessions):
        page = browser.get(f"/c/{company.id}/", status=200)
    assert "Ett Företag AB" in page.text
    assert [statement.split()[0] for statement in statements] == ["SELECT"], statements
    assert sessions == []
    # an admin's next steps and free trials (mypages.inbox.getting_started) are in that SELECT
    cards = page.html.select("#trials li[data-module=sso], #next-steps")
    assert len(cards) == (2 if role == "admin" else 0)


def test_a_view_that_writes_still_gets_its_session_and_transaction(app, factory, signed_in,
                                                                  dbsession):
    company = factory.company()
    user = factory.user(company=company, role="admin")
    browser = signed_in(user)
    token = csrf_token(browser, f"/c/{company.id}/settings/modules")
    with recorded(app) as (statements, sessions):
        browser.post(f"/c/{company.id}/settings/modules/sso/activate", {"csrf_token": token},
                     status=303)
    assert sessions, "the activation ran in the request's ORM session"
    assert any(statement.startswith("INSERT INTO module_activations") for statement in statements)


def test_last_seen_is_written_at_most_once_a_minute(app, factory, signed_in, dbsession):
    company = factory.company()
    user = factory.user(company=company)
    browser = signed_in(user)
    row = dbsession.scalars(select(UserSession)).one()
    row.last_seen_at = row.last_seen_at - TOUCH_EVERY - dt.timedelta(seconds=5)
    dbsession.commit()
    before = row.last_seen_at
    with recorded(app) as (statements, _):
        browser.get(f"/c/{company.id}/", status=200)
        browser.get(f"/c/{company.id}/", status=200)
    updates = [s for s in statements if s.startswith("UPDATE user_sessions")]
    assert len(updates) == 1
    dbsession.expire_all()
    assert dbsession.scalars(select(UserSession.last_seen_at)).one() > before


def test_what_the_request_holds_is_read_only(factory):
    company = factory.company(name="Snapshot AB")
    user = factory.user(company=company, display_name="")
    seen_company, seen_user = CompanyInfo.of(company), UserInfo.of(user)
    assert (seen_company.id, seen_company.name) == (company.id, "Snapshot AB")
    assert seen_user.name == user.email  # as User.name: the e-mail when there is no name
    with pytest.raises(FrozenInstanceError):
        seen_user.locale = "en"
    with pytest.raises(FrozenInstanceError):
        seen_company.name = "Other AB"


def test_the_page_read_runs_outside_any_transaction(app, factory, signed_in, mypages_db_kind):
    """PostgreSQL: autocommit, so no BEGIN and ROLLBACK round trips around the one SELECT;
    SQLite: its driver begins no transaction for a SELECT."""
    company = factory.company()
    browser = signed_in(factory.user(company=company))
    browser.get(f"/c/{company.id}/")
    seen = []

    def on_statement(conn, cursor, statement, parameters, context, executemany):
        raw = conn.connection.dbapi_connection
        seen.append(raw.autocommit if mypages_db_kind == "postgresql" else raw.in_transaction)

    engine = app.registry["db.engine"]
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        browser.get(f"/c/{company.id}/", status=200)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert seen == ([True] if mypages_db_kind == "postgresql" else [False])
