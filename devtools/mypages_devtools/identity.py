"""The offline identity providers, as stand-ins under ``/_dev/``.

``/_dev/azure/`` is an Entra ID-style OpenID provider and ``/_dev/google/`` a
Google-style one (WSGI applications on pyop), ``/_dev/saml/`` a SAML identity
provider (pysaml2) with a sign-in page of the product's own look, so it is a
Pyramid include. The ``/_dev/`` index says what to type into the Single Sign On
tab for each, in the words of the provider's own form.

They sign in anyone: the OpenID providers make up the person the
``login_hint`` names, and the SAML provider asks for an e-mail address first.
"""
from __future__ import annotations

import hashlib
import threading

from pyramid.renderers import render_to_response
from pyramid.request import call_app_with_subpath_as_path_info

from mypages.toolkit import DevApp, TranslationStringFactory, dev_app_url, sso_providers

from mypages_devtools.fakes.oidc_provider import FakeOidcProvider
from mypages_devtools.fakes.saml_idp import FakeSamlIdp, SamlUser

_ = TranslationStringFactory("mypages_devtools")

#: the mail domain of the demo data: verified for the demo company, so the stand-ins
#: sign its people in
DEMO_DOMAIN = "demo.example"
# made-up values in the formats the real services use
AZURE_TENANT_ID = "0ff11e00-de70-4a2e-8000-000000000001"
AZURE_CLIENT_ID = "0ff11e00-de70-4c11-8e47-000000000002"
GOOGLE_CLIENT_ID = "000000000000-offline.apps.googleusercontent.com"
CLIENT_SECRET = "development-only-client-secret"
#: the application's OpenID Connect redirect URI, the address admins register at their provider
CALLBACK_PATH = "/sso/oidc/callback"
SAML_APP = "mypages_devtools.saml"
STEPS = _("Sign in as an admin of a company whose mail domain is verified (the demo data "
          "verifies ${domain}), activate the trial of Single Sign On under Company settings, "
          "Modules, and fill in the values below on the Single Sign On tab. To sign in through "
          "it, type only the e-mail address on the sign-in page.", mapping={"domain": DEMO_DOMAIN})


def connection_values(here: str, name: str) -> dict:
    """The connection form's values for stand-in ``name`` served at ``here``, by field."""
    if name == "azure":
        return {"tenant_id": AZURE_TENANT_ID, "client_id": AZURE_CLIENT_ID,
                "client_secret": CLIENT_SECRET, "authority": here}
    if name == "google":
        return {"client_id": GOOGLE_CLIENT_ID, "client_secret": CLIENT_SECRET,
                "discovery_url": f"{here}/.well-known/openid-configuration"}
    return {"idp_metadata_url": f"{here}/metadata", "email_verified_by_idp": _("Ticked")}


def _details(name: str, protocol: str):
    def details(request) -> list:
        """The provider's own labels for the values to type (none when its plugin is not
        installed or not allowed)."""
        provider = sso_providers(request.registry).get(name)
        if provider is None:
            return []
        values = connection_values(dev_app_url(request, name), name)
        return [(_("How to connect it"), STEPS),
                (_("Identity provider"), provider.title),
                (_("Protocol"), "OpenID Connect" if protocol == "oidc" else "SAML 2.0"),
                *[(field.label, values[field.name]) for field in provider.settings()
                  if protocol in field.protocols and field.name in values]]
    return details


def oidc_provider(name: str):
    """The factory of the ``name``-style OpenID provider served at ``here``."""
    def make(here: str) -> FakeOidcProvider:
        values = connection_values(here, name)
        callback = here.rsplit("/_dev/", 1)[0] + CALLBACK_PATH
        return FakeOidcProvider(
            here, style=name, tenant_id=AZURE_TENANT_ID, client_id=values["client_id"],
            client_secret=CLIENT_SECRET, redirect_uris=(callback,), auto_users=True,
            # as the real ones prefer: Entra ID the secret in the body, Google HTTP Basic
            token_endpoint_auth_method="client_secret_post" if name == "azure"
            else "client_secret_basic")
    return make


def saml_user(email: str) -> SamlUser:
    """The SAML stand-in's person for ``email``: a persistent NameID that stays the same for
    the same address (also after a restart), and the mail attribute."""
    stable = hashlib.sha256(email.encode()).hexdigest()[:24]
    return SamlUser(nameid=f"dev-{stable}",
                    attributes={"mail": [email], "displayName": [email.split("@")[0]]})


class SamlStandIn:
    """The SAML provider of this process, made on first use; it signs in one person at a
    time (``FakeSamlIdp.user``)."""

    def __init__(self):
        self._idp: FakeSamlIdp | None = None
        self._lock = threading.Lock()
        self.signing_in = threading.Lock()

    def idp(self, request) -> FakeSamlIdp:
        with self._lock:
            if self._idp is None:
                self._idp = FakeSamlIdp(dev_app_url(request, "saml"))
            return self._idp


def saml_view(request):
    """Metadata and the post script straight from the provider; its sign-in asks who first."""
    stand_in = request.registry[SAML_APP]
    idp = stand_in.idp(request)
    if tuple(request.subpath) != ("sso",):
        return call_app_with_subpath_as_path_info(request, idp)
    email = request.GET.get("login_as", "").strip().lower()
    if "@" not in email:
        # as a real identity provider would: who is signing in?
        return render_to_response("mypages_devtools:templates/saml_sign_in.jinja2", {
            "fields": [(k, v) for k, v in request.GET.items() if k != "login_as"],
            "email": email}, request=request)
    with stand_in.signing_in:
        idp.user = saml_user(email)
        return call_app_with_subpath_as_path_info(request, idp)


def include_saml(config):
    """Pyramid include, under the route prefix ``/_dev/saml``."""
    config.registry[SAML_APP] = SamlStandIn()
    config.add_route("devtools_saml", "/*subpath")
    config.add_view(saml_view, route_name="devtools_saml", request_method="GET")


def stand_ins() -> list[DevApp]:
    return [
        DevApp("azure", _("Microsoft Entra ID, offline"),
               _("An OpenID provider in the style of Microsoft Entra ID. It signs in anyone "
                 "whose e-mail address is typed."),
               app=oidc_provider("azure"), details=_details("azure", "oidc")),
        DevApp("google", _("Google Workspace, offline"),
               _("An OpenID provider in the style of Google. It signs in anyone whose e-mail "
                 "address is typed."),
               app=oidc_provider("google"), details=_details("google", "oidc")),
        DevApp("saml", _("SAML identity provider, offline"),
               _("A SAML 2.0 identity provider. It asks for an e-mail address and signs that "
                 "person in."),
               include=include_saml, details=_details("saml", "saml")),
    ]
