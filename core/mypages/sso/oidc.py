"""The OpenID Connect relying party: authorization code flow with PKCE (S256).

``request_location`` builds the authorization request; ``finish`` checks the
answer, exchanges the code, validates the ID token and asks userinfo, and
hands the verified claims to the provider plugin. Every refusal is an
:class:`~mypages.contract.SsoRejected` whose reason is named after the
OpenID Foundation's RP conformance cases (``invalid-iss``, ``invalid-aud``,
``missing-sub``, ...).

Discovery documents and key sets are cached per process (module-level, by
URL, with a time to live); several workers each keep their own copy, which
is fine for a cache. An ID token signed with an unknown key id makes the key
set be fetched again, at most once per :data:`JWKS_REFETCH_INTERVAL`.

Every request to the provider goes through the application's outbound
client (the :class:`~mypages.sso.exchange.Exchange`'s), which refuses
addresses in internal networks. Nothing here takes the request: the view
hands over an exchange and the authorization response's parameters.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import replace
from urllib.parse import quote, urlencode

from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from mypages.contract import SsoRejected
from mypages.outbound import Outbound, OutboundError
from mypages.sso.exchange import Exchange
from mypages.sso.models import VerifiedDomain

WELL_KNOWN = "/.well-known/openid-configuration"
#: RSA and EC signatures only: never "none", never HMAC (keyed with a public key)
ALLOWED_ALGORITHMS = ("RS256", "PS256", "ES256")
_KEY_TYPES = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
#: clock skew tolerated between us and the identity provider
CLOCK_SKEW = 60
DISCOVERY_TTL = 3600
JWKS_TTL = 3600
JWKS_REFETCH_INTERVAL = 60
MAX_BYTES = 500_000  # a discovery document, a key set, tokens: a few kB each
JSON = {"Accept": "application/json"}

# url -> (fetched at, document); per process
_discovery_cache: dict[str, tuple[float, dict]] = {}
_jwks_cache: dict[str, tuple[float, list[dict]]] = {}
# url -> when an unknown key id last made us fetch the key set again
_jwks_forced: dict[str, float] = {}


def clear_caches() -> None:
    """Forget every cached discovery document and key set (tests, key emergencies)."""
    _discovery_cache.clear()
    _jwks_cache.clear()
    _jwks_forced.clear()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def code_challenge(verifier: str) -> str:
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def _refused(error: OutboundError) -> SsoRejected:
    """An outbound refusal or failure, with its message for the person signing in."""
    reason = ("provider-address-refused" if error.reason in ("address", "scheme")
              else "provider-unreachable")
    return SsoRejected(reason, error.message)


def _check_url(outbound: Outbound, url: str, what: str) -> str:
    """An address the outbound policy lets through: https, and no internal address
    (except where development and tests allow them, for the local fakes)."""
    if not isinstance(url, str):
        raise SsoRejected("discovery-invalid")
    try:
        return outbound.check(url)
    except OutboundError as error:
        if error.reason == "scheme":
            raise SsoRejected(f"{what}-not-https", error.message) from None
        if error.reason == "address":
            raise _refused(error) from None
        raise SsoRejected("discovery-invalid") from None


def _get_json(outbound: Outbound, url: str) -> dict:
    try:
        response = outbound.get(url, headers=JSON, max_bytes=MAX_BYTES)
    except OutboundError as error:
        raise _refused(error) from None
    if response.status_code != 200:
        raise SsoRejected("provider-unreachable")
    try:
        document = response.json()
    except ValueError:
        raise SsoRejected("provider-unreachable")
    if not isinstance(document, dict):
        raise SsoRejected("provider-unreachable")
    return document


# -- discovery and keys ---------------------------------------------------------------

def expected_issuer(discovery_url: str) -> str:
    """OpenID Connect Discovery §4.3: the issuer is the URL the document hangs under."""
    if not discovery_url.endswith(WELL_KNOWN):
        raise SsoRejected("discovery-invalid")
    return discovery_url[: -len(WELL_KNOWN)]


def discovery(outbound: Outbound, provider, values: dict) -> dict:
    url = _check_url(outbound, provider.discovery_url(values), "discovery")
    cached = _discovery_cache.get(url)
    if cached and time.time() - cached[0] < DISCOVERY_TTL:
        return cached[1]
    document = _get_json(outbound, url)
    if document.get("issuer") != expected_issuer(url):
        # a document claiming another issuer would let that issuer's tokens in
        raise SsoRejected("discovery-issuer-mismatch")
    for member in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        _check_url(outbound, document.get(member), "discovery")
    if document.get("userinfo_endpoint") is not None:
        _check_url(outbound, document["userinfo_endpoint"], "discovery")
    _discovery_cache[url] = (time.time(), document)
    return document


def _fetch_jwks(outbound: Outbound, url: str) -> list[dict]:
    keys = _get_json(outbound, url).get("keys")
    if not isinstance(keys, list):
        raise SsoRejected("provider-unreachable")
    keys = [key for key in keys if isinstance(key, dict) and key.get("use", "sig") == "sig"]
    _jwks_cache[url] = (time.time(), keys)
    return keys


def _jwks(outbound: Outbound, url: str) -> tuple[list[dict], bool]:
    """(keys, just fetched)."""
    cached = _jwks_cache.get(url)
    if cached and time.time() - cached[0] < JWKS_TTL:
        return cached[1], False
    return _fetch_jwks(outbound, url), True


def _refetch_allowed(url: str) -> bool:
    last = _jwks_forced.get(url)
    if last is not None and time.time() - last < JWKS_REFETCH_INTERVAL:
        return False
    _jwks_forced[url] = time.time()
    return True


def _key_for(keys: list[dict], kid: str | None, alg: str) -> dict | None:
    if kid is None:
        if len(keys) > 1:
            # which one? trying them all would accept a key meant for something else
            raise SsoRejected("kid-absent-multiple-jwks")
        candidates = keys
    else:
        candidates = [key for key in keys if key.get("kid") == kid]
    for key in candidates:
        if key.get("kty") == _KEY_TYPES[alg] and key.get("alg", alg) == alg:
            return key
    if candidates:
        raise SsoRejected("invalid-sig")  # a key of another type or algorithm
    return None


def verify_signature(outbound: Outbound, id_token: str, jwks_uri: str) -> dict:
    """The ID token's claims, once its signature is verified with the provider's keys."""
    if not isinstance(id_token, str) or id_token.count(".") != 2:
        raise SsoRejected("malformed-id-token")
    try:
        header = json.loads(_b64decode(id_token.split(".")[0]))
    except ValueError:
        raise SsoRejected("malformed-id-token")
    if not isinstance(header, dict):
        raise SsoRejected("malformed-id-token")
    alg = header.get("alg")
    if not alg or str(alg).lower() == "none":
        raise SsoRejected("sig-none")
    if alg not in ALLOWED_ALGORITHMS:
        raise SsoRejected("alg-not-allowed")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise SsoRejected("malformed-id-token")
    keys, fresh = _jwks(outbound, jwks_uri)
    key = _key_for(keys, kid, alg)
    if key is None and not fresh and _refetch_allowed(jwks_uri):
        # an unknown key id: the provider may have rolled its keys
        key = _key_for(_fetch_jwks(outbound, jwks_uri), kid, alg)
    if key is None:
        raise SsoRejected("invalid-sig")
    try:
        public = KeySet.import_key_set({"keys": [key]}).keys[0]
        token = jwt.decode(id_token, public, algorithms=[alg])
    except BadSignatureError:
        raise SsoRejected("invalid-sig")
    except (JoseError, ValueError, TypeError):
        raise SsoRejected("malformed-id-token")
    if not isinstance(token.claims, dict):
        raise SsoRejected("malformed-id-token")
    return token.claims


# -- claims ---------------------------------------------------------------------------

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_claims(claims: dict, client_id: str, nonce: str, now: float | None = None) -> None:
    """OpenID Connect Core §3.1.3.7 (the issuer is the provider's to check)."""
    now = time.time() if now is None else now
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience
    if not isinstance(audiences, list) or client_id not in audiences:
        raise SsoRejected("invalid-aud")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise SsoRejected("azp-mismatch")
    if not _number(claims.get("exp")):
        raise SsoRejected("missing-exp")
    if claims["exp"] + CLOCK_SKEW <= now:
        raise SsoRejected("expired")
    if not _number(claims.get("iat")):
        raise SsoRejected("missing-iat")
    if claims["iat"] > now + CLOCK_SKEW:
        raise SsoRejected("iat-future")
    if "nbf" in claims and (not _number(claims["nbf"]) or claims["nbf"] > now + CLOCK_SKEW):
        raise SsoRejected("not-yet-valid")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise SsoRejected("missing-sub")
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(
            claims["nonce"].encode(), nonce.encode()):
        raise SsoRejected("nonce-invalid")


def _check_at_hash(claims: dict, access_token: str | None) -> None:
    """Optional in the code flow, but when the provider sends it, it must match."""
    if "at_hash" not in claims or not access_token:
        return
    digest = hashlib.sha256(access_token.encode("ascii")).digest()  # all allowed algs: SHA-256
    if not hmac.compare_digest(str(claims["at_hash"]), _b64url(digest[: len(digest) // 2])):
        raise SsoRejected("at-hash-mismatch")


# -- the flow -------------------------------------------------------------------------

def _provider_values(dbsession, connection, values: dict) -> dict:
    """The connection's values, plus the company's verified mail domains (read-only), which
    some providers check claims against (Google's ``hd``)."""
    verified = dbsession.scalars(
        select(VerifiedDomain.domain).where(VerifiedDomain.company_id == connection.company_id,
                                            VerifiedDomain.verified_at.is_not(None))
        .order_by(VerifiedDomain.domain)).all()
    return {**values, "verified_domains": tuple(verified)}


def request_location(exchange: Exchange, connection, provider, values: dict, attempt,
                     state: str, login_hint: str | None) -> str:
    """Where to send the browser: the provider's authorization endpoint."""
    values = _provider_values(exchange.dbsession, connection, values)
    document = discovery(exchange.outbound, provider, values)
    params = {
        "response_type": "code",
        "client_id": provider.client_id(values),
        "redirect_uri": exchange.redirect_uri,
        "scope": " ".join(provider.scopes),
        "state": state,
        "nonce": attempt.nonce,
        "code_challenge": code_challenge(attempt.code_verifier),
        "code_challenge_method": "S256",
    }
    for name, value in provider.authorize_params(values, login_hint).items():
        params.setdefault(name, value)  # never let a plugin replace state, nonce or PKCE
    endpoint = document["authorization_endpoint"]
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


def _check_iss_parameter(params: Mapping[str, str], document: dict) -> None:
    """RFC 9207: the authorization response names its issuer (mix-up attacks)."""
    iss = params.get("iss")
    if iss is None:
        if document.get("authorization_response_iss_parameter_supported") is True:
            raise SsoRejected("iss-param-missing")
        return
    if iss != document["issuer"]:
        raise SsoRejected("iss-param-mismatch")


def _exchange(exchange: Exchange, document: dict, client_id: str, secret: str, code: str,
              verifier: str) -> dict:
    data = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": exchange.redirect_uri, "code_verifier": verifier}
    headers = {}
    methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in methods:
        # RFC 6749 §2.3.1: both parts form-encoded before base64
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        data.update(client_id=client_id, client_secret=secret)
    try:
        response = exchange.outbound.post(document["token_endpoint"], data=data,
                                          headers={**JSON, **headers}, max_bytes=MAX_BYTES)
    except OutboundError as error:
        raise _refused(error) from None
    if response.status_code != 200:
        raise SsoRejected("code-exchange-failed")
    try:
        tokens = response.json()
    except ValueError:
        raise SsoRejected("code-exchange-failed")
    if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
        raise SsoRejected("code-exchange-failed")
    if tokens.get("access_token") is not None and (
            not isinstance(tokens["access_token"], str)
            or str(tokens.get("token_type", "")).lower() != "bearer"):
        raise SsoRejected("code-exchange-failed")
    return tokens


def _userinfo(outbound: Outbound, document: dict, access_token: str | None,
              sub: str) -> dict | None:
    endpoint = document.get("userinfo_endpoint")
    if not endpoint or not access_token:
        return None
    try:
        response = outbound.get(endpoint, headers={**JSON, "Authorization": f"Bearer {access_token}"},
                                max_bytes=MAX_BYTES)
    except OutboundError as error:
        raise _refused(error) from None
    if response.status_code != 200 or not response.headers.get(
            "content-type", "").startswith("application/json"):
        raise SsoRejected("userinfo-failed")
    try:
        userinfo = response.json()
    except ValueError:
        raise SsoRejected("userinfo-failed")
    if not isinstance(userinfo, dict):
        raise SsoRejected("userinfo-failed")
    # OpenID Connect Core §5.3.2: another sub means the answer is about someone else
    if userinfo.get("sub") != sub:
        raise SsoRejected("userinfo-invalid-sub")
    return userinfo


def finish(exchange: Exchange, connection, provider, values: dict, attempt,
           params: Mapping[str, str]):
    """Check the authorization response of ``attempt`` (already taken: state checked),
    whose query parameters are ``params``, and return the
    :class:`~mypages.contract.FederatedIdentity` it proves."""
    values = _provider_values(exchange.dbsession, connection, values)
    document = discovery(exchange.outbound, provider, values)
    _check_iss_parameter(params, document)
    if params.get("error"):
        raise SsoRejected("idp-error")
    code = params.get("code")
    if not code:
        raise SsoRejected("code-missing")
    client_id = provider.client_id(values)
    tokens = _exchange(exchange, document, client_id, values.get("client_secret", ""), code,
                       attempt.code_verifier)
    id_token = tokens["id_token"]
    claims = verify_signature(exchange.outbound, id_token, document["jwks_uri"])
    provider.check_issuer(values, document["issuer"], claims)
    check_claims(claims, client_id, attempt.nonce, exchange.clock.now().timestamp())
    access_token = tokens.get("access_token")
    _check_at_hash(claims, access_token)
    userinfo = _userinfo(exchange.outbound, document, access_token, claims["sub"])
    identity = provider.identity(values, claims, userinfo, "oidc")
    if identity.groups is None and access_token:
        groups = provider.read_groups(values, claims, access_token)
        if groups is not None:
            identity = replace(identity, groups=tuple(groups), groups_warning=None)
    return identity
