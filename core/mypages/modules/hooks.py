"""The core's own hook implementations for modules: default billing and trial expiry."""
from __future__ import annotations

import datetime as dt

from mypages.contract import PeriodicJob, SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.db import utcnow
from mypages.modules.expiry import expire_trials
from mypages.modules.lifecycle import activations
from mypages.modules.terms import record_order


@hookimpl(trylast=True)
def mypages_purchase(request, company, module, user):
    """Default billing: record an order on the platform's terms (:mod:`mypages.modules.terms`)
    for the operators to invoice, billed from the activation's ``billing_starts_at``."""
    row = activations(request.dbsession, company.id).get(module.key)
    starts = row.billing_starts_at if row is not None and row.billing_starts_at else utcnow()
    return record_order(request.dbsession, company, module, user, starts)


@hookimpl
def mypages_jobs():
    return [PeriodicJob("modules.expire_trials", expire_trials, every=dt.timedelta(minutes=1))]


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("modules", _("Modules"), "company_modules", order=10)]
