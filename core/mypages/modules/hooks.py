"""The core's own hook implementations for modules: default billing and trial expiry."""
from __future__ import annotations

import datetime as dt

from mypages.contract import PeriodicJob, SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.modules.expiry import expire_trials
from mypages.modules.models import Order


@hookimpl(trylast=True)
def mypages_purchase(request, company, module, user):
    """Default billing: record an order for the operators to invoice."""
    price = ""
    if module.price is not None:
        price = f"{module.price.amount} {module.price.currency}"
    order = Order(company_id=company.id, module_key=module.key,
                  ordered_by_id=user.id if user else None, price=price)
    request.dbsession.add(order)
    return order


@hookimpl
def mypages_jobs():
    return [PeriodicJob("modules.expire_trials", expire_trials, every=dt.timedelta(minutes=1))]


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("modules", _("Modules"), "company_modules", order=10)]
