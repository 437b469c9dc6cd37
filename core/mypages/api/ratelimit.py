"""Rate limits of the REST API, per token and per client address, with ``limits``.

Every worker and every machine must count together, so the counters live where they all
look: by default in the application's database (:class:`DatabaseStorage`, a ``limits``
storage over the table ``api_rate_limits``: ``limits`` ships none for SQL, and its
``memory://`` storage counts per process), or in any storage ``limits`` knows, by its URI
(``mypages.api.rate_limit_storage = redis://...``). The windows are fixed, as ``limits``'
fixed window strategy counts them; each answer says where the caller stands
(``RateLimit``, ``RateLimit-Policy``, draft-ietf-httpapi-ratelimit-headers) and a refusal
when to come back (``Retry-After``).

Writing to the shared store on every request would cost more than the rest of the request,
so each process counts ahead of it (:class:`RateLimits`): it adds its own count of a key to
the store after :meth:`RateLimits.batch` requests of that key (``mypages.api.rate_limit_slack``
percent of the limit, at most :data:`MAX_BATCH`, at least 1) or :data:`SYNC_EVERY` seconds,
whichever comes first, and reads back the total of every process. A process refuses when
the total it last read plus its own count since is past the limit, so it never refuses too
early; it may allow too much only by what other processes have counted and not yet told
(fewer than a batch each). With slack 0 every request is counted in the store at once.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from sqlalchemy import Float, Integer, bindparam, case, delete, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from mypages.api.models import RateLimitCounter
from mypages.db import engine_from_url
from mypages.services import clock, settings_of

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
#: a process adds its counts to the shared store at least this often, in seconds
SYNC_EVERY = 1.0
#: and after at most this many requests of one key
MAX_BATCH = 100
#: past this many keys known, a process forgets those whose window has ended
KEPT_KEYS = 10_000


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
        self._incr = self._incr_statement(_INSERTS[self.dialect])
        self._local = threading.local()

    @staticmethod
    def _incr_statement(insert):
        """Add ``amount`` to ``key``'s count, or start a window of ``expiry`` seconds at
        ``now`` if it has none or its window has ended: built once, bound on every call."""
        table = RateLimitCounter
        amount = bindparam("amount", type_=Integer)
        now, expires_at = bindparam("now", type_=Float), bindparam("expires_at", type_=Float)
        ended = table.expires_at <= now
        return (insert(table).values(key=bindparam("key"), count=amount, expires_at=expires_at)
                .on_conflict_do_update(
                    index_elements=[table.key],
                    set_={"count": case((ended, amount), else_=table.count + amount),
                          "expires_at": case((ended, expires_at), else_=table.expires_at)})
                .returning(table.count, table.expires_at))

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
        with self._writing() as connection:
            count, expires_at = connection.execute(self._incr, {
                "key": key, "amount": amount, "now": now, "expires_at": now + expiry}).one()
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


class _Tally:
    """One key's count as this process knows it: the total the shared store gave at the last
    sync, this process's requests since, when the window ends and when it last synced."""

    __slots__ = ("shared", "pending", "window_end", "synced_at")

    def __init__(self):
        self.shared = 0
        self.pending = 0
        self.window_end = math.inf
        self.synced_at = -math.inf


class RateLimits:
    """The API's two limits, counted in this process and added to the shared store in
    batches (the module's docstring says how far that can overshoot)."""

    def __init__(self, registry):
        settings = settings_of(registry).api
        self.registry = registry
        uri = settings.rate_limit_storage
        self.storage = storage_from_string(uri) if uri else DatabaseStorage(registry)
        self.per_token: RateLimitItem = parse(settings.rate_limit_per_token)
        self.per_address: RateLimitItem = parse(settings.rate_limit_per_address)
        self.slack = settings.rate_limit_slack
        self._tallies: dict[str, _Tally] = {}
        self._forget_at = KEPT_KEYS
        # one thread at a time: a threaded server's requests share the tallies
        self._lock = threading.Lock()

    def batch(self, item: RateLimitItem) -> int:
        """How many requests of one key this process counts before it tells the store."""
        return max(1, min(MAX_BATCH, item.amount * self.slack // 100))

    def _tally(self, key: str, now: float) -> _Tally:
        tally = self._tallies.get(key)
        if tally is None or now >= tally.window_end:
            # a window that has ended is over for every process: its untold count with it
            if len(self._tallies) >= self._forget_at:
                self._tallies = {k: t for k, t in self._tallies.items() if now < t.window_end}
                self._forget_at = max(KEPT_KEYS, 2 * len(self._tallies))
            tally = self._tallies[key] = _Tally()
        tally.pending += 1
        return tally

    def _sync(self, due: list[tuple[str, RateLimitItem, _Tally]], now: float) -> None:
        together = (self.storage.together() if isinstance(self.storage, DatabaseStorage)
                    else nullcontext())
        with together:
            for key, item, tally in due:
                tally.shared = self.storage.incr(key, item.get_expiry(), amount=tally.pending)
                tally.window_end = self.storage.get_expiry(key)
                tally.pending, tally.synced_at = 0, now
        if isinstance(self.storage, DatabaseStorage):
            self.storage._local.seen = None

    def hit(self, address: str, token_id: int | None) -> list[Standing]:
        """Count a request against its address's limit and, with a good token, the token's;
        what is due for the shared store in one transaction where that is the database."""
        now = clock(self.registry).now().timestamp()
        limits = [("address", self.per_address, self.per_address.key_for(address or "-"))]
        if token_id is not None:
            limits.append(("token", self.per_token, self.per_token.key_for(str(token_id))))
        with self._lock:
            counted = [(name, item, key, self._tally(key, now)) for name, item, key in limits]
            due = [(key, item, tally) for _name, item, key, tally in counted
                   if tally.pending >= self.batch(item) or now - tally.synced_at >= SYNC_EVERY]
            if due:
                self._sync(due, now)
            return [self._standing(name, item, tally, now) for name, item, _key, tally in counted]

    @staticmethod
    def _standing(name: str, item: RateLimitItem, tally: _Tally, now: float) -> Standing:
        count = tally.shared + tally.pending
        window = item.get_expiry()
        return Standing(name, count <= item.amount, item.amount, max(0, item.amount - count),
                        min(window, max(0, math.ceil(tally.window_end - now))), window)


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
