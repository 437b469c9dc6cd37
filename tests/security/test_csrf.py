"""CSRF (ASVS 3.5.1): every view that accepts POST, found through Pyramid's introspector
(the core's and every installed plugin's), refuses a POST without the session's token,
and nothing changes."""
from __future__ import annotations

import pytest

from mypages.accounts import email_tokens
from mypages.companies.models import Invitation
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token, sign_in
from mypages.i18n import _
from tests.security.support import browser, everything, fill, translated

PASSWORD = "correct horse battery staple"


#: posted by the identity provider, not by our pages: its signature is checked instead
#: (tests/security/test_saml.py), so it carries no CSRF token by design
SIGNED_BY_THE_IDP = {"sso_saml_acs"}


def post_views(app) -> list[tuple[str, str]]:
    """(route name, pattern) of every view that a POST can reach, but SIGNED_BY_THE_IDP."""
    introspector = app.registry.introspector
    found = set()
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        methods = intr["request_methods"]
        if intr["route_name"] is None or (methods is not None and "POST" not in methods):
            continue
        route = introspector.get("routes", intr["route_name"])
        route_methods = route["request_methods"]
        if route_methods is not None and "POST" not in route_methods:
            continue
        if intr["route_name"] in SIGNED_BY_THE_IDP:
            continue
        found.add((intr["route_name"], route["pattern"]))
    return sorted(found)


@pytest.fixture
def world(app, factory, dbsession):
    """An admin (and operator) with a member, an open invitation, a reset link and every
    module active: a forged POST would have something to change everywhere."""
    company = factory.company()
    admin = factory.user(company=company, role="admin", is_operator=True)
    member = factory.user(company=company)
    for key in app.registry["modules.catalogue"].modules:
        dbsession.add(ModuleActivation(company_id=company.id, module_key=key, state=ModuleState.active))
    invitation = Invitation(company_id=company.id, email="invitee@example.se")
    dbsession.add(invitation)
    dbsession.flush()
    tokens = {"invitation": email_tokens.issue(dbsession, "invite", invitation_id=invitation.id),
              "password_reset": email_tokens.issue(dbsession, "reset", user_id=admin.id)}
    dbsession.commit()
    return company, admin, member, tokens


def url_for(route_name: str, pattern: str, world) -> str:
    company, _admin, member, tokens = world
    values = {"company_id": company.id, "user_id": member.id, "module_key": "notes",
              "token": tokens.get(route_name, "no-such-token"), "subpath": "mypages.css",
              "action": {"module_action": "deactivate", "sso_action": "domain-add"}.get(
                  route_name, "remove"),
              "connection_id": 1}
    return fill(pattern, values)


#: what a forged form would send: enough for any of the forms to do something
FORGED = {"email": "invitee@example.se", "password": PASSWORD, "current": PASSWORD,
          "new": "a forged new passphrase", "repeat": "a forged new passphrase", "name": "Forged",
          "role": "admin", "action": "begin", "locale": "en", "next": "/", "code": "123456",
          "require_mfa": "on", "password_min_length": "30", "title": "Forged", "text": "Forged",
          "body": "Forged", "session_id": "x"}


def test_every_post_without_the_token_is_refused_and_changes_nothing(app, world):
    company, admin, _member, _tokens = world
    testapp = browser(app)
    sign_in(testapp, admin.email)
    testapp.get(f"/c/{company.id}/")
    views = post_views(app)
    names = {name for name, _pattern in views}
    assert {"login", "logout", "login_verify", "reauth", "two_factor", "recovery_codes",
            "change_password", "sessions", "set_locale", "password_forgot", "password_reset",
            "invitation", "company_person", "company_invitations", "company_security",
            "module_action"} <= names
    assert "notes" in names  # an installed plugin's views are checked too
    engine = app.registry["db.engine"]
    before = everything(engine)
    expired = translated(app, _("The form has expired"))
    not_refused = {}
    for name, pattern in views:
        url = url_for(name, pattern, world)
        for extra in ({}, {"csrf_token": "forged"}):
            response = testapp.post(url, dict(FORGED, **extra), status="*")
            if response.status_int != 400 or expired not in response.text:
                not_refused[(name, url, bool(extra))] = response.status_int
    assert not_refused == {}
    assert everything(engine) == before
    testapp.get("/account", status=200)  # still signed in: even /logout was refused
    # the same forged form with the session's token would have changed things
    testapp.post(f"/c/{company.id}/settings/security",
                 dict(FORGED, csrf_token=csrf_token(testapp, "/account")), status=303)
    assert everything(engine) != before


def test_a_token_from_another_session_is_refused(app, world):
    company, admin, member, _tokens = world
    attacker = browser(app, ip="198.51.100.7")
    sign_in(attacker, member.email)
    stolen = csrf_token(attacker, "/account")
    victim = browser(app)
    sign_in(victim, admin.email)
    before = everything(app.registry["db.engine"])
    victim.post(f"/c/{company.id}/settings/security",
                {"csrf_token": stolen, "password_min_length": "30"}, status=400)
    victim.post(f"/c/{company.id}/settings/people/{member.id}/role",
                {"csrf_token": stolen, "role": "admin"}, status=400)
    assert everything(app.registry["db.engine"]) == before


def test_the_token_changes_at_sign_in(app, world):
    _company, admin, _member, _tokens = world
    testapp = browser(app)
    before = csrf_token(testapp)
    sign_in(testapp, admin.email)
    after = csrf_token(testapp, "/account")
    assert after != before
    # the token of the signed-out page is worth nothing now
    testapp.post("/account/two-factor", {"csrf_token": before, "action": "begin"}, status=400)
