"""The core's own hook implementations for data export and erasure: the Data tab, the
export's jobs and notifications, and the core's part of every export."""
from __future__ import annotations

from mypages.contract import NotificationKind, SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.privacy import export
from mypages.privacy.core_data import core_kinds


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("data", _("Data"), "company_data", order=95)]


@hookimpl
def mypages_jobs():
    return export.jobs()


@hookimpl
def mypages_notification_kinds():
    return [NotificationKind(export.READY_KIND, _("Your data export is ready")),
            NotificationKind("privacy.account_deleted", _("A member deleted their account"))]


@hookimpl
def mypages_company_export(context, company, archive):
    for kind, rows in core_kinds(context.dbsession, company.id).items():
        archive.add_rows(kind, rows)
