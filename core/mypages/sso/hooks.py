"""The "Single Sign On" module as the core offers it."""
from decimal import Decimal

from mypages.contract import Module, NotificationKind, Price, SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.sso.connections import MODULE_KEY
from mypages.sso.generic_saml import GenericSamlProvider
from mypages.sso.mail_jobs import JOBS
from mypages.sso.require_all import NOTIFICATION_KIND, module_state_changed


@hookimpl
def mypages_modules():
    return [Module(
        key=MODULE_KEY,
        title=_("Single Sign On"),
        description=_("Your people sign in with their work account (Microsoft Entra ID, "
                      "Google Workspace or any SAML identity provider)."),
        trial_days=10,
        price=Price(Decimal("990"), "SEK", per=_("per month")),
    )]


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("sso", _("Single Sign On"), "sso_settings", order=40)]


@hookimpl
def mypages_module_state_changed(context, company, module_key, old_state, new_state):
    if module_key == MODULE_KEY:
        module_state_changed(context, company, old_state, new_state)


@hookimpl
def mypages_jobs():
    return JOBS


@hookimpl
def mypages_sso_providers():
    return [GenericSamlProvider()]


@hookimpl
def mypages_notification_kinds():
    return [NotificationKind(NOTIFICATION_KIND, _("Single Sign On (to admins)"), email=True)]
