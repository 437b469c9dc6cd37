"""The API tab of company settings: tokens made, shown once, listed and revoked by admins."""
import re

import pytest
from sqlalchemy import select

from mypages.api.models import ApiToken
from mypages.audit.models import AuditEvent
from mypages.testing.plugin import sign_in


@pytest.fixture
def admin_app(factory, testapp):
    company = factory.company()
    admin = factory.user("admin@ab.se", company=company, role="admin", display_name="Ada")
    factory.user("member@ab.se", company=company)
    sign_in(testapp, "admin@ab.se")
    return testapp, company, admin


def make(app, company, name="ERP", scopes=("modules:read",), status=201):
    form = app.get(f"/c/{company.id}/settings/api").forms["token-form"]
    form["name"] = name
    for checkbox in form.fields.get("scope", []):
        checkbox.checked = checkbox._value in scopes
    return form.submit(status=status)


def test_the_tab_is_for_admins_only(testapp, factory):
    company = factory.company()
    factory.user("member@ab.se", company=company)
    sign_in(testapp, "member@ab.se")
    testapp.get(f"/c/{company.id}/settings/api", status=403)


def test_a_token_is_shown_once_and_works(admin_app, dbsession):
    app, company, admin = admin_app
    assert 'href="/c/%d/settings/api"' % company.id in app.get(f"/c/{company.id}/settings/modules")
    page = make(app, company, scopes=("modules:read", "company:read"))
    token = page.html.find(id="token-secret")["value"]
    assert re.fullmatch(r"mp_\d+_[A-Za-z0-9_-]{43}", token)
    assert app.get("/api/v1/company", headers={"Authorization": f"Bearer {token}"}).json[
        "id"] == company.id
    listing = app.get(f"/c/{company.id}/settings/api")
    assert token.split("_", 2)[2] not in listing.text
    row = listing.html.find(id=f"token-{dbsession.scalars(select(ApiToken.id)).one()}")
    assert "ERP" in row.text and "Ada" in row.text and "modules:read" in row.text
    event = dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "api_token.created")).one()
    assert event.actor_id == admin.id and token not in str(event.details)


@pytest.mark.parametrize("name,scopes", [("", ("modules:read",)), ("x" * 101, ("modules:read",)),
                                         ("ERP", ())])
def test_a_bad_form_says_why_and_makes_nothing(admin_app, dbsession, name, scopes):
    app, company, _admin = admin_app
    page = make(app, company, name=name, scopes=scopes, status=400)
    assert page.html.find(class_="error")
    assert dbsession.scalars(select(ApiToken)).all() == []


def test_revoking_asks_first_then_says_what_happened(admin_app, dbsession):
    app, company, _admin = admin_app
    token = make(app, company).html.find(id="token-secret")["value"]
    row_id = dbsession.scalars(select(ApiToken.id)).one()
    listing = app.get(f"/c/{company.id}/settings/api")
    confirm = listing.click(href=f"/settings/api/{row_id}/revoke")
    assert confirm.html.find(id="confirm")
    assert dbsession.scalars(select(ApiToken.revoked_at)).one() is None  # asking changed nothing
    done = confirm.forms["revoke-form"].submit(status=303).follow()
    assert "revoked" in done.html.find(class_="notice").text.lower() or \
        done.html.find(class_="notice")
    assert done.html.find(id=f"token-{row_id}")["data-state"] == "revoked"
    app.get("/api/v1/company", headers={"Authorization": f"Bearer {token}"}, status=401)


def test_another_companys_token_cannot_be_revoked(admin_app, factory, dbsession):
    app, company, _admin = admin_app
    other = factory.company()
    factory.api_token(other, ["modules:read"])
    row_id = factory.last_api_token.id
    app.get(f"/c/{company.id}/settings/api/{row_id}/revoke", status=404)
    token = app.get(f"/c/{company.id}/settings/api").forms["token-form"]["csrf_token"].value
    app.post(f"/c/{company.id}/settings/api/{row_id}/revoke", {"csrf_token": token},
             status=404)
    dbsession.expire_all()
    assert dbsession.get(ApiToken, row_id).revoked_at is None
