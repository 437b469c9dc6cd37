"""Members' alerts: a series crossing a threshold, or moving more than N basis points from one
observation to the next. Each fires once per crossing (or per move): the alert remembers the
side the last value stood on and the last day it looked at, so a rerun never fires twice."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from mypages.toolkit import NotificationKind, clock, is_entitled, notify

from mypages_rates.config import sources
from mypages_rates.fetch import MODULE_KEY
from mypages_rates.models import Alert, Notice, Observation, Series
from mypages_rates.translations import _

KINDS = ("above", "below", "move")
NOTIFICATION = "rates.alert"
KIND = NotificationKind(NOTIFICATION, _("Rate alerts"), email=True)
TITLE = _("Rate alert: ${series}")
BODIES = {
    "above": _("${series} rose to ${value} on ${day}, at or above your threshold of "
               "${threshold}."),
    "below": _("${series} fell to ${value} on ${day}, below your threshold of ${threshold}."),
    # stored for readers of any language, so the count stands apart from its noun
    "move": _("${series} moved from ${previous} to ${value} on ${day}, by more than the basis "
              "points your alert allows (${points})."),
}


def basis_points(series: Series, previous: Decimal, value: Decimal) -> Decimal:
    """A move in basis points: of percentage points for a rate, relative for a price."""
    if series.kind == "rate":
        return (value - previous) * 100
    return (value - previous) / previous * 10000 if previous else Decimal(0)


def published(series: Series, value: Decimal | None) -> Decimal | None:
    """``value`` with the decimals its source publishes (2.5 of a rate published to two
    decimals is 2.50), or more if it has more (a threshold of 2.125)."""
    if value is None:
        return None
    exponent = value.as_tuple().exponent
    decimals = max(series.precision, -exponent if isinstance(exponent, int) else 0)
    return value.quantize(Decimal(1).scaleb(-decimals))


def side(value: Decimal, threshold: Decimal) -> str:
    return "above" if value >= threshold else "below"


def latest_two(dbsession, series_id: int) -> list[tuple]:
    return list(dbsession.execute(
        select(Observation.day, Observation.value).where(Observation.series_id == series_id)
        .order_by(Observation.day.desc()).limit(2)))


def check_alerts(job) -> None:
    series_id = job.payload["series_id"]
    now = clock(job).now()
    with job.chunk() as chunk:
        series = chunk.dbsession.get(Series, series_id)
        recent = latest_two(chunk.dbsession, series_id)
        if series is None or not recent:
            return
        (day, value), previous = recent[0], (recent[1][1] if len(recent) > 1 else None)
        title = title_of(job, series.source, series.code)
        for alert in chunk.dbsession.scalars(select(Alert).where(Alert.series_id == series_id)
                                             .order_by(Alert.id)):
            if alert.checked_day is not None and alert.checked_day >= day:
                continue
            if not is_entitled(chunk.dbsession, alert.company_id, MODULE_KEY, now):
                continue
            alert.checked_day = day
            if alert.kind == "move":
                fires = (previous is not None and abs(basis_points(series, previous, value))
                         > alert.basis_points)
            else:
                now_side = side(value, alert.threshold)
                fires = alert.side is not None and now_side != alert.side and now_side == (
                    "above" if alert.kind == "above" else "below")
                alert.side = now_side
            if fires:
                chunk.dbsession.add(Notice(
                    company_id=alert.company_id, user_id=alert.user_id, series_id=series_id,
                    alert_kind=alert.kind, day=day, value=value, previous=previous,
                    threshold=alert.threshold, created_at=now))
                # in the app, and by e-mail to those who want it, in each reader's language;
                # the key makes a rerun of this job post it once
                notify(chunk, [alert.user_id], NOTIFICATION, TITLE, BODIES[alert.kind],
                       values={"series": title, "value": published(series, value), "day": day,
                               "previous": published(series, previous),
                               "threshold": published(series, alert.threshold),
                               "points": alert.basis_points},
                       link=f"/c/{alert.company_id}/rates", company_id=alert.company_id,
                       dedupe_key=f"rates-alert-{alert.id}-{day.isoformat()}")


def title_of(where, source_key: str, code: str):
    """The series' title from its source (a translation string), or its code."""
    source = sources(where).get(source_key)
    for spec in (source.series() if source else []):
        if spec.code == code:
            return spec.title
    return code
