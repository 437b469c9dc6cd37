"""The "Single Sign On" module: companies sign their people in through their own
identity provider (OIDC or SAML 2.0), with verified domains, identifier-first
routing, just-in-time accounts, group mapping and "Require from all".

Identity providers come from plugins (``mypages_sso_providers``); this
package does the protocol work and the policy around it.
"""
from __future__ import annotations

from mypages.contract import LoginMethod, SsoProvider
from mypages.plugins import PluginError
from mypages.services import DnsResolver, settings_of
from mypages.sso.connections import MODULE_KEY  # noqa: F401  (the module's key, by its name)
from mypages.sso.domains import DnspythonResolver
from mypages.sso.flow import identifier_first
from mypages.sso.models import SsoConnection


def sso_providers(registry) -> dict[str, SsoProvider]:
    """The identity providers every enabled plugin offers, by key (once all plugins are
    registered: at a request, not in an ``includeme``)."""
    return registry["sso.providers"]


def build_on_ready(registry) -> None:
    """Gather the providers; each becomes a sign-in method ``sso:<key>``."""
    providers, owners = {}, {}
    pm = registry["plugins.manager"]
    for impl in reversed(pm.hook.mypages_sso_providers.get_hookimpls()):
        for provider in impl.function() or []:
            if not provider.key:
                raise PluginError(impl.plugin_name, "it offers an SSO provider with an empty key")
            if provider.key in providers:
                raise PluginError(impl.plugin_name, f"SSO provider key {provider.key!r} is "
                                  f"already offered by {owners[provider.key]!r}")
            provider.outbound = registry["outbound"]
            providers[provider.key] = provider
            owners[provider.key] = impl.plugin_name
    registry["sso.providers"] = providers
    methods = registry["accounts.login_methods"]
    for provider in providers.values():
        methods[f"sso:{provider.key}"] = LoginMethod(f"sso:{provider.key}", provider.title,
                                                     is_mfa=True, is_local=False)


def includeme(config):
    config.register_service(DnspythonResolver(settings_of(config)), DnsResolver)
    config.register_core_hooks("core.sso", "mypages.sso.hooks")
    config.on_plugins_ready(build_on_ready)
    config.register_encrypted_column(SsoConnection.secrets_encrypted)
    config.add_identifier_first_route(identifier_first)
    config.add_company_route("sso_settings", "/settings/sso")
    config.add_company_route("sso_action", "/settings/sso/{action}", request_method="POST")
    # without JavaScript, the page that asks before requiring Single Sign On from all
    config.add_company_route("sso_require_all_confirm", "/settings/sso/require-all",
                             request_method="GET")
    config.add_route("sso_start", "/sso/start")
    config.add_route("sso_oidc_callback", "/sso/oidc/callback")
    config.add_route("sso_saml_acs", "/sso/saml/{connection_id}/acs", ids="connection_id")
    config.add_route("sso_saml_metadata", "/sso/saml/{connection_id}/metadata",
                     ids="connection_id")
    config.scan(".views")
