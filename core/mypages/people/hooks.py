"""The core's own hook implementations for a company's people."""
from mypages.contract import SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.people.invitations import JOBS


@hookimpl
def mypages_jobs():
    return JOBS


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("people", _("People"), "company_people", order=20)]
