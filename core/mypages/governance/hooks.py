"""The core's own hook implementations for governance: the Audit trail tab, and the jobs
that purge the trail and disable dormant memberships."""
from __future__ import annotations

from mypages.contract import SettingsTab
from mypages.governance import dormancy, retention, trail
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("audit", _("Audit trail"), "company_audit", order=90)]


@hookimpl
def mypages_jobs():
    return retention.jobs() + dormancy.jobs()


@hookimpl
def mypages_api(api):
    trail.add_operations(api)
