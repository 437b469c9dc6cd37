"""The mypages app in this process (WebTest, no server): for query plans and profiles."""
from __future__ import annotations

from pathlib import Path

from pyramid.paster import get_app
from sqlalchemy import event

from mypages.testing.web import sign_in

from bench.seed import Seeded


def signed_in_testapp(ini: Path, seeded: Seeded):
    """The app as the ini builds it, signed in through the login form; (testapp, app)."""
    from webtest import TestApp

    app = get_app(str(ini))
    # No lint middleware: it would add its own cost to every profiled request.
    testapp = TestApp(app, lint=False,
                      extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})
    sign_in(testapp, seeded.email, seeded.password)
    return testapp, app


def record_statements(engine) -> list[tuple[str, object]]:
    """Every statement the engine runs from now on, with its parameters."""
    seen = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    return seen


def dashboard_query_plans(ini: Path, database: Path, seeded: Seeded) -> list[dict]:
    """SQLite's plan for each SELECT one dashboard request runs, as the core writes them today."""
    import sqlite3

    testapp, app = signed_in_testapp(ini, seeded)
    statements = record_statements(app.registry["db.engine"])
    testapp.get(f"/c/{seeded.company_id}/", status=200)
    plans = []
    with sqlite3.connect(database) as connection:
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SELECT"):
                plan = connection.execute("EXPLAIN QUERY PLAN " + statement, parameters)
                plans.append({"sql": " ".join(statement.split()),
                              "plan": [row[-1] for row in plan]})
    connection.close()
    app.registry["db.engine"].dispose()
    return plans
