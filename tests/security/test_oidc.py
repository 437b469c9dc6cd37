"""The OpenID Connect relying party against a provider that misbehaves on purpose.

Case names follow the OpenID Foundation's RP conformance suite (oidcc-client-test-*),
plus the cases it lacks (identity-security.md, "OIDC relying party"). The provider is
built on pyop and served over real HTTP; where pyop would never produce such a token
the fake signs it itself. Every refusal: a 403 page naming the reason, an
"sso.rejected" audit event with it, and no session.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from mypages.sso.models import SsoAttempt
from mypages.testing.sso import (CLIENT_ID, callback_path, idp_redirect, start_sign_in,
                                 sso_sign_in)
from tests.security.oidc_support import (anna, assert_refused, assert_signed_in,  # noqa: F401
                                         company, entra, rejections, session_count, visitor)
from tests.security.support import browser, count

EMAIL = "anna@example.se"


def refused(dbsession, visitor, entra, reason: str, **knobs):
    entra.misbehave(**knobs)
    assert_refused(dbsession, sso_sign_in(visitor, EMAIL, status=403), reason)


# -- the ID token's claims ------------------------------------------------------------------

def test_invalid_iss(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "invalid-iss", claims={"iss": "https://evil.example/v2.0"})


def test_invalid_aud(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "invalid-aud", claims={"aud": "another-client"})


def test_missing_sub(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "missing-sub", claims={"sub": None})


def test_missing_iat(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "missing-iat", claims={"iat": None})


def test_expired_id_token(dbsession, visitor, anna, entra):
    past = int(time.time()) - 600  # well beyond the 60 s of clock skew
    refused(dbsession, visitor, entra, "expired", claims={"exp": past, "iat": past - 3600})


def test_expiry_within_the_clock_skew_is_tolerated(dbsession, visitor, anna, entra):
    entra.misbehave(claims={"exp": int(time.time()) - 20})
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)


def test_iat_far_in_the_future(dbsession, visitor, anna, entra):
    later = int(time.time()) + 3600
    refused(dbsession, visitor, entra, "iat-future", claims={"iat": later, "exp": later + 3600})


def test_azp_mismatch_with_several_audiences(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "azp-mismatch",
            claims={"aud": [CLIENT_ID, "another-client"], "azp": "another-client"})


def test_several_audiences_without_azp(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "azp-mismatch", claims={"aud": [CLIENT_ID, "another-client"]})


def test_nonce_invalid(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "nonce-invalid", claims={"nonce": "not-the-one-we-sent"})


def test_missing_nonce(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "nonce-invalid", claims={"nonce": None})


def test_nonce_replay(app, dbsession, visitor, anna, entra):
    """A token minted for an earlier sign-in (its nonce) is refused in a later one."""
    first = start_sign_in(visitor, EMAIL)
    old_nonce = parse_qs(urlsplit(first.location).query)["nonce"][0]
    visitor.get(callback_path(idp_redirect(first)), status=303)
    later = browser(app)
    entra.misbehave(claims={"nonce": old_nonce})
    assert_refused(dbsession, sso_sign_in(later, EMAIL, status=403), "nonce-invalid",
                   sessions_before=1)


# -- the signature -------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_invalid_sig(dbsession, visitor, anna, entra, alg):
    refused(dbsession, visitor, entra, "invalid-sig", alg=alg, foreign_key=True)


def test_idtoken_sig_none(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "sig-none", alg="none")


def test_hmac_keyed_with_the_public_key(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "alg-not-allowed", alg="HS256")


def test_kid_absent_single_jwks_is_accepted(dbsession, visitor, anna, entra):
    entra.misbehave(omit_kid=True, jwks_only_signing_key=True)
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)


def test_kid_absent_multiple_jwks(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "kid-absent-multiple-jwks", omit_kid=True)


def test_key_rotation_at_the_provider_is_accepted_after_fetching_the_keys_again(app, dbsession,
                                                                                visitor, anna, entra):
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)
    entra.rotate_keys()
    later = browser(app)
    assert sso_sign_in(later, EMAIL, status=303)
    assert session_count(dbsession) == 2 and entra.hits["jwks"] == 2


# -- discovery, userinfo, the authorization response ----------------------------------------

def test_discovery_issuer_not_matching_the_configured_issuer(dbsession, visitor, anna, entra):
    entra.misbehave(discovery={"issuer": "https://evil.example/v2.0"})
    assert_refused(dbsession, start_sign_in(visitor, EMAIL, status=403),
                   "discovery-issuer-mismatch")
    assert count(dbsession, SsoAttempt) == 0


def test_userinfo_invalid_sub(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "userinfo-invalid-sub", userinfo={"sub": "someone-else"})


def test_iss_parameter_mismatch(dbsession, visitor, anna, entra):
    """RFC 9207: an answer naming another issuer is a mix-up; the code is never sent."""
    refused(dbsession, visitor, entra, "iss-param-mismatch", iss_param="https://evil.example/v2.0")
    assert entra.hits["token"] == 0


def test_iss_parameter_missing_where_the_provider_promised_it(dbsession, visitor, anna, entra):
    refused(dbsession, visitor, entra, "iss-param-missing",
            discovery={"authorization_response_iss_parameter_supported": True})


def test_iss_parameter_naming_the_right_issuer_is_accepted(dbsession, visitor, anna, entra):
    entra.misbehave(iss_param=True)
    assert_signed_in(dbsession, sso_sign_in(visitor, EMAIL), anna)


# -- state and code -------------------------------------------------------------------------

def callback_with(url: str, **changes) -> str:
    """The provider's redirect back, with query parameters changed (None: removed)."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    query.update(changes)
    query = {name: value for name, value in query.items() if value is not None}
    return parts.path + "?" + urlencode(query)


def test_state_missing(dbsession, visitor, anna, entra):
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    assert_refused(dbsession, visitor.get(callback_with(back, state=None), status=403),
                   "state-missing")
    assert entra.hits["token"] == 0


def test_state_wrong(dbsession, visitor, anna, entra):
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    assert_refused(dbsession, visitor.get(callback_with(back, state="forged-state"), status=403),
                   "state-invalid")
    assert entra.hits["token"] == 0


def test_state_from_another_browser(app, dbsession, visitor, anna, entra):
    """Login CSRF: the victim's browser is handed the attacker's callback."""
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    assert_refused(dbsession, browser(app).get(callback_path(back), status=403), "state-invalid")


def test_state_reused_after_a_refusal(dbsession, visitor, anna, entra):
    """A refused answer uses the state up: the genuine code cannot follow it."""
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    assert_refused(dbsession, visitor.get(callback_with(back, code="injected-code"), status=403),
                   "code-exchange-failed")
    assert_refused(dbsession, visitor.get(callback_path(back), status=403), "state-invalid")
    assert entra.hits["token"] == 1


def test_state_reused_after_a_sign_in(dbsession, visitor, anna, entra):
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    visitor.get(callback_path(back), status=303)
    assert_refused(dbsession, visitor.get(callback_path(back), status=403), "state-invalid",
                   sessions_before=1)


def test_code_reused(app, dbsession, visitor, anna, entra):
    back = idp_redirect(start_sign_in(visitor, EMAIL))
    visitor.get(callback_path(back), status=303)
    code = parse_qs(urlsplit(back).query)["code"][0]
    later = browser(app)
    fresh = idp_redirect(start_sign_in(later, EMAIL))
    assert_refused(dbsession, later.get(callback_with(fresh, code=code), status=403),
                   "code-exchange-failed", sessions_before=1)


def test_code_of_another_attempt_fails_pkce(dbsession, visitor, anna, entra):
    """A code issued to one attempt (its PKCE challenge) is worthless to another."""
    stolen = idp_redirect(start_sign_in(visitor, EMAIL))
    mine = idp_redirect(start_sign_in(visitor, EMAIL))
    code = parse_qs(urlsplit(stolen).query)["code"][0]
    assert_refused(dbsession, visitor.get(callback_with(mine, code=code), status=403),
                   "code-exchange-failed")
    assert rejections(dbsession) == ["code-exchange-failed"]
