"""The core's own hook implementations for the sign-in policy."""
from mypages.contract import SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.policy.mail_jobs import JOBS


@hookimpl
def mypages_jobs():
    return JOBS


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("security", _("Security"), "company_security", order=30)]
