"""What a rate source is: the interface every source implements, built in or a third party's.

A source is published to the plugin through the ``rates_sources`` hook (see
:mod:`mypages_rates.hookspecs`). It names its series, fetches observations over
HTTP through the application's outbound client, and says when it publishes. It
never touches the database: storing, pacing, retrying and reporting are the
plugin's, the same for every source.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime

from mypages.toolkit import OutboundError, TranslationString

#: the kinds of failure a source reports; each is recorded, shown to operators and admins,
#: and retried; none is ever stored as data
FAILURES = ("rate-limited", "malformed", "timeout", "outage", "refused", "unreachable")


@dataclass(frozen=True)
class SeriesSpec:
    """One series a source offers. ``kind`` is ``"rate"`` (a percentage) or ``"fx"`` (units
    of ``quote`` for one ``base``: SEK per EUR is ``base="EUR", quote="SEK"``).
    ``precision`` is the number of decimals the source publishes."""

    code: str
    title: TranslationString | str
    kind: str = "rate"
    precision: int = 2
    base: str | None = None
    quote: str | None = None
    group: TranslationString | str = ""


@dataclass(frozen=True)
class Observation:
    """A value of a series on a day, exact, as published; ``published_at`` when the source
    says (aware), and ``republished`` when it says this value replaces an earlier one."""

    day: dt.date
    value: Decimal
    published_at: dt.datetime | None = None
    republished: bool = False


@dataclass(frozen=True)
class SeriesStatus:
    """What a source's metadata says of a series: closed or not, and its last day."""

    code: str
    closed: bool
    last_day: dt.date | None = None


class FeedError(Exception):
    """A fetch that gave no usable data. ``kind`` is one of :data:`FAILURES`; ``detail`` is
    safe to show and log (never a key, never the body of the answer); ``retry_after`` the
    seconds a provider asked to wait (429)."""

    def __init__(self, kind: str, detail: str = "", *, retry_after: float | None = None,
                 code: str | None = None):
        assert kind in FAILURES, kind
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.code = code


@dataclass
class FetchContext:
    """What a source is given to fetch with: the outbound client, the base address of its
    service, and its credentials (``None`` when there are none)."""

    outbound: object
    base_url: str
    key: str | None = None
    extra: dict = field(default_factory=dict)


class Source:
    """Subclass it to add a source. Give ``key`` (unique, lower case), ``title``,
    ``fetch_at`` (a time of day in the portal's time zone after the source publishes),
    ``calls_per_minute`` (what the provider allows every worker together) and
    ``max_days_per_call``; implement :meth:`series` and :meth:`fetch`, and
    :meth:`statuses` where the provider's metadata tells closed series."""

    key: str = ""
    title: TranslationString | str = ""
    fetch_at: dt.time = dt.time(18, 0)
    calls_per_minute: float = 10.0
    max_days_per_call: int = 366 * 20
    #: the setting (``mypages_rates.<name>``) holding its base address, and the default
    url_setting: str = ""
    default_url: str = ""
    #: whether it needs a key (:meth:`key_for` finds it) before it can fetch at all
    needs_key: bool = False

    def series(self) -> list[SeriesSpec]:
        raise NotImplementedError

    def fetch(self, context: FetchContext, code: str, start: dt.date,
              end: dt.date) -> list[Observation]:
        """Observations of ``code`` from ``start`` to ``end`` (both included). Days with
        nothing published (weekends, holidays) are simply absent. Raise :class:`FeedError`
        for anything but a well-formed answer."""
        raise NotImplementedError

    def statuses(self, context: FetchContext) -> list[SeriesStatus]:
        """What the provider's metadata says about closed series; none by default."""
        return []

    def calls_per_minute_with(self, key: str | None) -> float:
        return self.calls_per_minute


# -- helpers for the clients ----------------------------------------------------------

def get(context: FetchContext, path: str, params: dict | None = None, headers: dict | None = None,
        max_bytes: int = 20_000_000):
    """GET ``base_url + path``; an answer that is not 200 or 404 raises :class:`FeedError`."""
    try:
        answer = context.outbound.get(context.base_url.rstrip("/") + path, params=params,
                                      headers=headers, max_bytes=max_bytes)
    except OutboundError as error:
        kind = "timeout" if error.reason == "timeout" else (
            "refused" if error.reason in ("address", "scheme") else "unreachable")
        raise FeedError(kind, error.reason) from None
    if answer.status_code == 429:
        raise FeedError("rate-limited", "HTTP 429", retry_after=retry_after(answer))
    if answer.status_code >= 500:
        raise FeedError("outage", f"HTTP {answer.status_code}")
    if answer.status_code not in (200, 404):
        raise FeedError("refused", f"HTTP {answer.status_code}")
    return answer


def retry_after(answer) -> float | None:
    """Seconds from ``Retry-After`` (seconds or an HTTP date), else from an Azure API
    Management body ("Try again in N seconds.")."""
    value = answer.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = parsedate_to_datetime(value)
            return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            pass
    try:
        message = json.loads(answer.content).get("message", "")
    except (ValueError, AttributeError):
        return None
    words = str(message).split()
    for before, word in zip(words, words[1:]):
        if before == "in" and word.isdigit():
            return float(word)
    return None


def parse_json(answer):
    """The body as JSON with numbers as exact decimals; malformed raises :class:`FeedError`."""
    try:
        return json.loads(answer.content, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise FeedError("malformed", "not JSON") from None


def parse_day(value) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise FeedError("malformed", "a date that is not a date") from None


def parse_value(value) -> Decimal | None:
    """A published value as an exact decimal; ``None`` for a published null."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FeedError("malformed", "a value that is not a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise FeedError("malformed", "a value that is not a number") from None
    if not number.is_finite():
        raise FeedError("malformed", "a value that is not a number")
    return number


def parse_time(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FeedError("malformed", "a time that is not a time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
