"""The core's own hook implementations for billing: the Billing tab and the receipt's job."""
from mypages.billing.receipts import JOBS
from mypages.contract import SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_jobs():
    return JOBS


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("billing", _("Billing"), "company_billing", order=15)]
