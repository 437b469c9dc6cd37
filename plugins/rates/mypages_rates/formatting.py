"""Numbers and days as each language writes them (Babel, through the core): a rate with the
decimals its source publishes, a change with its sign, a percentage."""
from __future__ import annotations

from decimal import Decimal

from babel.dates import format_skeleton

from mypages_rates.translations import _


def number(request, value: Decimal | None, precision: int) -> str:
    if value is None:
        return "–"
    return request.format_number(value, precision=precision)


def value(request, series, amount: Decimal | None) -> str:
    """A value of ``series``: a rate as a percentage, a price as a number."""
    if amount is None:
        return "–"
    text = number(request, amount, series.precision)
    if series.kind == "rate":
        return request.translate(_("${value} %", mapping={"value": text}))
    return text


def change(request, series, amount: Decimal | None) -> str:
    """A change with its sign: in percentage points for a rate."""
    if amount is None:
        return "–"
    text = number(request, abs(amount), series.precision)
    sign = "+" if amount > 0 else ("−" if amount < 0 else "±")
    if series.kind == "rate":
        return request.translate(_("${sign}${value} pp", mapping={"sign": sign, "value": text}))
    return sign + text


def relative(request, latest: Decimal | None, earlier: Decimal | None) -> str:
    if latest is None or not earlier:
        return ""
    percent = (latest - earlier) / earlier * 100
    sign = "+" if percent > 0 else ("−" if percent < 0 else "±")
    return request.translate(_("${sign}${value} %", mapping={
        "sign": sign, "value": request.format_number(abs(percent), precision=2)}))


def row(request, item) -> dict[str, str]:
    """What the table of latest values shows of a series (``item``, a
    :class:`mypages_rates.reading.Shown` with its changes), in the request's language."""
    series, latest = item.row, item.latest
    if latest is None:
        return {}
    found = {"latest": value(request, series, latest[1]),
             "day": request.format_date(latest[0]),
             "previous": change(request, series, item.change(item.previous)),
             "month": change(request, series, item.change(item.month_ago)),
             "year": change(request, series, item.change(item.year_ago)),
             "month_relative": "", "year_relative": ""}
    if series.kind != "rate":
        found["month_relative"] = relative(request, latest[1], item.month_ago)
        found["year_relative"] = relative(request, latest[1], item.year_ago)
    return found


def value_formatter(request, series):
    def format_value(amount, decimals=None):
        if decimals is not None:
            return request.format_number(amount, precision=decimals)
        return value(request, series, amount)
    return format_value


def plain_formatter(request, precision):
    def format_value(amount, decimals=None):
        return request.format_number(amount, precision=precision if decimals is None else decimals)
    return format_value


def day_formatter(request, range_name: str = "1y"):
    """Days in full, or on the chart's axis as short as the range allows."""
    skeleton = "MMMd" if range_name in ("1m", "3m") else "yMMM"

    def format_day(day, short=False):
        if short:
            return format_skeleton(skeleton, day, locale=request.locale_name)
        return request.format_date(day)
    return format_day


ERRORS = {
    "rate-limited": _("the provider asked us to wait (too many requests)"),
    "malformed": _("the answer could not be read"),
    "timeout": _("the provider did not answer in time"),
    "outage": _("the provider's service was down"),
    "refused": _("the provider refused the request (check the key)"),
    "unreachable": _("the provider could not be reached"),
}


def error_text(kind: str | None):
    return ERRORS.get(kind or "", kind or "")
