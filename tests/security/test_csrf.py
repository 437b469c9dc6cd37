"""CSRF (ASVS 3.5.1): every view that accepts POST, found through Pyramid's introspector
(the core's and every installed plugin's), refuses a POST without the session's token,
and nothing changes; checked by the function plugin authors use
(mypages.testing.checks.csrf_problems)."""
from __future__ import annotations

import pytest
from pyramid.response import Response

from mypages.accounts import email_tokens
from mypages.companies.models import Company, Invitation
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.checks import csrf_problems
from mypages.testing.hostile import routes_of
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import browser, everything, second_app

PASSWORD = "correct horse battery staple"


#: posted by the identity provider, not by our pages: its signature is checked instead
#: (tests/security/test_saml.py), so it carries no CSRF token by design
SIGNED_BY_THE_IDP = {"sso_saml_acs"}
#: the REST API reads no cookie, only the token of the Authorization header, which a
#: browser never adds by itself: a forged cross-site POST has nothing to ride on
#: (test_the_api_takes_no_session_so_a_forged_post_does_nothing, tests/core/api)
TOKEN_ONLY = {"api"}


def post_routes(app, packages=None) -> set[str]:
    return {route.name for route in routes_of(app, packages) if "POST" in route.methods}


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


def placeholders(world) -> dict:
    company, _admin, member, tokens = world
    return {"company_id": company.id, "user_id": member.id, "module_key": "notes",
            "subpath": "mypages.css", "action": "remove", "connection_id": 1, "token_id": 1,
            "token": "no-such-token", "invitation.token": tokens["invitation"],
            "password_reset.token": tokens["password_reset"],
            "module_action.action": "deactivate", "sso_action.action": "domain-add"}


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
    names = post_routes(app)
    assert {"login", "logout", "login_verify", "reauth", "two_factor", "recovery_codes",
            "change_password", "sessions", "set_locale", "password_forgot", "password_reset",
            "invitation", "company_person", "company_invitations", "company_security",
            "module_action"} <= names
    assert "notes" in names  # an installed plugin's views are checked too
    engine = app.registry["db.engine"]
    before = everything(engine)

    problems = csrf_problems(app, testapp, placeholders=placeholders(world), fields=FORGED,
                             skip=SIGNED_BY_THE_IDP | TOKEN_ONLY)

    assert problems == [], "\n".join(map(str, problems))
    assert everything(engine) == before
    testapp.get("/account", status=200)  # still signed in: even /logout was refused
    # the same forged form with the session's token would have changed things
    testapp.post(f"/c/{company.id}/settings/security",
                 dict(FORGED, csrf_token=csrf_token(testapp, "/account")), status=303)
    assert everything(engine) != before


def test_the_api_takes_no_session_so_a_forged_post_does_nothing(app, world):
    company, admin, _member, _tokens = world
    testapp = browser(app)
    sign_in(testapp, admin.email)
    engine = app.registry["db.engine"]
    before = everything(engine, but=("audit_events", "audit_chains", "api_rate_limits"))
    answer = testapp.post("/api/v1/modules/notes/deactivate", status=401)
    assert answer.content_type == "application/problem+json"
    assert everything(engine, but=("audit_events", "audit_chains", "api_rate_limits")) == before


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


# -- the check finds what is wrong -------------------------------------------------------

def sign_contract(request):
    return Response("signed")


def unguarded(request):
    request.dbsession.add(Company(name="Forged AB"))
    return Response("written")


def includeme(config):
    """Routes of a plugin with contracts: one guarded as every view is, one not."""
    config.add_route("contract_sign", "/c/{company_id}/contracts/{contract_id}/sign")
    config.add_view(sign_contract, route_name="contract_sign", request_method="POST")
    config.add_route("contract_unguarded", "/c/{company_id}/contracts/{contract_id}/unguarded")
    config.add_view(unguarded, route_name="contract_unguarded", request_method="POST",
                    require_csrf=False)


def test_the_check_names_a_post_route_without_csrf_and_what_it_changed(mypages_settings, world):
    company, admin, _member, _tokens = world
    with second_app(mypages_settings, **{"pyramid.includes": __name__}) as contracts_app:
        testapp = browser(contracts_app)
        sign_in(testapp, admin.email)

        problems = csrf_problems(contracts_app, testapp, packages=[__name__],
                                 placeholders={"company_id": company.id, "contract_id": 3})

    assert post_routes(contracts_app, [__name__]) == {"contract_sign", "contract_unguarded"}
    assert [problem.what for problem in problems] == [
        f"route 'contract_unguarded' (/c/{company.id}/contracts/3/unguarded) answered a POST "
        f"without a CSRF token with 200 OK, not the 400 of a refused token",
        f"route 'contract_unguarded' (/c/{company.id}/contracts/3/unguarded) answered a POST "
        f"with a wrong CSRF token with 200 OK, not the 400 of a refused token",
        "POSTs without a valid CSRF token changed the tables companies"]
    assert "require_csrf=False" in problems[0].fix
