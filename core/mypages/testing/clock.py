"""The wall clock under the test's control: the ``clock`` fixture.

time-machine moves the process's wall clock (``time.time``, ``datetime.now``...), so
everything that asks what time it is moves together: the test, ``utcnow``, the
application's :class:`~mypages.services.Clock` service, the jobs' schedule, and "today"
in the portal's time zone (``mypages.time_zone``). ``time.monotonic`` is left alone, so
timeouts still measure real time.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from mypages.services import settings_of
from mypages.settings import Settings


class TestClock:
    """The clock of a test: ticking as usual until the test moves or freezes it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, traveller, time_zone=None):
        self._traveller = traveller
        self._time_zone = time_zone

    def shift(self, seconds: float | dt.timedelta = 0, **delta) -> dt.datetime:
        """Move the clock forward (or back, negative) by ``seconds`` (or a timedelta) plus
        ``days=``, ``hours=``, ``minutes=``...; returns the new time."""
        if not isinstance(seconds, dt.timedelta):
            seconds = dt.timedelta(seconds=seconds)
        self._traveller.shift(seconds + dt.timedelta(**delta))
        return self.now()

    def move_to(self, when: dt.datetime, tick: bool | None = None) -> dt.datetime:
        """Move the clock to ``when`` (aware; a naive one is taken as UTC); it keeps ticking,
        or stands still, as before (``tick`` changes that)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        self._traveller.move_to(when, tick=tick)
        return self.now()

    def freeze(self, when: dt.datetime | None = None) -> dt.datetime:
        """Stop the clock, at ``when`` or now: it moves only when the test moves it."""
        return self.move_to(when or self.now(), tick=False)

    def now(self) -> dt.datetime:
        """The time, aware, in UTC (what ``utcnow`` and the Clock service say)."""
        return dt.datetime.now(dt.timezone.utc)

    def time_zone(self, where=None) -> ZoneInfo:
        """The portal's time zone: of ``where`` (an app, a registry, a request), else of the
        test's ``app`` when it has one, else the default (Europe/Stockholm)."""
        if where is not None:
            return settings_of(where).time_zone
        if self._time_zone is not None:
            return self._time_zone()
        return Settings.time_zone

    def today(self, where=None) -> dt.date:
        """Today in the portal's time zone (see :meth:`time_zone`)."""
        return dt.datetime.now(self.time_zone(where)).date()
