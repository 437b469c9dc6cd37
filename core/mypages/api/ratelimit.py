"""Rate limits of the REST API, per token and per client address, with ``limits``.

Every worker and every machine must count together, so the counters live where they all
look: by default in the application's database (:class:`DatabaseStorage`, a ``limits``
storage over the table ``api_rate_limits``: ``limits`` ships none for SQL, and its
``memory://`` storage counts per process), or in any storage ``limits`` knows, by its URI
(``mypages.api.rate_limit_storage = redis://...``). The strategy is ``limits``' fixed
window; each answer says where the caller stands (``RateLimit``, ``RateLimit-Policy``,
draft-ietf-httpapi-ratelimit-headers) and a refusal when to come back (``Retry-After``).
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import case, delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from mypages.api.models import RateLimitCounter
from mypages.db import engine_from_url
from mypages.services import clock, settings_of

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _counts_need_no_fsync(dbapi_connection, _record):
    # a count lost in a power cut costs nothing; an fsync on every request costs a lot
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class DatabaseStorage(Storage):
    """A ``limits`` storage over the application's database: every worker shares it, and
    the embedded default needs no server. Times come from the application's clock.

    Counts are not worth a disk flush: their commits skip it (SQLite's ``synchronous=NORMAL``
    in WAL mode, PostgreSQL's ``synchronous_commit = off``), which can lose the last counts
    in a crash but never corrupts anything. The hits of one request go in one transaction
    (:meth:`together`), and a hit's count and window are remembered for the questions
    ``limits`` asks right after it."""

    STORAGE_SCHEME = None  # made by the API with the registry, never from a URI

    def __init__(self, registry):
        super().__init__(wrap_exceptions=True)
        self.registry = registry
        app_engine = registry["db.engine"]
        self.dialect = app_engine.dialect.name
        if self.dialect == "sqlite":
            # its own few connections, the same database file
            self.engine = engine_from_url(str(app_engine.url.render_as_string(
                hide_password=False)), pool_size=2)
            event.listen(self.engine, "connect", _counts_need_no_fsync)
        else:
            self.engine = app_engine
        self.insert = _INSERTS[self.dialect]
        self._local = threading.local()

    @contextmanager
    def together(self):
        """The hits of one request in one short transaction."""
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(text("SET LOCAL synchronous_commit = off"))
            self._local.connection = connection
            try:
                yield
            finally:
                self._local.connection = None

    @contextmanager
    def _writing(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            yield connection
        else:
            with self.together():
                yield self._local.connection

    def _remembered(self, key: str):
        seen = getattr(self._local, "seen", None)
        return seen.get(key) if seen else None

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    def _now(self) -> float:
        return clock(self.registry).now().timestamp()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self._now()
        table = RateLimitCounter
        ended = table.expires_at <= now
        statement = self.insert(table).values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[table.key],
            set_={"count": case((ended, amount), else_=table.count + amount),
                  "expires_at": case((ended, now + expiry), else_=table.expires_at)},
        ).returning(table.count, table.expires_at)
        with self._writing() as connection:
            count, expires_at = connection.execute(statement).one()
        self._local.seen = {key: (count, expires_at)}
        return count

    def _row(self, key: str):
        remembered = self._remembered(key)
        if remembered is not None:
            return remembered
        with self.engine.connect() as connection:
            return connection.execute(select(RateLimitCounter.count, RateLimitCounter.expires_at)
                                      .where(RateLimitCounter.key == key)).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row is not None and row[1] > self._now() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        now = self._now()
        return row[1] if row is not None and row[1] > now else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    def prune(self) -> int:
        """Forget the windows that have ended (a periodic job)."""
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter).where(
                RateLimitCounter.expires_at <= self._now())).rowcount


@dataclass(frozen=True)
class Standing:
    """Where a caller stands with one limit after a request."""

    name: str
    allowed: bool
    limit: int
    remaining: int
    reset: int   # seconds until the window ends
    window: int  # seconds


class RateLimits:
    """The API's two limits and their shared counters."""

    def __init__(self, registry):
        settings = settings_of(registry).api
        self.registry = registry
        uri = settings.rate_limit_storage
        self.storage = storage_from_string(uri) if uri else DatabaseStorage(registry)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.per_token: RateLimitItem = parse(settings.rate_limit_per_token)
        self.per_address: RateLimitItem = parse(settings.rate_limit_per_address)

    def _hit(self, name: str, item: RateLimitItem, identifier: str) -> Standing:
        allowed = self.limiter.hit(item, name, identifier)
        stats = self.limiter.get_window_stats(item, name, identifier)
        if isinstance(self.storage, DatabaseStorage):
            self.storage._local.seen = None
        now = clock(self.registry).now().timestamp()
        window = item.get_expiry()
        return Standing(name, allowed, item.amount, stats.remaining,
                        min(window, max(0, math.ceil(stats.reset_time - now))), window)

    def hit(self, address: str, token_id: int | None) -> list[Standing]:
        """Count a request against its address's limit and, with a good token, the token's;
        in one transaction where the counts are the database's."""
        together = (self.storage.together() if isinstance(self.storage, DatabaseStorage)
                    else nullcontext())
        with together:
            standings = [self._hit("address", self.per_address, address or "-")]
            if token_id is not None:
                standings.append(self._hit("token", self.per_token, str(token_id)))
        return standings


def headers(standings: list[Standing]) -> dict[str, str]:
    """``RateLimit-Policy`` and ``RateLimit`` for every limit the request counted against,
    and ``Retry-After`` when one refused it."""
    found = {
        "RateLimit-Policy": ", ".join(f'"{s.name}";q={s.limit};w={s.window}' for s in standings),
        "RateLimit": ", ".join(f'"{s.name}";r={s.remaining};t={s.reset}' for s in standings),
    }
    refused = [s.reset for s in standings if not s.allowed]
    if refused:
        found["Retry-After"] = str(max(1, max(refused)))
    return found
