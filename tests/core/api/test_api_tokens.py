"""Company API tokens: who a request acts for, and with which rights."""
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from mypages.api.models import ApiToken
from mypages.audit.models import AuditEvent
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import sign_in

ALL_CORE = ["company:read", "members:read", "modules:read", "modules:write"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def world(factory):
    """Two companies, each with an admin; a token of the first with every core scope."""
    first, second = factory.company("First AB"), factory.company("Second AB")
    admin = factory.user("admin@first.se", company=first, role="admin")
    other_admin = factory.user("admin@second.se", company=second, role="admin")
    token = factory.api_token(first, ALL_CORE, created_by=admin)
    return first, second, admin, other_admin, token


def test_a_token_acts_for_its_company_only(testapp, world):
    first, second, *_, token = world
    answer = testapp.get("/api/v1/company", headers=bearer(token))
    assert answer.json["id"] == first.id and answer.json["name"] == "First AB"
    # no path or parameter names another company: the token is the company
    assert "Second AB" not in testapp.get("/api/v1/members", headers=bearer(token)).text


def test_a_browser_session_does_not_authenticate_the_api(testapp, world):
    *_, token = world
    sign_in(testapp, "admin@first.se")
    answer = testapp.get("/api/v1/company", status=401)
    assert answer.content_type == "application/problem+json"
    assert answer.json["type"] == "urn:mypages:problem:unauthorized"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_token_request_never_gets_the_sessions_rights(testapp, world, factory):
    """The other company's admin is signed in in the same browser: the token still acts
    for its own company, and the session's person is nobody on the API."""
    first, second, admin, other_admin, token = world
    sign_in(testapp, "admin@second.se")
    answer = testapp.get("/api/v1/company", headers=bearer(token))
    assert answer.json["id"] == first.id
    members = testapp.get("/api/v1/members", headers=bearer(token)).json["items"]
    assert [m["email"] for m in members] == ["admin@first.se"]
    # and the token is nothing on the pages: the session is who counts there
    page = testapp.get(f"/c/{first.id}/", headers=bearer(token), status=404)
    assert "First AB" not in page.text


def test_a_token_is_no_sign_in_on_the_pages(testapp, world):
    first, *_, token = world
    answer = testapp.get(f"/c/{first.id}/", headers=bearer(token), status=303)
    assert "/login" in answer.location


def test_writes_need_no_csrf_token(testapp, world, dbsession):
    first, *_, token = world
    answer = testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    assert answer.json["state"] == "trial" and answer.json["days_left"] == 10
    assert dbsession.scalars(select(ModuleActivation.state)).one() == ModuleState.trial


def test_pages_still_demand_csrf_with_a_token(testapp, world):
    first, *_, token = world
    sign_in(testapp, "admin@first.se")
    testapp.post(f"/c/{first.id}/settings/modules/notes/activate", headers=bearer(token),
                 status=400)


@pytest.mark.parametrize("change", ["wrong secret", "revoked", "expired", "malformed",
                                    "unknown id"])
def test_bad_tokens_are_refused_alike(testapp, world, dbsession, change):
    *_, token = world
    row = dbsession.scalars(select(ApiToken)).one()
    if change == "wrong secret":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    elif change == "revoked":
        row.revoked_at = dt.datetime.now(dt.timezone.utc)
    elif change == "expired":
        row.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    elif change == "malformed":
        token = "mp_x_" + token
    else:
        token = token.replace(f"mp_{row.id}_", f"mp_{row.id + 1000}_")
    dbsession.commit()
    answer = testapp.get("/api/v1/company", headers=bearer(token), status=401)
    assert answer.json["type"] == "urn:mypages:problem:unauthorized"


def test_only_the_secrets_digest_is_stored(world, dbsession):
    *_, token = world
    row = dbsession.scalars(select(ApiToken)).one()
    secret = token.split("_", 2)[2]
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str([getattr(row, c.key) for c in ApiToken.__table__.columns])


def test_scopes_limit_what_a_token_may_do(testapp, factory):
    company = factory.company()
    token = factory.api_token(company, ["modules:read"])
    testapp.get("/api/v1/modules", headers=bearer(token))
    answer = testapp.get("/api/v1/members", headers=bearer(token), status=403)
    assert answer.json["type"] == "urn:mypages:problem:insufficient-scope"
    assert "members:read" in answer.json["detail"]
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token), status=403)


def test_a_modules_endpoints_stop_when_its_trial_ends(testapp, factory, clock):
    company = factory.company()
    token = factory.api_token(company, ["modules:read", "modules:write", "notes:read",
                                        "notes:write"],
                              expires_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=60))
    answer = testapp.get("/api/v1/notes", headers=bearer(token), status=403)
    assert answer.json["type"] == "urn:mypages:problem:module-not-active"
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    testapp.post_json("/api/v1/notes", {"text": "hello"}, headers=bearer(token), status=201)
    assert [n["text"] for n in testapp.get("/api/v1/notes", headers=bearer(token))
            .json["items"]] == ["hello"]
    clock.shift(dt.timedelta(days=10, minutes=1))
    answer = testapp.get("/api/v1/notes", headers=bearer(token), status=403)
    assert answer.json["type"] == "urn:mypages:problem:module-not-active"
    testapp.post_json("/api/v1/notes", {"text": "late"}, headers=bearer(token), status=403)
    # the core's operations belong to no module: they go on
    modules = testapp.get("/api/v1/modules", headers=bearer(token)).json["items"]
    assert [m["state"] for m in modules if m["key"] == "notes"] == ["trial"]  # until the job


def test_changes_are_audited_with_the_token_and_its_creator(testapp, world, dbsession):
    first, _second, admin, _other, token = world
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token), status=200)
    row = dbsession.scalars(select(ApiToken)).one()
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "module.trial_started")).one()
    assert event.actor_id == admin.id and event.company_id == first.id
    assert event.api_token_id == row.id
    assert token.split("_", 2)[2] not in str(event.details)


def test_a_plugins_writes_are_audited_with_the_token(testapp, factory, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin")
    token = factory.api_token(company, ["modules:write", "notes:write"], created_by=admin)
    row_id = factory.last_api_token.id
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    testapp.post_json("/api/v1/notes", {"text": "from a program"}, headers=bearer(token),
                      status=201)
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "notes.note_added")).one()
    assert (event.actor_id, event.api_token_id) == (admin.id, row_id)


def test_last_use_is_noted_at_most_once_a_minute(testapp, world, dbsession, clock):
    *_, token = world
    row = dbsession.scalars(select(ApiToken)).one()
    assert row.last_used_at is None
    testapp.get("/api/v1/company", headers=bearer(token))
    dbsession.expire_all()
    first_use = dbsession.get(ApiToken, row.id).last_used_at
    assert first_use is not None
    clock.shift(30)
    testapp.get("/api/v1/company", headers=bearer(token))
    dbsession.expire_all()
    assert dbsession.get(ApiToken, row.id).last_used_at == first_use
    clock.shift(31)
    testapp.get("/api/v1/company", headers=bearer(token))
    dbsession.expire_all()
    assert dbsession.get(ApiToken, row.id).last_used_at > first_use


def test_a_refused_change_keeps_nothing_and_says_why(testapp, world, dbsession):
    *_, token = world
    testapp.post("/api/v1/modules/notes/trial", headers=bearer(token))
    answer = testapp.post("/api/v1/modules/notes/trial", headers=bearer(token), status=409)
    assert answer.content_type == "application/problem+json"
    assert answer.json["detail"]
    assert dbsession.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "module.trial_started")).all() == ["module.trial_started"]
