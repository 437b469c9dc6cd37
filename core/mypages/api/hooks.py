"""The core's own hook implementations for the API: its operations, the upkeep of the rate
limits' counters, and the API tab of company settings."""
from __future__ import annotations

import datetime as dt

from mypages.api.endpoints import add_core_operations
from mypages.api.ratelimit import DatabaseStorage
from mypages.contract import PeriodicJob, SettingsTab
from mypages.hookspecs import hookimpl
from mypages.i18n import _


@hookimpl
def mypages_api(api):
    add_core_operations(api)


def prune_rate_limits(job) -> None:
    storage = job.registry["api.published"].rate_limits.storage
    if isinstance(storage, DatabaseStorage):
        storage.prune()


@hookimpl
def mypages_jobs():
    return [PeriodicJob("api.prune_rate_limits", prune_rate_limits,
                        every=dt.timedelta(minutes=10))]


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("api", _("API"), "company_api_tokens", order=40)]
