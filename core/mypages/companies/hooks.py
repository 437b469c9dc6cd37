"""The core's own hook implementations for companies."""
from mypages.contract import SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_jobs():
    from mypages.people.invitations import JOBS
    return JOBS


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("people", _("People"), "company_people", order=20),
            SettingsTab("security", _("Security"), "company_security", order=30)]
