from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config
from sqlalchemy import bindparam, delete, select

from mypages.toolkit import PreparedRead, Refusal, clock, read_all

from mypages_rates import formatting
from mypages_rates.alerts import KINDS, latest_two, side
from mypages_rates.chart import line_chart
from mypages_rates.config import rates_config, sources
from mypages_rates.fetch import MODULE_KEY, next_run, queue_fetches
from mypages_rates.models import Alert, CompanyKey, Follow, Notice, Series, SourceState
from mypages_rates.reading import (CURRENCIES, DEFAULT_RANGE, RANGES, VIA, cross_rate,
                                   followed_on_page, followed_rows, history, range_start,
                                   remembered, shown, start_of, with_changes)
from mypages_rates.store import ensure_series
from mypages_rates.translations import _, ngettext

MAX_ALERTS = 20
PAGE = dict(route_name="rates", module=MODULE_KEY, permission="company.view",
            renderer="mypages_rates:templates/rates.jinja2")


def _followed(request):
    return with_changes(lambda: request.dbsession,
                        shown(request, followed_on_page(request, request.company.id)))


#: the person's alerts and their latest notices in the company, as rows of their columns
ALERTS = PreparedRead(select(*Alert.__table__.columns)
                      .where(Alert.company_id == bindparam("company_id"),
                             Alert.user_id == bindparam("user_id")).order_by(Alert.id))
NOTICES = PreparedRead(select(*Notice.__table__.columns)
                       .where(Notice.company_id == bindparam("company_id"),
                              Notice.user_id == bindparam("user_id"))
                       .order_by(Notice.created_at.desc(), Notice.id.desc()).limit(10))


def _range(request) -> str:
    value = request.GET.get("range", DEFAULT_RANGE)
    return value if value in RANGES else DEFAULT_RANGE


def _chosen(request, followed):
    wanted = request.GET.get("series", "")
    for item in followed:
        if str(item.id) == wanted:
            return item
    return followed[0] if followed else None


def rates_page(request, errors=()):
    followed = _followed(request)
    chosen = _chosen(request, followed)
    range_name = _range(request)
    chart, count = None, 0
    if chosen is not None:
        chart, count = remembered(chosen.row.stamp, ("chart", chosen.id, range_name,
                                                     request.locale_name),
                                  lambda: _chart(request, chosen, range_name))
    cross = None if errors else _cross(request, range_name)
    whose = {"company_id": request.company.id, "user_id": request.user.id}
    alerts = read_all(request, ALERTS, whose)
    notices = read_all(request, NOTICES, whose)
    by_id = {item.id: item for item in followed}
    # formatted once per language until the series is stored again
    rows = {item.id: remembered(item.row.stamp, ("row", item.id, request.locale_name),
                                lambda item=item: formatting.row(request, item))
            for item in followed}
    return {"followed": followed, "chosen": chosen, "range_name": range_name,
            "ranges": list(RANGES), "chart": chart, "count": count,
            "cross": cross, "currencies": CURRENCIES, "alerts": alerts, "notices": notices,
            "by_id": by_id, "rows": rows, "kinds": KINDS, "errors": list(errors), "fmt": formatting,
            "closed": [item for item in followed if item.row.closed]}


def _chart(request, chosen, range_name):
    """The chart of the chosen series over the range, and how many values it draws."""
    points = history(request.dbsession, chosen.id, start_of(chosen, range_name))
    return line_chart(points, label=request.translate(chosen.title),
                      format_value=formatting.value_formatter(request, chosen.row),
                      format_day=formatting.day_formatter(request, range_name),
                      decimals=min(chosen.precision, 2)), len(points)


def _cross(request, range_name):
    base, quote = request.GET.get("base", ""), request.GET.get("quote", "")
    via = request.GET.get("via", "SEK")
    if not base or not quote:
        return None
    if base not in CURRENCIES or quote not in CURRENCIES or via not in VIA or base == quote:
        raise Refusal(_("Choose two different currencies for the cross rate."))
    rows = cross_rate(request.dbsession, via, base, quote)
    start = rows[-1][0] - dt.timedelta(days=RANGES[range_name]) if rows else None
    rows = [row for row in rows if start is None or row[0] >= start]
    label = request.translate(_("${base}/${quote}, computed through ${via}",
                                mapping={"base": base, "quote": quote, "via": via}))
    chart = line_chart(rows, label=label,
                       format_value=formatting.plain_formatter(request, 4),
                       format_day=formatting.day_formatter(request, range_name), decimals=2) if rows else None
    return {"base": base, "quote": quote, "via": via, "rows": rows, "label": label,
            "chart": chart, "latest": rows[-1] if rows else None}


@view_config(request_method="GET", refusal_page=rates_page, **PAGE)
def rates(request):
    return rates_page(request)


# -- CSV and JSON ---------------------------------------------------------------------------

def _series_of_company(request) -> Series:
    series_id = int(request.matchdict["series_id"])
    row = request.dbsession.scalar(
        select(Series).join(Follow, Follow.series_id == Series.id)
        .where(Follow.company_id == request.company.id, Series.id == series_id))
    if row is None:
        raise HTTPNotFound()
    return row


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@view_config(route_name="rates_csv", module=MODULE_KEY, permission="company.view",
             request_method="GET")
def rates_csv(request):
    row = _series_of_company(request)
    range_name = _range(request)
    points = history(request.dbsession, row.id, range_start(request.dbsession, [row.id], range_name))
    [item] = shown(request, [row])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(request.translate(_("Date"))),
                     csv_cell(request.translate(item.title)),
                     csv_cell(request.translate(_("Source")))])
    source = request.translate(item.source_title)
    quantum = Decimal(1).scaleb(-row.precision)
    for day, value in points:
        # numbers as numbers (a leading minus is a negative rate, not a formula)
        writer.writerow([day.isoformat(), format(value.quantize(quantum), "f"), csv_cell(source)])
    response = Response(out.getvalue().encode("utf-8-sig"), content_type="text/csv",
                        charset="utf-8")
    response.content_disposition = (f'attachment; filename="{row.source}-{row.code}-'
                                    f'{range_name}.csv"')
    return response


@view_config(route_name="rates_json", module=MODULE_KEY, permission="company.view",
             request_method="GET", renderer="json")
def rates_json(request):
    row = _series_of_company(request)
    points = history(request.dbsession, row.id,
                     range_start(request.dbsession, [row.id], _range(request)))
    quantum = Decimal(1).scaleb(-row.precision)
    return {"source": row.source, "series": row.code, "kind": row.kind, "closed": row.closed,
            "precision": row.precision, "base": row.base, "quote": row.quote,
            "observations": [{"date": day.isoformat(), "value": format(value.quantize(quantum), "f")}
                             for day, value in points]}


# -- alerts ---------------------------------------------------------------------------------

ALERT_FORM = dict(route_name="rates_alerts", module=MODULE_KEY, permission="company.view",
                  renderer="mypages_rates:templates/rates.jinja2", refusal_page=rates_page)


def _back(request):
    return HTTPSeeOther(request.route_url("rates", company_id=request.company.id,
                                          _anchor="alerts"))


@view_config(form_action="add_alert", **ALERT_FORM)
def add_alert(request):
    followed = {str(row.id): row for row in followed_rows(request.dbsession, request.company.id)}
    series = followed.get(request.POST.get("series_id", ""))
    kind = request.POST.get("kind", "")
    problems = []
    if series is None:
        problems.append(_("Choose one of the series your company follows."))
    if kind not in KINDS:
        problems.append(_("Choose what the alert is about."))
    threshold = points = None
    if kind in ("above", "below"):
        try:
            threshold = Decimal(request.POST.get("threshold", "").strip().replace(",", ".")
                                .replace("\u2212", "-"))
            if not threshold.is_finite() or abs(threshold) >= 10 ** 9:
                raise InvalidOperation
        except InvalidOperation:
            problems.append(_("Write the threshold as a number, for example 2.25."))
    elif kind == "move":
        text = request.POST.get("basis_points", "").strip()
        if not text.isdigit() or not 1 <= int(text) <= 10000:
            problems.append(_("Write the move as a whole number of basis points from 1 to 10000."))
        else:
            points = int(text)
    count = len(request.dbsession.scalars(select(Alert.id).where(
        Alert.company_id == request.company.id, Alert.user_id == request.user.id)).all())
    if count >= MAX_ALERTS:
        problems.append(ngettext("You can have at most ${num} alert.",
                                 "You can have at most ${num} alerts.", MAX_ALERTS))
    if problems:
        raise Refusal(problems)
    latest = latest_two(request.dbsession, series.id)
    alert = Alert(company_id=request.company.id, user_id=request.user.id, series_id=series.id,
                  kind=kind, threshold=threshold, basis_points=points,
                  # where it stands now: only a later crossing fires
                  side=side(latest[0][1], threshold) if latest and threshold is not None else None,
                  checked_day=latest[0][0] if latest else None, created_at=clock(request).now())
    request.dbsession.add(alert)
    request.audit("rates.alert_added", target=f"series:{series.id}", kind=kind)
    return _back(request)


@view_config(form_action="delete_alert", **ALERT_FORM)
def delete_alert(request):
    deleted = request.dbsession.execute(delete(Alert).where(
        Alert.id == _int(request.POST.get("delete_alert")),
        Alert.company_id == request.company.id, Alert.user_id == request.user.id)).rowcount
    if not deleted:
        raise Refusal(_("That alert is no longer there."))
    request.audit("rates.alert_deleted", target="alert")
    return _back(request)


@view_config(form_action="read_notices", **ALERT_FORM)
def read_notices(request):
    for notice in request.dbsession.scalars(select(Notice).where(
            Notice.company_id == request.company.id, Notice.user_id == request.user.id,
            Notice.read_at.is_(None))):
        notice.read_at = clock(request).now()
    return _back(request)


@view_config(route_name="rates_alerts", module=MODULE_KEY, permission="company.view",
             request_method="GET")
def alerts_page(request):
    return _back(request)


@view_config(**ALERT_FORM)
def unknown_action(request):
    raise Refusal(_("Unknown action."))


def _int(text) -> int:
    return int(text) if str(text or "").isdigit() and len(str(text)) < 10 else 0


# -- settings: what the company follows, its Fixer key, the sources' health ------------------

SETTINGS = dict(route_name="rates_settings", module=MODULE_KEY, permission="company.admin",
                renderer="mypages_rates:templates/settings.jinja2")


def settings_page(request, errors=()):
    catalogue = []
    states = {row.source: row for row in request.dbsession.scalars(select(SourceState))}
    config = rates_config(request)
    followed = {row.id for row in followed_rows(request.dbsession, request.company.id)}
    has_key = set(request.dbsession.scalars(select(CompanyKey.source).where(
        CompanyKey.company_id == request.company.id)))
    for source in sources(request).values():
        rows = ensure_series(request.dbsession, source.key, source.series())
        groups: dict = {}
        for spec in source.series():
            groups.setdefault(spec.group, []).append((spec, rows[spec.code]))
        catalogue.append({
            "source": source, "groups": groups, "state": states.get(source.key),
            "next_run": next_run(request, source),
            "platform_key": config.platform_key(source.key) is not None,
            "company_key": source.key in has_key})
    return {"catalogue": catalogue, "followed": followed, "errors": list(errors),
            "fmt": formatting}


@view_config(request_method="GET", **SETTINGS)
def settings(request):
    return settings_page(request)


@view_config(form_action="follow", refusal_page=settings_page, **SETTINGS)
def save_follows(request):
    wanted = {_int(value) for value in request.POST.getall("series")}
    known = {row.id: row for row in request.dbsession.scalars(select(Series))}
    if not wanted <= set(known):
        raise Refusal(_("Choose among the series listed."))
    current = {row.series_id: row for row in request.dbsession.scalars(
        select(Follow).where(Follow.company_id == request.company.id))}
    for series_id in wanted - set(current):
        request.dbsession.add(Follow(company_id=request.company.id, series_id=series_id))
    for series_id in set(current) - wanted:
        request.dbsession.delete(current[series_id])
    request.dbsession.flush()
    added = wanted - set(current)
    for key in {known[i].source for i in added}:
        if key in sources(request):
            _queue_now(request, key)
    request.audit("rates.follows_changed", target=MODULE_KEY,
                  added=sorted(added), removed=sorted(set(current) - wanted))
    return HTTPSeeOther(request.route_url("rates_settings", company_id=request.company.id))


def _queue_now(request, source_key):
    """Fetch the history of newly followed series without waiting for the daily run."""
    queue_fetches(request, request.dbsession, request.enqueue, sources(request)[source_key],
                  [request.company.id])


@view_config(form_action="save_key", refusal_page=settings_page, require_reauth="rates_settings",
             **SETTINGS)
def save_key(request):
    source_key = request.POST.get("source", "")
    source = sources(request).get(source_key)
    value = request.POST.get("key", "").strip()
    if source is None or not source.needs_key:
        raise Refusal(_("That source takes no key."))
    if not 8 <= len(value) <= 200 or not value.isascii() or any(c.isspace() for c in value):
        raise Refusal(_("Paste the access key as the provider shows it: 8 to 200 letters and "
                        "digits."))
    row = request.dbsession.scalar(select(CompanyKey).where(
        CompanyKey.company_id == request.company.id, CompanyKey.source == source_key))
    if row is None:
        row = CompanyKey(company_id=request.company.id, source=source_key, key=value)
        request.dbsession.add(row)
    row.key, row.updated_at = value, clock(request).now()
    request.audit("rates.key_saved", target=source_key)  # never the key itself
    return HTTPSeeOther(request.route_url("rates_settings", company_id=request.company.id))


@view_config(form_action="remove_key", refusal_page=settings_page, **SETTINGS)
def remove_key(request):
    request.dbsession.execute(delete(CompanyKey).where(
        CompanyKey.company_id == request.company.id,
        CompanyKey.source == request.POST.get("remove_key", "")))
    request.audit("rates.key_removed", target=request.POST.get("remove_key", "")[:40])
    return HTTPSeeOther(request.route_url("rates_settings", company_id=request.company.id))


@view_config(refusal_page=settings_page, request_method="POST", **SETTINGS)
def unknown_settings_action(request):
    raise Refusal(_("Unknown action."))
