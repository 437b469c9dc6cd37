"""The core's own hook implementations for companies: the Company tab."""
from mypages.contract import SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("company", _("Company"), "company_information", order=5)]
