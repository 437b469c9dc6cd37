"""The offline identity providers under ``/_dev/``, with ``mypages.dev_features`` only.

development.ini turns it on, so ``make run`` can be clicked through without a
network: ``/_dev/azure`` is an Entra ID-style OpenID provider, ``/_dev/google``
a Google-style one and ``/_dev/saml`` a SAML identity provider; ``/_dev/``
says what to type into the Single Sign On tab for each. Production refuses to
start with ``mypages.dev_features`` (mypages.settings), and without it none of
these routes exist.

The fakes sign in anyone: the OpenID providers make up the person the
``login_hint`` names, and the SAML provider asks for an e-mail address first.

The app calls the fakes' discovery, token, key and metadata endpoints over
HTTP on itself, so the server must answer several requests at once (waitress
does); the fakes keep their codes and keys in memory, so one process only.
"""
from __future__ import annotations

import base64
import hashlib
import re
import threading

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render_to_response
from pyramid.request import call_app_with_subpath_as_path_info

from mypages.services import settings_of
from mypages.sso.fakes import DEMO_DOMAIN
from mypages.web import CSP

MOUNT = "/_dev"
# made-up values in the formats the real services use
AZURE_TENANT_ID = "0ff11e00-de70-4a2e-8000-000000000001"
AZURE_CLIENT_ID = "0ff11e00-de70-4c11-8e47-000000000002"
GOOGLE_CLIENT_ID = "000000000000-offline.apps.googleusercontent.com"
CLIENT_SECRET = "development-only-client-secret"
#: (fake, provider key, protocol) in the order ``/_dev/`` lists them
FAKES = (("azure", "azure", "oidc"), ("google", "google", "oidc"), ("saml", "saml", "saml"))
_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def base_url(request) -> str:
    return settings_of(request).base_url + MOUNT


def connection_values(request, fake: str) -> dict:
    """The connection form's values for ``fake``, by field name."""
    here = f"{base_url(request)}/{fake}"
    if fake == "azure":
        return {"tenant_id": AZURE_TENANT_ID, "client_id": AZURE_CLIENT_ID,
                "client_secret": CLIENT_SECRET, "authority": here}
    if fake == "google":
        return {"client_id": GOOGLE_CLIENT_ID, "client_secret": CLIENT_SECRET,
                "discovery_url": f"{here}/.well-known/openid-configuration"}
    return {"idp_metadata_url": f"{here}/metadata", "email_verified_by_idp": "yes"}


class DevFakes:
    """The fakes of this process, made on first use (their keys take a moment to make)."""

    def __init__(self):
        self._made: dict = {}
        self._lock = threading.Lock()
        #: the SAML fake signs in one person at a time (``FakeSamlIdp.user``)
        self.saml_lock = threading.Lock()

    def get(self, request, name: str):
        with self._lock:
            if name not in self._made:
                self._made[name] = self._make(request, name)
            return self._made[name]

    @staticmethod
    def _make(request, name: str):
        here = f"{base_url(request)}/{name}"
        # the fakes need the "fakes" extra (pysaml2, pyop): imported once one is used
        if name == "saml":
            from mypages.sso.fakes.saml_idp import FakeSamlIdp

            return FakeSamlIdp(here)
        from mypages.sso.fakes.oidc_provider import FakeOidcProvider

        callback = (settings_of(request).base_url
                    + request.route_path("sso_oidc_callback"))
        values = connection_values(request, name)
        return FakeOidcProvider(
            here, style=name, tenant_id=AZURE_TENANT_ID, client_id=values["client_id"],
            client_secret=CLIENT_SECRET, redirect_uris=(callback,), auto_users=True,
            # as the real ones prefer: Entra ID the secret in the body, Google HTTP Basic
            token_endpoint_auth_method="client_secret_post" if name == "azure"
            else "client_secret_basic")


def saml_user(email: str):
    """The SAML fake's person for ``email``: a persistent NameID that stays the same for
    the same address (also after a restart), and the mail attribute."""
    from mypages.sso.fakes.saml_idp import SamlUser  # pysaml2, of the "fakes" extra

    stable = hashlib.sha256(email.encode()).hexdigest()[:24]
    return SamlUser(nameid=f"dev-{stable}",
                    attributes={"mail": [email], "displayName": [email.split("@")[0]]})


def _allow_inline_script(response) -> None:
    """The SAML fake posts its answer with a tiny inline script; allow exactly that one."""
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
                      for script in _SCRIPT.findall(response.body))
    if hashes:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "script-src 'self'", f"script-src 'self' {hashes}")


def fake_view(request):
    """Hands the request to the fake, which sees the rest of the path as its own."""
    name = request.matchdict["fake"]
    if name not in {fake for fake, _key, _protocol in FAKES}:
        raise HTTPNotFound()
    fakes = request.registry["sso.dev_fakes"]
    app = fakes.get(request, name)
    if name != "saml" or tuple(request.subpath) != ("sso",):
        return call_app_with_subpath_as_path_info(request, app)
    email = request.GET.get("login_as", "").strip().lower()
    if "@" not in email:
        # as a real identity provider would: who is signing in?
        return render_to_response("mypages:templates/dev_saml_sign_in.jinja2", {
            "fields": [(k, v) for k, v in request.GET.items() if k != "login_as"],
            "email": email}, request=request)
    with fakes.saml_lock:
        app.user = saml_user(email)
        response = call_app_with_subpath_as_path_info(request, app)
    _allow_inline_script(response)
    return response


def index_view(request):
    """What to type into the Single Sign On tab for each fake."""
    providers = request.registry["sso.providers"]
    fakes = []
    for name, key, protocol in FAKES:
        provider = providers.get(key)
        if provider is None:
            continue  # its plugin is not installed or not allowed
        values = connection_values(request, name)
        fields = [(field.label, values[field.name], field.kind) for field in provider.settings()
                  if protocol in field.protocols and field.name in values]
        fakes.append({"name": name, "path": f"{MOUNT}/{name}", "title": provider.title,
                      "protocol": protocol, "fields": fields})
    return {"fakes": fakes, "domain": DEMO_DOMAIN}


def includeme(config):
    config.registry["sso.dev_fakes"] = DevFakes()
    config.add_route("dev_fakes", f"{MOUNT}/")
    config.add_route("dev_fake", MOUNT + "/{fake}/*subpath")
    config.add_view(index_view, route_name="dev_fakes", request_method="GET",
                    renderer="mypages:templates/dev_fakes.jinja2")
    # the fakes' token endpoints take posts from the app itself, authenticated as OAuth does
    config.add_view(fake_view, route_name="dev_fake", require_csrf=False)
