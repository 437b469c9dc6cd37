"""The core's operations, their pages, CSV, and the problems of bad requests."""
import csv
import io
import time

import pytest
import time_machine
from sqlalchemy import event, select

from mypages.accounts.models import TotpCredential
from mypages.api.calls import csv_cell
from mypages.modules.models import ModuleActivation, ModuleState

SCOPES = ["company:read", "members:read", "modules:read", "modules:write", "notes:read",
          "notes:write"]


def bearer(token, **more):
    return {"Authorization": f"Bearer {token}", **more}


@pytest.fixture
def company_token(factory, dbsession):
    company = factory.company("Exempel AB", org_number="556677-8899", default_locale="en",
                              city="Umeå", vat_number="SE556677889901")
    admin = factory.user("boss@exempel.se", company=company, role="admin",
                         display_name="Boss")
    member = factory.user("=cmd|'/C calc'!A0@exempel.se", company=company)
    dbsession.add(TotpCredential(user_id=admin.id, secret_encrypted="x",
                                 confirmed_at=admin.created_at))
    dbsession.commit()
    return company, admin, member, factory.api_token(company, SCOPES, created_by=admin)


def test_the_company(testapp, company_token):
    company, *_, token = company_token
    body = testapp.get("/api/v1/company", headers=bearer(token)).json
    assert body["name"] == "Exempel AB" and body["org_number"] == "556677-8899"
    assert body["default_locale"] == "en" and body["created_at"]
    # the company's information for invoices
    assert (body["city"], body["vat_number"], body["street_address"]) == \
        ("Umeå", "SE556677889901", None)


def test_reading_the_modules_costs_two_selects_and_no_write(app, testapp, company_token):
    """The token, its company and entitled modules in one SELECT, the activations in another;
    the rate limits are counted in the process and told to their store in batches, and the
    token's last use at most once a minute: reading writes nothing."""
    *_, token = company_token
    engines = {app.registry["db.engine"],
               getattr(app.registry["api.published"].rate_limits.storage, "engine", None)} - {None}
    seen = []

    def record(conn, cursor, statement, *rest):
        seen.append(statement.split()[0].upper())

    with time_machine.travel(time.time(), tick=False):
        testapp.get("/api/v1/modules", headers=bearer(token))  # a window begins, a first use
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            for _ in range(5):
                testapp.get("/api/v1/modules", headers=bearer(token))
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)
    assert seen == ["SELECT"] * 10


def test_members_with_roles_and_two_factor(testapp, company_token):
    company, admin, member, token = company_token
    items = testapp.get("/api/v1/members", headers=bearer(token)).json["items"]
    by_email = {item["email"]: item for item in items}
    assert by_email["boss@exempel.se"]["role"] == "admin"
    assert by_email["boss@exempel.se"]["two_factor"] is True
    assert by_email[member.email]["two_factor"] is False
    assert by_email[member.email]["role"] == "member"


def test_modules_with_state_and_days_left(testapp, company_token, dbsession):
    *_, token = company_token
    items = testapp.get("/api/v1/modules", headers=bearer(token)).json["items"]
    notes = {item["key"]: item for item in items}["notes"]
    assert (notes["state"], notes["days_left"]) == ("available", None)
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    notes = {i["key"]: i for i in testapp.get("/api/v1/modules", headers=bearer(token))
             .json["items"]}["notes"]
    assert (notes["state"], notes["days_left"]) == ("trial", 10)
    answer = testapp.post("/api/v1/modules/notes/deactivate", headers=bearer(token))
    assert answer.json["state"] == "inactive"
    assert dbsession.scalars(select(ModuleActivation.state)).one() == ModuleState.inactive


def test_an_unknown_module_is_not_found(testapp, company_token, dbsession):
    *_, token = company_token
    answer = testapp.post("/api/v1/modules/nosuch/trial", headers=bearer(token), status=404)
    assert answer.json["type"] == "urn:mypages:problem:not-found"
    assert dbsession.scalars(select(ModuleActivation)).all() == []


def test_lists_page_with_cursors(testapp, company_token, factory):
    company, *_, token = company_token
    for n in range(5):
        factory.user(f"p{n}@exempel.se", company=company)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = testapp.get("/api/v1/members", query, headers=bearer(token)).json
        seen += [item["user_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 7 and seen == sorted(set(seen))


def test_a_changed_cursor_is_refused(testapp, company_token, factory):
    company, *_, token = company_token
    page = testapp.get("/api/v1/members", {"limit": "1"}, headers=bearer(token)).json
    cursor = page["next_cursor"]
    payload, signature = cursor.split(".")
    forged = payload[:-2] + ("AA" if not payload.endswith("AA") else "BB") + "." + signature
    for bad in (forged, cursor + "x", "a.b"):
        answer = testapp.get("/api/v1/members", {"cursor": bad}, headers=bearer(token),
                             status=400)
        assert answer.json["type"] == "urn:mypages:problem:invalid-cursor"
    # not even shaped like one: the document says so
    answer = testapp.get("/api/v1/members", {"cursor": "no!"}, headers=bearer(token),
                         status=400)
    assert answer.json["type"] == "urn:mypages:problem:bad-request"
    # a cursor of one list is not one of another
    testapp.get("/api/v1/modules", {"cursor": cursor}, headers=bearer(token), status=400)


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("how", ["accept", "suffix"])
def test_lists_as_csv_with_the_same_columns(testapp, company_token, how):
    *_, token = company_token
    as_json = testapp.get("/api/v1/members", headers=bearer(token)).json["items"]
    if how == "accept":
        answer = testapp.get("/api/v1/members", headers=bearer(token, Accept="text/csv"))
    else:
        answer = testapp.get("/api/v1/members.csv", headers=bearer(token))
    assert answer.content_type == "text/csv"
    rows = _rows(answer.text)
    assert rows[0] == list(as_json[0])
    assert len(rows) == len(as_json) + 1


def test_csv_cells_cannot_become_formulas(testapp, company_token):
    *_, member, token = company_token
    rows = _rows(testapp.get("/api/v1/members.csv", headers=bearer(token)).text)
    emails = [row[rows[0].index("email")] for row in rows[1:]]
    assert "'" + member.email in emails
    assert not any(email.startswith(("=", "+", "-", "@")) for email in emails)


@pytest.mark.parametrize("text, cell", [("-0.25", "-0.25"), ("2.2500", "2.2500"),
                                        ("-1+2", "'-1+2"), ("-0.25e3", "'-0.25e3"),
                                        ("+1", "'+1")])
def test_a_decimal_written_as_text_stays_a_number_in_csv(text, cell):
    assert csv_cell(text) == cell


def test_a_list_answers_only_what_is_asked_for(testapp, company_token):
    *_, token = company_token
    answer = testapp.get("/api/v1/members", headers=bearer(token, Accept="application/xml"),
                         status=406)
    assert answer.json["type"] == "urn:mypages:problem:not-acceptable"


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "many"}, {"limit": "201"},
                                   {"cursor": ""}])
def test_bad_parameters_are_problems_not_errors(testapp, company_token, query):
    *_, token = company_token
    answer = testapp.get("/api/v1/members", query, headers=bearer(token), status=400)
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == "urn:mypages:problem:bad-request"
    assert answer.json["errors"]


def test_bad_bodies_are_problems(testapp, company_token):
    *_, token = company_token
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    for body, content_type, status in [
            (b'{"text": 5}', "application/json", 400),
            (b'{"nope": "x"}', "application/json", 400),
            (b"not json", "application/json", 400),
            (b"text=hi", "application/x-www-form-urlencoded", 415),
            (b'{"text": "' + b"x" * 2001 + b'"}', "application/json", 400)]:
        answer = testapp.post("/api/v1/notes", body, headers=bearer(
            token, **{"Content-Type": content_type}), status=status)
        assert answer.content_type == "application/problem+json", body


@pytest.mark.parametrize("language,title", [
    ("sv", "En giltig API-token behövs"), ("en", "A valid API token is needed"),
    ("fi", None)])
def test_problem_titles_are_translated(testapp, language, title):
    answer = testapp.get("/api/v1/company", headers={"Accept-Language": language}, status=401)
    assert answer.headers["Content-Language"] == language
    if title is not None:
        assert answer.json["title"] == title
    else:
        assert answer.json["title"] != "A valid API token is needed"
    assert answer.json["type"] == "urn:mypages:problem:unauthorized"


def test_unknown_paths_and_methods(testapp, company_token):
    *_, token = company_token
    answer = testapp.get("/api/v1/nothing-here", headers=bearer(token), status=404)
    assert answer.content_type == "application/problem+json"
    answer = testapp.delete("/api/v1/members", headers=bearer(token), status=405)
    assert answer.headers["Allow"] == "GET"
    answer = testapp.get("/api/v2/members", headers=bearer(token), status=404)
    assert answer.content_type == "application/problem+json"


def test_input_refused_before_routing_is_a_problem_too(testapp, company_token):
    *_, token = company_token
    answer = testapp.get("/api/v1/members?cursor=%00", headers=bearer(token), status=400)
    assert answer.content_type == "application/problem+json"
