"""Rates: interest and exchange rates from the Riksbank (SWEA, SWESTR), the ECB and Fixer.

A company follows the series its admins choose; its people see their latest values and
changes, charts over a range, cross rates, CSV downloads and alerts. Observations are stored
once for everyone, exactly, with their history of republications, by one job per source
after it publishes, paced to the providers' limits across every worker. More sources come
from other plugins through the ``rates_sources`` hook (:mod:`mypages_rates.hookspecs`).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, func, select

from mypages.toolkit import (DashboardCard, DevApp, HealthCheck, MigrationSource, Module,
                             NavigationItem, Price, SettingsTab, dev_app_url, hookimpl,
                             PreparedRead, portal_timezone, read_first)

from mypages_rates.alerts import KIND as ALERT_KIND
from mypages_rates.alerts import check_alerts
from mypages_rates.api import add_operations
from mypages_rates.config import (CONFIG, RatesConfig, check_production, collect_sources,
                                  sources)
from mypages_rates.fakes import FakeFeeds
from mypages_rates import formatting
from mypages_rates.data import (mypages_company_erase, mypages_company_export,  # noqa: F401
                                mypages_user_export)
from mypages_rates.fetch import MODULE_KEY, jobs, next_run, queue_fetches
from mypages_rates.models import Follow, Notice, SourceState
from mypages_rates.reading import followed_on_page, shown, with_changes
from mypages_rates.sources.builtin import built_in
from mypages_rates.store import ensure_series
from mypages_rates.translations import _

#: the hookspec version this plugin was written for (2.4: health checks read the database,
#: its part of a company's data export and erasure)
mypages_hookspec = "2.4"

#: a source not heard from successfully for this long is shown to operators as a warning
STALE = dt.timedelta(days=4)


@hookimpl
def mypages_modules():
    return [Module(
        key=MODULE_KEY,
        title=_("Rates"),
        description=_("Interest and exchange rates from the Riksbank, the ECB and Fixer: "
                      "history, charts, alerts and CSV export."),
        trial_days=10,
        price=Price(Decimal("149"), "SEK", per=_("per month")),
    )]


@hookimpl
def mypages_notification_kinds():
    return [ALERT_KIND]


@hookimpl
def mypages_api(api):
    add_operations(api)


@hookimpl
def mypages_migrations():
    return MigrationSource("mypages-rates", "mypages_rates:migrations")


@hookimpl
def mypages_jobs():
    return jobs(built_in(), check_alerts)


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("rates", _("Rates"), "rates_settings")]


@hookimpl
def mypages_navigation(request, company):
    return [NavigationItem(_("Rates"), "rates")]


#: how many of the person's notices in the company are unread
UNREAD = PreparedRead(select(func.count().label("unread")).select_from(Notice).where(
    Notice.company_id == bindparam("company_id"), Notice.user_id == bindparam("user_id"),
    Notice.read_at.is_(None)))


@hookimpl
def mypages_dashboard_cards(request, company):
    items = with_changes(lambda: request.dbsession,
                         shown(request, followed_on_page(request, company.id)))
    unread = read_first(request, UNREAD, {"company_id": company.id,
                                          "user_id": request.user.id})[0] if request.user else 0
    return [DashboardCard(_("Rates"), template="mypages_rates:templates/card.jinja2",
                          values={"items": items[:8], "unread": unread, "fmt": formatting}, route_name="rates")]


@hookimpl
def mypages_health_checks(registry, now, dbsession):
    """Each source's last success, last error and next run, as its jobs recorded them in
    the sources' states (one query of a row per source; no call to anyone)."""
    states = {row.source: row for row in dbsession.scalars(select(SourceState))}
    checks = []
    for key, source in sources(registry).items():
        state = states.get(key)
        if state is None:
            continue  # never fetched: nobody follows it
        success, error = state.last_success_at, state.last_error_at
        data = {"last_success_at": success and success.isoformat(),
                "last_error_at": error and error.isoformat(),
                "last_error": state.last_error,
                "next_run_at": next_run(registry, source, now).isoformat(),
                "failures": state.failures, "republications": state.republications}
        if error and (not success or error > success):
            checks.append(HealthCheck(f"rates-{key}", HealthCheck.WARN, _(
                "The last fetch from ${source} failed (${kind}).",
                mapping={"source": source.title, "kind": state.last_error or "?"}), data))
        elif success and now - success > STALE:
            checks.append(HealthCheck(f"rates-{key}", HealthCheck.WARN, _(
                "Nothing has been fetched from ${source} since ${day}.",
                mapping={"source": source.title, "day": success.astimezone(
                    portal_timezone(registry)).date().isoformat()}), data))
        else:
            checks.append(HealthCheck(f"rates-{key}", HealthCheck.OK, _(
                "${source} was fetched as planned.", mapping={"source": source.title}), data))
    return checks


#: what the demo company follows (``mypages demo``): its history comes from /_dev/rates/
DEMO_COMPANY = "Demo AB"
DEMO_SERIES = {"riksbank_swea": ("SECBREPOEFF", "SEDP3MSTIBORDELAYC", "SEKEURPMI", "SEKUSDPMI"),
               "riksbank_swestr": ("SWESTR",)}


@hookimpl(trylast=True)  # after the demo company is made
def mypages_demo(context):
    """The demo company follows a few series, and their history is queued for the job
    worker (from the stand-ins under /_dev/rates/ while ``make run`` serves them), once."""
    company = context.company(DEMO_COMPANY)
    followed = set(context.dbsession.scalars(select(Follow.series_id)
                                             .where(Follow.company_id == company.id)))
    count = 0
    for key, codes in DEMO_SERIES.items():
        source = sources(context.registry)[key]
        rows = ensure_series(context.dbsession, key, source.series())
        added = [rows[code].id for code in codes if rows[code].id not in followed]
        context.dbsession.add_all(Follow(company_id=company.id, series_id=series_id)
                                  for series_id in added)
        context.dbsession.flush()
        if added:
            queue_fetches(context.work, context.dbsession, context.work.enqueue, source,
                          [company.id])
        count += len(codes)
    return [f"{company.name} follows {count} rate series, their history fetched by the job "
            "worker (activate the Rates trial to see them)"]


@hookimpl
def mypages_dev_apps():
    return [DevApp(
        "rates", _("Rate feeds, offline"),
        _("Answers like the Riksbank's SWEA and SWESTR, the ECB and Fixer, with generated "
          "history since 2010 up to today."),
        app=lambda url: FakeFeeds(),
        details=lambda request: [
            (_("Riksbank SWEA"), dev_app_url(request, "rates") + "/swea/v1"),
            (_("Riksbank SWESTR"), dev_app_url(request, "rates") + "/swestr/v1"),
            (_("ECB"), dev_app_url(request, "rates") + "/ecb/service"),
            (_("Fixer"), dev_app_url(request, "rates") + "/fixer/api"),
            (_("Fixer access key"), "fixer-demo-key"),
        ],
    )]


def includeme(config):
    settings = config.registry.settings
    check_production(settings)
    config.add_hookspecs("mypages_rates.hookspecs")
    config.registry[CONFIG] = RatesConfig(
        dict(settings), backfill_years=int(settings.get("mypages_rates.backfill_years", 10)))
    config.on_plugins_ready(collect_sources)
    config.add_translation_dirs("mypages_rates:locale/")
    config.add_company_route("rates", "/rates")
    config.add_company_route("rates_csv", "/rates/series/{series_id}/csv")
    config.add_company_route("rates_json", "/rates/series/{series_id}/json")
    config.add_company_route("rates_alerts", "/rates/alerts")
    config.add_company_route("rates_settings", "/settings/rates")
    config.scan(".views")
