"""The core's own hook implementations for governance: the Audit trail tab, the jobs that
purge the trail, watch it and disable dormant memberships, and the watch's rules."""
from __future__ import annotations

from mypages.contract import SettingsTab
from mypages.governance import dormancy, retention, rules, trail, watch
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("audit", _("Audit trail"), "company_audit", order=90)]


@hookimpl
def mypages_jobs():
    return retention.jobs() + watch.jobs() + dormancy.jobs()


@hookimpl
def mypages_audit_rules():
    return rules.rules()


@hookimpl
def mypages_company_erase(context, company):
    """An erased company's alerts name its people, and its chain's watch place goes with it."""
    watch.forget_company(context.dbsession, company.id)


@hookimpl
def mypages_notification_kinds():
    return watch.kinds()


@hookimpl
def mypages_api(api):
    trail.add_operations(api)
