"""An OpenID Connect provider on pyop, "Azure-style" or "Google-style".

pyop does the protocol: it parses and checks the authorization request
(client, redirect URI, scopes, PKCE challenge), issues single-use codes,
checks client authentication and the PKCE verifier at the token endpoint,
signs the ID token and answers userinfo. Around it this module serves
discovery, the JWKS, a Graph-like group endpoint (Entra ID's group overage)
and a set of deliberate misbehaviours for the attack cases: where pyop would
never produce such a token, the ID token is re-signed here with joserfc.

Test users are dicts of claims (``sub`` first); the authorization endpoint
consents at once for the user named by ``fake.next_user``, else the user
whose e-mail is the ``login_hint`` (made up on the spot with ``auto_users``,
for the offline demo), else the first user.

Misbehaviours (``fake.misbehave(...)``, ``fake.reset()`` ends them):

``claims``             ID-token claims to set; ``None`` removes a claim
``alg``                "RS256" (pyop's own), "PS256", "ES256", "HS256" (keyed with the
                       public key's PEM, the key-confusion attack) or "none"
``foreign_key``        sign with a key the JWKS does not publish, under a published kid
``omit_kid``           no ``kid`` in the ID token's header
``jwks_only_signing_key``  the JWKS holds the signing key only
``discovery``          members of the discovery document to set
``userinfo``           members of the userinfo answer to set (e.g. another ``sub``)
``iss_param``          the authorization response carries ``iss`` (RFC 9207): ``True`` for
                       the right issuer, or a string; the discovery document then
                       advertises ``authorization_response_iss_parameter_supported``
``error``              the authorization response is this OAuth error
``groups_overage``     no ``groups`` claim but Entra ID's ``_claim_names``/``_claim_sources``
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from collections import Counter
from functools import lru_cache
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from jwkest.jwk import RSAKey as PyopRSAKey, import_rsa_key
from pyop.authz_state import AuthorizationState
from pyop.exceptions import BearerTokenError, InvalidAccessToken, InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo
from webob import Request, Response

ALGORITHMS = ("RS256", "PS256", "ES256")
SCOPES = ["openid", "email", "profile"]
OVERAGE_SOURCE = "src1"


@lru_cache(maxsize=None)
def pool_key(kind: str, index: int):
    """Key number ``index`` of a process-wide pool: RSA keys take a while to make, so
    every fake shares them (kids are thumbprints, so a key keeps its kid)."""
    if kind == "EC":
        return ECKey.generate_key("P-256", auto_kid=True)
    return RSAKey.generate_key(2048, auto_kid=True)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_b64(value: dict) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def azure_user(tenant_id: str, oid: str, email: str, name: str = "", groups=(), **claims) -> dict:
    """An Entra ID work account: ``sub`` is pairwise, the stable key is ``tid`` + ``oid``."""
    return {"sub": "pairwise-" + hashlib.sha256(oid.encode()).hexdigest()[:24], "oid": oid,
            "tid": tenant_id, "email": email, "preferred_username": email,
            "name": name or email.split("@")[0], "groups": list(groups), **claims}


def google_user(sub: str, email: str, hd: str | None = None, name: str = "",
                email_verified: bool = True, **claims) -> dict:
    """A Google account; Workspace accounts carry ``hd``, consumer accounts do not."""
    user = {"sub": sub, "email": email, "email_verified": email_verified,
            "name": name or email.split("@")[0], **claims}
    if hd:
        user["hd"] = hd
    return user


class FakeOidcProvider:
    """A WSGI application; ``base_url`` is where it is served (the tests' loopback server,
    or the app's ``/_dev/...`` mount)."""

    def __init__(self, base_url: str, *, style: str = "azure", tenant_id: str | None = None,
                 client_id: str = "mypages-client", client_secret: str = "mypages-secret",
                 redirect_uris=("http://127.0.0.1:6543/sso/oidc/callback",),
                 token_endpoint_auth_method: str = "client_secret_basic", users=(),
                 auto_users: bool = False):
        if style not in ("azure", "google"):
            raise ValueError(f"unknown style {style!r}")
        self.base_url = base_url.rstrip("/")
        self.style = style
        self.tenant_id = tenant_id or "9188040d-6c67-4c5b-b112-36a304b66dad"
        self.client_id = client_id
        # the offline demo: anyone the login_hint names exists, with a verified e-mail
        self.auto_users = auto_users
        self.users: dict[str, dict] = {}
        self.next_user: str | None = None
        self.knobs: dict = {}
        self.hits: Counter = Counter()
        self.graph_page_size = 100
        self._key_index = 0
        self.ec_key = pool_key("EC", 0)
        if style == "azure":
            self.issuer = f"{self.base_url}/{self.tenant_id}/v2.0"
            paths = {"discovery": f"/{self.tenant_id}/v2.0/.well-known/openid-configuration",
                     "authorize": f"/{self.tenant_id}/oauth2/v2.0/authorize",
                     "token": f"/{self.tenant_id}/oauth2/v2.0/token",
                     "jwks": f"/{self.tenant_id}/discovery/v2.0/keys",
                     "userinfo": "/oidc/userinfo",
                     "graph": "/v1.0/me/transitiveMemberOf"}
        else:
            self.issuer = self.base_url
            paths = {"discovery": "/.well-known/openid-configuration",
                     "authorize": "/o/oauth2/v2/auth", "token": "/token",
                     "jwks": "/oauth2/v3/certs", "userinfo": "/v1/userinfo"}
        self.paths = paths
        self.routes = {path: getattr(self, f"_{name}") for name, path in paths.items()}
        self.provider = Provider(
            self._pyop_key(self.rsa_key),
            # pyop insists on https; the real issuer is set below (loopback is plain http)
            {"issuer": "https://placeholder.invalid",
             "authorization_endpoint": self.url("authorize"),
             "token_endpoint": self.url("token"),
             "userinfo_endpoint": self.url("userinfo"),
             "jwks_uri": self.url("jwks"),
             "response_types_supported": ["code"],
             "subject_types_supported": ["public"],
             "id_token_signing_alg_values_supported": list(ALGORITHMS),
             "scopes_supported": list(SCOPES),
             "token_endpoint_auth_methods_supported": [token_endpoint_auth_method],
             "code_challenge_methods_supported": ["S256"],
             "claims_parameter_supported": False},
            AuthorizationState(HashBasedSubjectIdentifierFactory("fake-oidc-salt")),
            {client_id: {"client_secret": client_secret, "redirect_uris": list(redirect_uris),
                         "response_types": ["code"],
                         "token_endpoint_auth_method": token_endpoint_auth_method}},
            Userinfo(self.users),
        )
        self.provider.configuration_information["issuer"] = self.issuer
        for user in users:
            self.add_user(user)

    # -- set-up by tests ---------------------------------------------------------------

    def url(self, name: str) -> str:
        return self.base_url + self.paths[name]

    @property
    def discovery_url(self) -> str:
        return self.url("discovery")

    @property
    def rsa_key(self):
        return pool_key("RSA", self._key_index)

    @property
    def next_rsa_key(self):
        """Published ahead of use, as real providers do before they roll their keys."""
        return pool_key("RSA", self._key_index + 1)

    def add_user(self, claims: dict, key: str | None = None) -> str:
        key = key or claims.get("email") or claims["sub"]
        self.users[key] = dict(claims)
        return key

    def rotate_keys(self, steps: int = 2) -> None:
        """Sign with a key never published before; the old keys leave the JWKS."""
        self._key_index += steps
        self.provider.signing_key = self._pyop_key(self.rsa_key)

    def misbehave(self, **knobs) -> None:
        self.knobs.update(knobs)

    def reset(self) -> None:
        self.knobs.clear()
        self.next_user = None

    @staticmethod
    def _pyop_key(key):
        return PyopRSAKey(key=import_rsa_key(key.as_pem(private=True)), kid=key.kid,
                          alg="RS256", use="sig")

    # -- WSGI --------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        handler = self.routes.get(request.path_info)
        if handler is None:
            response = Response("not found", status=404, content_type="text/plain")
        else:
            self.hits[handler.__name__.lstrip("_")] += 1
            response = handler(request)
        return response(environ, start_response)

    @staticmethod
    def _json(value, status: int = 200) -> Response:
        response = Response(json.dumps(value).encode(), status=status, content_type="application/json")
        response.cache_control = "no-store"
        return response

    def _discovery(self, request) -> Response:
        document = self.provider.provider_configuration.to_dict()
        if self.knobs.get("iss_param"):
            document["authorization_response_iss_parameter_supported"] = True
        document.update(self.knobs.get("discovery", {}))
        return self._json(document)

    def _jwks(self, request) -> Response:
        if self.knobs.get("jwks_only_signing_key"):
            keys = [self._signing_key()]
        else:
            keys = [self.rsa_key, self.next_rsa_key, self.ec_key]
        published = []
        for key in keys:
            jwk = key.as_dict(private=False)
            jwk["use"] = "sig"
            if self.knobs.get("omit_kid") and self.knobs.get("jwks_only_signing_key"):
                jwk.pop("kid", None)
            published.append(jwk)
        return self._json({"keys": published})

    def _chosen_user(self, request) -> str | None:
        if self.next_user:
            return self.next_user
        hint = (request.params.get("login_hint") or "").strip().lower()
        for key, claims in self.users.items():
            if hint and (key.lower() == hint or str(claims.get("email", "")).lower() == hint):
                return key
        if self.auto_users and "@" in hint:
            return self.add_user(self._made_up_user(hint))
        return next(iter(self.users), None)

    def _made_up_user(self, email: str) -> dict:
        stable = hashlib.sha256(email.encode()).hexdigest()
        if self.style == "azure":
            oid = f"{stable[:8]}-{stable[8:12]}-4{stable[13:16]}-8{stable[17:20]}-{stable[20:32]}"
            return azure_user(self.tenant_id, oid, email, xms_edov=True)
        return google_user(str(int(stable[:15], 16)), email, hd=email.rsplit("@", 1)[1])

    def _authorize(self, request) -> Response:
        try:
            auth_request = self.provider.parse_authentication_request(request.query_string)
        except InvalidAuthenticationRequest as error:
            # an unknown client or redirect URI is never redirected to (open redirector)
            return Response(f"invalid authorization request: {error}", status=400,
                            content_type="text/plain")
        redirect_uri = auth_request["redirect_uri"]
        user = self._chosen_user(request)
        if self.knobs.get("error") or user is None:
            answer = {"error": self.knobs.get("error") or "access_denied"}
            if "state" in auth_request:
                answer["state"] = auth_request["state"]
        else:
            answer = self.provider.authorize(auth_request, user).to_dict()
        iss_param = self.knobs.get("iss_param")
        if iss_param:
            answer["iss"] = self.issuer if iss_param is True else iss_param
        response = Response(status=302)
        response.location = redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(answer)
        return response

    def _token(self, request) -> Response:
        if request.method != "POST":
            return self._json({"error": "invalid_request"}, 405)
        try:
            answer = self.provider.handle_token_request(
                request.body.decode(), dict(request.headers),
                extra_id_token_claims=self._id_token_claims).to_dict()
        except OAuthError as error:
            status = 401 if error.oauth_error == "invalid_client" else 400
            return self._json({"error": error.oauth_error, "error_description": str(error)}, status)
        answer["id_token"] = self._misbehaving(answer["id_token"])
        return self._json(answer)

    def _id_token_claims(self, user_id: str, client_id: str) -> dict:
        claims = {k: v for k, v in self.users[user_id].items() if k != "sub"}
        if self.knobs.get("groups_overage"):
            claims.pop("groups", None)
            claims["_claim_names"] = {"groups": OVERAGE_SOURCE}
            claims["_claim_sources"] = {OVERAGE_SOURCE: {
                "endpoint": f"{self.base_url}/v1.0/users/{claims.get('oid', '')}/getMemberObjects"}}
        return claims

    def _signing_key(self):
        alg = self.knobs.get("alg", "RS256")
        if alg == "ES256":
            return self.ec_key
        return self.rsa_key

    def _misbehaving(self, id_token: str) -> str:
        """pyop's ID token as it is, or its claims changed and signed here as asked."""
        alg = self.knobs.get("alg", "RS256")
        changes = self.knobs.get("claims")
        if not (changes or alg != "RS256" or self.knobs.get("foreign_key")
                or self.knobs.get("omit_kid")):
            return id_token
        claims = _payload(id_token)
        for name, value in (changes or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = copy.deepcopy(value)
        key = self._signing_key()
        header = {"alg": alg, "typ": "JWT"}
        if not self.knobs.get("omit_kid"):
            header["kid"] = key.kid
        if self.knobs.get("foreign_key"):
            key = pool_key("RSA", 1000) if alg != "ES256" else pool_key("EC", 1000)
        if alg == "none":
            return f"{_json_b64(header)}.{_json_b64(claims)}."
        if alg.startswith("HS"):
            signing_input = f"{_json_b64(header)}.{_json_b64(claims)}"
            secret = self.rsa_key.as_pem(private=False)
            digest = getattr(hashlib, "sha" + alg[2:])
            return signing_input + "." + _b64(hmac.new(secret, signing_input.encode(), digest).digest())
        return jwt.encode(header, claims, key, algorithms=[alg])

    def _bearer_user(self, request) -> str | None:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return None
        try:
            introspection = self.provider.authz_state.introspect_access_token(authorization[7:])
        except InvalidAccessToken:
            return None
        if not introspection["active"]:
            return None
        return self.provider.authz_state.get_user_id_for_subject_identifier(introspection["sub"])

    def _userinfo(self, request) -> Response:
        try:
            answer = self.provider.handle_userinfo_request(
                request.query_string or request.body.decode(), dict(request.headers)).to_dict()
        except (BearerTokenError, InvalidAccessToken, OAuthError):
            response = self._json({"error": "invalid_token"}, 401)
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response
        answer.update(self.knobs.get("userinfo", {}))
        return self._json(answer)

    def _graph(self, request) -> Response:
        """Microsoft Graph's ``/me/transitiveMemberOf``: the user's groups and roles, paged."""
        user = self._bearer_user(request)
        if user is None:
            return self._json({"error": {"code": "InvalidAuthenticationToken"}}, 401)
        entries = [{"@odata.type": "#microsoft.graph.group", "id": group}
                   for group in self.users[user].get("groups", [])]
        # directory roles are members too, and must not be taken for groups
        entries.insert(0, {"@odata.type": "#microsoft.graph.directoryRole",
                           "id": "62e90394-69f5-4237-9190-012177145e10"})
        start = int(request.params.get("$skiptoken", "0") or 0)
        page = {"value": entries[start:start + self.graph_page_size]}
        if start + self.graph_page_size < len(entries):
            page["@odata.nextLink"] = (self.url("graph") + "?"
                                       + urlencode({"$skiptoken": start + self.graph_page_size}))
        return self._json(page)


def serve_info(fake: FakeOidcProvider) -> dict:
    """What an admin would type into the connection form for this fake."""
    if fake.style == "azure":
        return {"tenant_id": fake.tenant_id, "authority": fake.base_url, "graph_url": fake.base_url}
    return {"discovery_url": fake.discovery_url}


