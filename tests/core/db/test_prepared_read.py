"""PreparedRead (mypages.db): the request context's statements compiled once and run on the
driver's cursor read exactly what SQLAlchemy reads, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import bindparam, event, select

from mypages.accounts.models import User, UserSession
from mypages.db import PreparedRead, read_all, read_first, utcnow
from mypages.inbox.getting_started import DASHBOARD_ROUTE
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.policy.context import COMPANY_PAGES
from mypages.testing.plugin import sign_in


@pytest.fixture
def request_of(app):
    """A request to the app (its registry; no session of the database open yet)."""
    env = prepare(request=Request.blank("/"), registry=app.registry)
    yield env["request"]
    env["closer"]()


def signed_in_admin(testapp, factory, dbsession):
    """An admin on trial of a module and a second member, signed in; (company, digest)."""
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    factory.user(company=company)
    dbsession.add(ModuleActivation(company_id=company.id, module_key="notes",
                                   state=ModuleState.trial.value,
                                   trial_ends_at=utcnow() + dt.timedelta(days=3)))
    dbsession.commit()
    sign_in(testapp, admin.email)
    digest = dbsession.scalars(select(UserSession.id)).one()
    return company, digest


def test_the_dashboard_row_is_the_one_sqlalchemy_reads(app, testapp, factory, dbsession,
                                                        request_of):
    """Every column of the company page with the dashboard's own (dates, flags, counts, the
    JSON of the trials, encrypted and empty columns), value for value and type for type."""
    company, digest = signed_in_admin(testapp, factory, dbsession)
    read, _ = app.registry[COMPANY_PAGES][DASHBOARD_ROUTE]
    parameters = {"digest": digest, "company_id": company.id, "now": utcnow()}
    with app.registry["db.engine"].connect() as connection:
        expected = dict(connection.execute(read.statement, parameters).first()._mapping)
    found = read.first(request_of, parameters)
    assert found == expected
    assert {key: type(value) for key, value in found.items()} == {
        key: type(value) for key, value in expected.items()}
    assert expected["start_modules"] and expected["security_people"] == 2


def test_no_row_is_none_and_a_value_bound_in_the_statement_is_bound(app, factory, request_of):
    user = factory.user(display_name="Ada")
    by_name = PreparedRead(select(User.id.label("id"), User.display_name.label("name"))
                           .where(User.email == bindparam("email"), User.display_name == "Ada"))
    assert by_name.first(request_of, {"email": user.email}) == {"id": user.id, "name": "Ada"}
    assert by_name.first(request_of, {"email": "nobody@example.com"}) is None
    with pytest.raises(ValueError, match="'email'"):
        by_name.first(request_of, {})


def test_in_the_requests_transaction_it_sees_what_the_request_wrote(app, request_of):
    by_email = PreparedRead(select(User.display_name.label("name"))
                            .where(User.email == bindparam("email")))
    request_of.tm.begin()
    try:
        request_of.dbsession.add(User(email="new@example.com", display_name="New"))
        request_of.dbsession.flush()
        assert by_email.first(request_of, {"email": "new@example.com"})["name"] == "New"
    finally:
        request_of.tm.abort()


def test_the_engines_statement_listeners_still_see_it(app, factory, request_of):
    user = factory.user()
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(("before", statement.split()[0]))

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append(("after", statement.split()[0]))

    engine = app.registry["db.engine"]
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        PreparedRead(select(User.id.label("id")).where(User.id == bindparam("id"))).first(
            request_of, {"id": user.id})
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    assert seen == [("before", "SELECT"), ("after", "SELECT")]


def test_without_listeners_it_reads_on_the_pools_connection_in_the_read_engines_isolation(
        app, factory, request_of, monkeypatch):
    """No ``Connection`` is made; the read engine's isolation (autocommit on PostgreSQL) is
    set for the read and taken back before the connection returns to the pool, where the
    request transactions' sessions borrow it next."""
    user = factory.user()
    engine = app.registry["db.engine"]
    isolation = app.registry["db.read_engine"].get_execution_options().get("isolation_level")
    levels = []
    dialect = type(engine.dialect)
    set_level = dialect.set_isolation_level
    monkeypatch.setattr(dialect, "set_isolation_level", lambda self, dbapi, level: (
        levels.append(level), set_level(self, dbapi, level))[1])
    monkeypatch.setattr("sqlalchemy.engine.base.Connection.__init__", None)  # none is made
    read = PreparedRead(select(User.id.label("id")).where(User.id == bindparam("id")))
    assert read.first(request_of, {"id": user.id}) == {"id": user.id}
    monkeypatch.undo()
    if engine.dialect.name == "postgresql":
        assert isolation == "AUTOCOMMIT"
        assert levels == ["AUTOCOMMIT", engine.dialect.default_isolation_level]
    else:
        assert isolation is None and levels == []
    with engine.connect() as connection:
        assert connection.get_isolation_level() == engine.dialect.default_isolation_level


def test_expanding_parameters_and_unlabelled_twins_are_refused(app, request_of):
    with pytest.raises(ValueError, match="expanding"):
        PreparedRead(select(User.id).where(User.id.in_(bindparam("ids", expanding=True)))
                     ).first(request_of, {"ids": [1, 2]})
    with pytest.raises(ValueError, match="labels"):
        PreparedRead(select(User.id.label("x"), User.email.label("x"))).first(request_of, {})


def test_read_all_and_read_first_give_its_rows_as_sqlalchemy_gives_them(app, factory,
                                                                         request_of):
    """Through the toolkit's read_all and read_first: by name, by position and by mapping,
    the same values; a limit written into the statement is bound; inside the request's
    transaction, SQLAlchemy's own rows."""
    first, second = factory.user(display_name="Ada"), factory.user(display_name="Bo")
    statement = (select(User.id, User.display_name, User.created_at, User.is_operator)
                 .where(User.id >= bindparam("from_id")).order_by(User.id).limit(5))
    prepared = PreparedRead(statement)
    with app.registry["db.engine"].connect() as connection:
        expected = connection.execute(statement, {"from_id": first.id}).all()
    rows = read_all(request_of, prepared, {"from_id": first.id})
    assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
    assert [row.display_name for row in rows] == ["Ada", "Bo"]
    assert [dict(row._mapping) for row in rows] == [dict(row._mapping) for row in expected]
    assert rows[0].created_at == expected[0].created_at and rows[0].created_at.tzinfo
    assert read_first(request_of, prepared, {"from_id": second.id}).display_name == "Bo"
    assert read_first(request_of, prepared, {"from_id": second.id + 1}) is None
    request_of.tm.begin()
    try:
        assert [row.id for row in read_all(request_of, prepared, {"from_id": first.id})] == [
            first.id, second.id]
    finally:
        request_of.tm.abort()


def test_a_column_name_python_cannot_use_is_refused_with_a_reason(app, request_of):
    with pytest.raises(ValueError, match="Python names"):
        read_all(request_of, PreparedRead(select(User.id.label("from"))), {})
