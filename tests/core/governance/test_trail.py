"""Reading the trail: a company's admins browse, filter, page and download theirs; members
cannot; operators read the platform's."""
import csv
import io

import pytest

from mypages.testing.plugin import enrol_two_factor, sign_in, work_as


@pytest.fixture
def company_with_trail(app, factory):
    company = factory.company("Trail AB")
    admin = factory.user("admin@trail.se", company=company, role="admin", display_name="Ann")
    factory.user("member@trail.se", company=company)
    other = factory.company("Other AB")
    with work_as(app, user=admin, company=company) as (work, info):
        work.audit("people.role_changed", company=info, target="7", role="admin")
        work.audit("policy.changed", company=info, changes={"require_mfa": [True, False]})
        work.audit("people.invited", company=info, target="=HYPERLINK(\"http://evil\")")
    with work_as(app, company=other) as (work, info):
        work.audit("policy.changed", company=info, target="other company's")
    return company, admin


def test_an_admin_reads_the_companys_trail_and_no_other(testapp, company_with_trail):
    company, _admin = company_with_trail
    sign_in(testapp, "admin@trail.se")
    page = testapp.get(f"/c/{company.id}/settings/audit")
    rows = page.html.select("#audit-events tbody tr")
    # the admin's own sign-in is in the company's trail too
    assert [row["data-action"] for row in rows] == ["account.signed_in", "people.invited",
                                                    "policy.changed", "people.role_changed"]
    assert "other company" not in page.text
    assert "Ann" in rows[0].text
    current = page.html.select_one('nav.tabs a[aria-current="page"]')
    assert current["href"] == f"/c/{company.id}/settings/audit"


def test_a_member_cannot_read_the_trail(testapp, company_with_trail):
    company, _admin = company_with_trail
    sign_in(testapp, "member@trail.se")
    testapp.get(f"/c/{company.id}/settings/audit", status=403)
    testapp.get(f"/c/{company.id}/settings/audit.csv", status=403)


def test_the_trail_filters_by_person_action_and_time(testapp, company_with_trail, clock):
    company, _admin = company_with_trail
    sign_in(testapp, "admin@trail.se")
    url = f"/c/{company.id}/settings/audit"
    by_action = testapp.get(url, {"action": "policy.changed"})
    assert [r["data-action"] for r in by_action.html.select("#audit-events tbody tr")] == [
        "policy.changed"]
    by_person = testapp.get(url, {"person": "ANN"}).html.select("#audit-events tbody tr")
    assert len(by_person) == 4
    nobody = testapp.get(url, {"person": "nobody at all"})
    assert nobody.html.select_one("#audit-empty") is not None
    today = clock.today(testapp.app)
    tomorrow = today.fromordinal(today.toordinal() + 1)
    assert testapp.get(url, {"from": tomorrow.isoformat()}).html.select_one("#audit-empty")
    assert len(testapp.get(url, {"from": today.isoformat(), "to": today.isoformat()})
               .html.select("#audit-events tbody tr")) >= 3


def test_bad_filters_are_refused_with_a_clear_message(testapp, company_with_trail):
    company, _admin = company_with_trail
    sign_in(testapp, "admin@trail.se")
    url = f"/c/{company.id}/settings/audit"
    page = testapp.get(url, {"from": "last tuesday"}, status=400)
    assert "år-månad-dag" in page.html.select_one("p.error").text  # Swedish by default
    page = testapp.get(url, {"from": "2026-02-02", "to": "2026-01-01"}, status=400)
    assert "får inte vara efter" in page.html.select_one("p.error").text
    testapp.get(url, {"before": "x"}, status=400)
    testapp.get(url + ".csv", {"to": "nope"}, status=400)


def test_the_trail_pages_from_newest_to_oldest(app, testapp, company_with_trail, monkeypatch):
    company, admin = company_with_trail
    monkeypatch.setattr("mypages.governance.trail.PAGE_SIZE", 2)
    sign_in(testapp, "admin@trail.se")
    first = testapp.get(f"/c/{company.id}/settings/audit")
    seqs = [int(r["data-seq"]) for r in first.html.select("#audit-events tbody tr")]
    second = testapp.get(first.html.select_one("#audit-older")["href"])
    more = [int(r["data-seq"]) for r in second.html.select("#audit-events tbody tr")]
    assert seqs[0] > seqs[1] > more[0]
    assert set(seqs).isdisjoint(more)


def test_the_csv_has_the_same_columns_and_no_formula(testapp, company_with_trail):
    company, _admin = company_with_trail
    sign_in(testapp, "admin@trail.se")
    answer = testapp.get(f"/c/{company.id}/settings/audit.csv", {"person": "ann"})
    assert answer.content_type == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["action"] for row in rows] == ["account.signed_in", "people.invited",
                                               "policy.changed", "people.role_changed"]
    assert rows[1]["target"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[1]["person"] == "Ann <admin@trail.se>"
    assert set(rows[0]) >= {"time", "address", "user_agent", "request_id", "api_token_id",
                            "reason", "details", "hash"}


def test_operators_read_the_platforms_trail(testapp, factory, app, dbsession):
    factory.user("op@example.se", is_operator=True)
    with work_as(app) as (work, _none):
        work.audit("keys.rotated", counts={"x": 1})
    sign_in(testapp, "op@example.se")
    enrol_two_factor(testapp)  # every operator page asks for it
    page = testapp.get("/operator/audit")
    assert "keys.rotated" in [r["data-action"] for r in page.html.select("#audit-events tr[data-action]")]
    answer = testapp.get("/operator/audit.csv")
    assert "keys.rotated" in answer.text


def test_a_company_admin_cannot_read_the_platforms_trail(testapp, company_with_trail):
    sign_in(testapp, "admin@trail.se")
    testapp.get("/operator/audit", status=403)


def test_the_api_lists_the_companys_trail_as_json_and_csv(testapp, company_with_trail,
                                                          factory):
    company, admin = company_with_trail
    token = factory.api_token(company, ["audit:read"], created_by=admin)
    auth = {"Authorization": f"Bearer {token}"}
    page = testapp.get("/api/v1/audit-events", {"limit": 2}, headers=auth).json
    assert [item["action"] for item in page["items"]] == ["people.role_changed",
                                                          "policy.changed"]
    rest = testapp.get("/api/v1/audit-events", {"cursor": page["next_cursor"]},
                       headers=auth).json
    assert [item["action"] for item in rest["items"]] == ["people.invited"]
    answer = testapp.get("/api/v1/audit-events.csv", headers=auth)
    assert "'=HYPERLINK" in answer.text and "other company" not in answer.text
    other = factory.api_token(company, ["company:read"], created_by=admin)
    testapp.get("/api/v1/audit-events", headers={"Authorization": f"Bearer {other}"},
                status=403)
