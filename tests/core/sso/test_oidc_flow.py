"""The OpenID Connect sign-in as a whole, over real HTTP against a provider built on pyop:
the admin saves the connection in the tab and tests it, people sign in identifier-first,
and the discovery document and key set are cached, re-fetched on a new key id only."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from webtest import TestApp

from mypages.accounts.models import UserSession
from mypages.audit.models import AuditEvent
from mypages.services import settings_of
from mypages.sso import oidc
from mypages_devtools.fakes.oidc_provider import azure_user, google_user
from mypages.sso.models import SsoAttempt, SsoConnection, SsoLink
from mypages.testing.plugin import CSRF_PATTERN
from mypages.testing.sso import (AZURE_TENANT, CLIENT_SECRET, azure_values, callback_path, connect,
                                 google_values, idp_redirect, start_sign_in, sso_sign_in,
                                 through_idp)


def fresh_browser(app):
    return TestApp(app, extra_environ={"REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "localhost"})


def sessions(dbsession, user):
    dbsession.expire_all()
    return dbsession.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                       UserSession.ended_at.is_(None))).all()


def events(dbsession, action):
    dbsession.expire_all()
    return dbsession.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


@pytest.fixture
def company(example_company):
    return example_company


@pytest.fixture
def member(factory, company):
    return factory.user("anna@example.se", company=company)


@pytest.fixture
def azure(app, dbsession, company, azure_idp):
    azure_idp.add_user(azure_user(AZURE_TENANT, "0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01",
                                  "anna@example.se", "Anna Andersson", xms_edov=True))
    connect(app, dbsession, company, "azure", *azure_values(azure_idp))
    return azure_idp


def test_the_admin_connects_entra_id_in_the_tab_and_tests_it(app, testapp, factory, dbsession,
                                                             company, signed_in, azure_idp):
    admin = factory.user("admin@example.se", company=company, role="admin")
    azure_idp.add_user(azure_user(AZURE_TENANT, "5f1a6e0c-1111-4a4a-9c9c-000000000001",
                                  "admin@example.se", xms_edov=True))
    signed_in(admin)
    tab = f"/c/{company.id}/settings/sso"
    form = testapp.get(tab, {"provider": "azure", "protocol": "oidc"}).forms["connection-form"]
    form["tenant_id"] = AZURE_TENANT
    form["client_id"] = azure_idp.client_id
    form["client_secret"] = CLIENT_SECRET
    form["authority"] = azure_idp.base_url
    form.submit(status=303)
    saved = dbsession.scalars(select(SsoConnection)).one()
    assert (saved.provider, saved.protocol, saved.admin_tested_at) == ("azure", "oidc", None)
    assert CLIENT_SECRET not in (saved.secrets_encrypted or "") and CLIENT_SECRET not in str(saved.settings)
    [audited] = events(dbsession, "sso.connection_saved")
    assert CLIENT_SECRET not in str(audited.details)

    token = CSRF_PATTERN.search(testapp.get(tab).text).group(1)
    to_idp = testapp.post(f"{tab}/test", {"csrf_token": token}, status=303)
    query = parse_qs(urlsplit(to_idp.location).query)
    assert to_idp.location.startswith(azure_idp.url("authorize"))
    assert query["login_hint"] == ["admin@example.se"]
    back = through_idp(testapp, to_idp, status=303)

    assert back.location.endswith(tab)
    dbsession.expire_all()
    assert dbsession.get(SsoConnection, saved.id).admin_tested_at is not None
    [session] = sessions(dbsession, admin)
    assert {"pwd", "sso:azure"} <= set(session.amr)
    assert [e.target for e in events(dbsession, "sso.tested")] == ["azure"]
    assert "id=\"require-all-needs-test\"" not in testapp.get(tab).text

    # and the people of the company sign in through it (identifier-first, /sso/start)
    member = factory.user("anna@example.se", company=company)
    azure_idp.add_user(azure_user(AZURE_TENANT, "0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01",
                                  "anna@example.se", xms_edov=True))
    browser = fresh_browser(app)
    to_idp = browser.get("/sso/start", {"email": "anna@example.se"}, status=303)
    assert parse_qs(urlsplit(to_idp.location).query)["login_hint"] == ["anna@example.se"]
    done = through_idp(browser, to_idp, status=303)
    assert urlsplit(done.location).path == f"/c/{company.id}/"
    [session] = sessions(dbsession, member)
    assert [key for key in session.amr if not key.startswith("via:")] == ["sso:azure"]


def test_a_member_signs_in_identifier_first(app, dbsession, company, member, azure):
    browser = fresh_browser(app)
    to_idp = start_sign_in(browser, "Anna@Example.se")
    query = {k: v[0] for k, v in parse_qs(urlsplit(to_idp.location).query).items()}
    # PKCE: the challenge is the verifier's SHA-256; state and nonce are fresh randoms
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["scope"].split() == ["openid", "profile", "email"]
    assert query["redirect_uri"] == settings_of(app).base_url + "/sso/oidc/callback"
    assert len(query["state"]) >= 40 and len(query["nonce"]) >= 30

    done = through_idp(browser, to_idp, status=303)
    assert urlsplit(done.location).path == f"/c/{company.id}/"
    [session] = sessions(dbsession, member)
    assert [key for key in session.amr if not key.startswith("via:")] == ["sso:azure"]
    link = dbsession.scalars(select(SsoLink)).one()
    assert (link.subject, link.user_id) == (f"{AZURE_TENANT}:0e3b2a57-58a1-4d55-8b50-0f4e7a6a6d01",
                                            member.id)
    browser.get(done.location, status=200)


def test_the_pkce_challenge_is_the_s256_of_the_attempts_verifier(app, dbsession, member, azure):
    browser = fresh_browser(app)
    to_idp = start_sign_in(browser, "anna@example.se")
    challenge = parse_qs(urlsplit(to_idp.location).query)["code_challenge"][0]
    attempt = dbsession.scalars(select(SsoAttempt)).one()
    digest = hashlib.sha256(attempt.code_verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert len(attempt.code_verifier) >= 43  # RFC 7636: 43 to 128 characters
    through_idp(browser, to_idp, status=303)  # pyop checked the verifier against it
    [(_code, info)] = azure.provider.authz_state.authorization_codes.items()
    assert info["used"] and info["auth_req"]["code_challenge"] == challenge


def test_discovery_and_keys_are_fetched_once_for_many_sign_ins(app, dbsession, member, azure):
    for _ in range(3):
        browser = fresh_browser(app)
        sso_sign_in(browser, "anna@example.se", status=303)
    assert azure.hits["discovery"] == 1
    assert azure.hits["jwks"] == 1
    assert azure.hits["token"] == 3 and azure.hits["userinfo"] == 3


def test_a_new_key_id_fetches_the_keys_again_at_most_once_a_minute(app, dbsession, member, azure):
    def sign_in(status):
        browser = fresh_browser(app)
        return sso_sign_in(browser, "anna@example.se", status=status)

    sign_in(303)
    azure.rotate_keys()
    sign_in(303)  # unknown kid: fetched again, and accepted
    assert azure.hits["jwks"] == 2
    azure.rotate_keys()
    refused = sign_in(403)  # again within the minute: not fetched, not accepted
    assert 'data-reason="sso-invalid-sig"' in refused.text
    assert azure.hits["jwks"] == 2
    oidc._jwks_forced.clear()  # the minute has passed
    sign_in(303)
    assert azure.hits["jwks"] == 3


@pytest.mark.parametrize("alg", ["ES256", "PS256"])
def test_other_allowed_algorithms_are_accepted(app, dbsession, member, azure, alg):
    azure.misbehave(alg=alg)
    browser = fresh_browser(app)
    sso_sign_in(browser, "anna@example.se", status=303)
    assert len(sessions(dbsession, member)) == 1


def test_google_sign_in_with_the_secret_in_http_basic(app, dbsession, factory, company, google_idp):
    user = factory.user("bo@example.se", company=company)
    google_idp.add_user(google_user("110248495921238986420", "bo@example.se", hd="example.se"))
    connect(app, dbsession, company, "google", *google_values(google_idp))
    browser = fresh_browser(app)
    to_idp = start_sign_in(browser, "bo@example.se")
    assert parse_qs(urlsplit(to_idp.location).query)["hd"] == ["example.se"]
    through_idp(browser, to_idp, status=303)
    [session] = sessions(dbsession, user)
    assert [key for key in session.amr if not key.startswith("via:")] == ["sso:google"]


def test_the_provider_refusing_is_a_clear_refusal(app, dbsession, member, azure):
    azure.misbehave(error="access_denied")
    browser = fresh_browser(app)
    refused = sso_sign_in(browser, "anna@example.se", status=403)
    assert 'data-reason="sso-idp-error"' in refused.text
    assert sessions(dbsession, member) == []


@pytest.mark.parametrize("failure, reason", [("token endpoint gone", "code-exchange-failed"),
                                              ("server down", "provider-unreachable")])
def test_a_failing_provider_is_a_clear_refusal(app, dbsession, member, azure, failure, reason):
    browser = fresh_browser(app)
    back = idp_redirect(start_sign_in(browser, "anna@example.se"))
    if failure == "server down":
        azure.live_server.stop()
    else:
        azure.routes.pop(azure.paths["token"])
    refused = browser.get(callback_path(back), status=403)
    assert f'data-reason="sso-{reason}"' in refused.text
    assert sessions(dbsession, member) == []
    assert [e.details["reason"] for e in events(dbsession, "sso.rejected")] == [reason]
