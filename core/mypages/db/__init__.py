"""Database: engine, the request's session and the declarative base.

``request.dbsession`` joins the request's transaction (pyramid_tm +
zope.sqlalchemy): a view either commits everything it wrote or nothing.
It is opened on first use, so a page that only shows what
:func:`read_first` found (the signed-in user, the company) never opens one.
"""
from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import zope.sqlalchemy
from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import JSON, TypeDecorator

from mypages.crypto import bind_keys
from mypages.services import settings_of

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of the core and of plugins (as ``mypages.toolkit.Base``).

    One metadata for every table; each distribution's own migrations create
    only its own tables.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class json_rows(GenericFunction):
    """An aggregate: the rows of a subquery as one JSON array of arrays, each holding the
    given columns (None or ``[]`` when there are none), so that a statement reads a few rows
    of another table in the same row. Timestamps come back as ISO strings
    (:func:`utc_from_json`)."""

    type = JSON()
    inherit_cache = True


@compiles(json_rows, "sqlite")
def _json_rows_sqlite(element, compiler, **kw):
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element, compiler, **kw):
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


def utc_from_json(value: str) -> dt.datetime:
    """A UTC timestamp as :class:`json_rows` gives it (SQLite's has no offset)."""
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(dt.timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


def _tune_sqlite(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def engine_from_url(url: str, **kw) -> Engine:
    # a failed statement's error (logged with the error page's reference) names the SQL but
    # not the values: they may be a password hash, a token or someone's address
    kw.setdefault("hide_parameters", True)
    engine = create_engine(url, **kw)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
        _make_folder_of(engine.url.database)
    return engine


def _make_folder_of(database: str | None) -> None:
    """SQLite makes a missing database file, but not its folder (``var/`` of a fresh checkout
    or a new plugin's development.ini)."""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def session_in_transaction(session_factory, transaction_manager) -> Session:
    """A session bound to ``transaction_manager``: committed or aborted with it."""
    dbsession = session_factory()
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


@contextmanager
def committed_on_its_own(registry) -> Iterator[Session]:
    """A session in a short transaction of its own, committed when the block ends, whatever
    becomes of the request's: for the few writes that must stay though the request is
    refused (its audit event, a used-up sign-in attempt, the sessions of a disabled account).

    Call it when the request holds no write lock: before the request's first write, or
    after its transaction was dropped (the refusal view does so first). On SQLite a
    request that has written holds the database's one write lock until it ends.
    """
    with registry["db.session_factory"].begin() as own:
        yield own


class ColumnGroup:
    """The columns that make one record, labelled ``{prefix}_{name}``, and the record they
    make again.

    A statement that reads several records at once (the request context: session, user,
    company, ...) puts their groups side by side, and :meth:`from_mapping` reads each record
    back from the row by its labels, never by position: a field added to one record moves no
    other.
    """

    __slots__ = ("labels", "_make", "_missing", "_key")

    def __init__(self, prefix: str, names, make, missing=None):
        """``make(**values)`` builds the record; ``missing`` stands for it when the row holds
        none (an outer join that found nothing leaves the group's first column, a key that
        is never NULL in its table, NULL)."""
        self.labels = tuple((name, f"{prefix}_{name}") for name in names)
        self._make, self._missing = make, missing
        self._key = self.labels[0][1]

    @classmethod
    def of(cls, record, prefix: str) -> "ColumnGroup":
        """The group of a dataclass: its fields, named like the columns, make it."""
        return cls(prefix, [field.name for field in fields(record)], record)

    def columns(self, table) -> tuple:
        """The group's columns of ``table`` (named like the fields), labelled."""
        return tuple(table.c[name].label(label) for name, label in self.labels)

    def from_mapping(self, mapping):
        """The record in a row's mapping (``row._mapping``), or ``missing``."""
        if mapping[self._key] is None:
            return self._missing
        return self._make(**{name: mapping[label] for name, label in self.labels})


def read_first(request, statement, parameters: dict):
    """The first row of a read-only Core statement (or :class:`PreparedRead`), or None. In
    the request's transaction once it has begun (a view sees its own writes); before that
    on a pooled connection given back at once, which costs a fraction of an ORM session
    joined to the transaction manager."""
    if isinstance(statement, PreparedRead):
        return statement.first_row(request, parameters)
    dbsession = request.opened_dbsession
    if dbsession is not None:
        return dbsession.execute(statement, parameters).first()
    with request.registry["db.read_engine"].connect() as connection:
        return connection.execute(statement, parameters).first()


def read_all(request, statement, parameters: dict) -> list:
    """Every row of a read-only Core statement (or :class:`PreparedRead`), read as
    :func:`read_first` reads."""
    if isinstance(statement, PreparedRead):
        return statement.rows(request, parameters)
    dbsession = request.opened_dbsession
    if dbsession is not None:
        return dbsession.execute(statement, parameters).all()
    with request.registry["db.read_engine"].connect() as connection:
        return connection.execute(statement, parameters).all()


class PreparedRead:
    """A read-only SELECT that a page runs on every request, compiled once for each database
    and run on the driver's own cursor: give it to :func:`read_first` or :func:`read_all`
    in place of the statement.

    For such a statement SQLAlchemy's work on each call (finding the compiled form in its
    cache by a key as large as the statement, an execution context, a ``Row``) can cost
    more than the database does (``python -m bench.profile_dashboard`` shows it). The compiled
    SQL, the order of its parameters and the type conversions of parameters and columns
    are SQLAlchemy's own, taken once; only the execution is the driver's, on the pool's
    connection (while the engine has ``before_cursor_execute`` or ``after_cursor_execute``
    listeners, on a ``Connection`` that calls them, with no execution context; it is never
    echoed). Its rows are named tuples: ``row.name``, ``row[0]`` and ``row._mapping`` as
    with SQLAlchemy's. In the request's transaction, once it has begun, it is read by
    SQLAlchemy as any statement (a view sees its own writes).

    The statement must name its columns once each (label them where two would share a
    name) and have no expanding (``IN``) parameters::

        FOLLOWED = PreparedRead(select(Series.id, Series.title).where(
            Series.company_id == bindparam("company_id")))
        rows = read_all(request, FOLLOWED, {"company_id": request.company.id})
    """

    __slots__ = ("statement", "_compiled")

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, _CompiledRead] = {}

    def first(self, request, parameters: dict):
        """The first row as a plain mapping by column label, or None: for the request
        context, which reads its records back by label."""
        found = self._read(request, parameters, one=True, as_mappings=True)
        return found[0] if found else None

    def first_row(self, request, parameters: dict):
        """The first row, or None (:func:`read_first`)."""
        found = self._read(request, parameters, one=True)
        return found[0] if found else None

    def rows(self, request, parameters: dict) -> list:
        """Every row (:func:`read_all`)."""
        return self._read(request, parameters, one=False)

    def _read(self, request, parameters: dict, one: bool, as_mappings: bool = False) -> list:
        dbsession = request.opened_dbsession
        if dbsession is not None:  # in the request's transaction, which may have written
            result = dbsession.execute(self.statement, parameters)
            rows = result.fetchmany(1) if one else result.all()
            return [row._mapping for row in rows] if as_mappings else rows
        engine = request.registry["db.read_engine"]
        compiled = self._compiled.get(engine.dialect.name)
        if compiled is None:
            compiled = self._compiled[engine.dialect.name] = _CompiledRead(
                self.statement, engine.dialect)
        bound = compiled.parameters(parameters)
        events = engine.dispatch
        if events.before_cursor_execute or events.after_cursor_execute:
            found = _fetch_for_listeners(engine, compiled, bound, one)
        else:
            found = _fetch(engine, compiled, bound, one)
        convert = compiled.mapping if as_mappings else compiled.row
        return [convert(values) for values in found]


def _fetch(engine: Engine, compiled: "_CompiledRead", bound, one: bool) -> list:
    """The rows, on the pool's own connection: nobody listens to the engine's statements,
    and a SQLAlchemy ``Connection`` would cost more than the read. The read engine's
    isolation level (:func:`read_engine`) is applied and taken back as the ``Connection``
    would."""
    isolation = engine.get_execution_options().get("isolation_level")
    pooled = engine.raw_connection()
    try:
        if isolation is not None:
            engine.dialect.set_isolation_level(pooled.dbapi_connection, isolation)
        try:
            return _execute(pooled.cursor(), compiled, bound, one)
        finally:
            if isolation is not None:
                engine.dialect.reset_isolation_level(pooled.dbapi_connection)
    finally:
        pooled.close()


def _fetch_for_listeners(engine: Engine, compiled: "_CompiledRead", bound, one: bool) -> list:
    """The rows, on a ``Connection`` (it applies the read engine's options), with the
    engine's ``before_cursor_execute`` and ``after_cursor_execute`` listeners called around
    the statement (with no execution context)."""
    with engine.connect() as connection:
        return _execute(connection.connection.cursor(), compiled, bound, one, connection)


def _execute(cursor, compiled: "_CompiledRead", bound, one: bool, listened=None) -> list:
    """Run the statement on ``cursor`` and fetch its rows; around it, the listeners of the
    ``listened`` connection, if given."""
    events = listened.dispatch if listened is not None else None
    try:
        if events is not None and events.before_cursor_execute:
            events.before_cursor_execute(listened, cursor, compiled.sql, bound, None, False)
        cursor.execute(compiled.sql, bound)
        if events is not None and events.after_cursor_execute:
            events.after_cursor_execute(listened, cursor, compiled.sql, bound, None, False)
        compiled.described(cursor.description)
        return cursor.fetchmany(1) if one else cursor.fetchall()
    finally:
        cursor.close()


class _CompiledRead:
    """A SELECT compiled for one dialect: its SQL, how its parameters are bound and how its
    columns are read back, as SQLAlchemy would."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a PreparedRead cannot have expanding or literal parameters")
        self.sql = compiled.string
        self._positions = compiled.positiontup
        escaped = compiled.escaped_bind_names or {}
        #: the values written into the statement, bound once; and the named parameters:
        #: (name given, name in the SQL, its conversion or None)
        self._constants: dict = {}
        self._named: list[tuple] = []
        for bind, name in compiled.bind_names.items():
            name = escaped.get(name, name)
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.callable is not None:
                raise ValueError("a PreparedRead cannot have parameters computed when run")
            if bind.required:
                self._named.append((bind.key, name, processor))
            else:
                self._constants[name] = (processor(bind.value) if processor is not None
                                         else bind.value)
        self._dialect = dialect
        self._columns = [(column.key, column.type.dialect_impl(dialect))
                         for column in statement.selected_columns]
        keys = self._keys = tuple(key for key, _ in self._columns)
        if len(set(keys)) != len(keys):
            raise ValueError("a PreparedRead's columns need labels of their own")
        try:
            self._row_class = _row_class(keys)
        except ValueError as error:
            raise ValueError(f"a PreparedRead's column names must be Python names: {error}")
        #: (position, conversion) of the columns that have one, once the driver has
        #: described them: most come as the driver reads them
        self._converted: tuple | None = None

    def described(self, description) -> None:
        """Take the columns' conversions, which may depend on the types the database
        answers with (PostgreSQL's numbers do), from the first cursor's description."""
        if self._converted is None:
            readers = (impl.result_processor(self._dialect, described[1])
                       for (_, impl), described in zip(self._columns, description, strict=True))
            self._converted = tuple((position, reader) for position, reader
                                    in enumerate(readers) if reader is not None)

    def parameters(self, given: dict):
        values = dict(self._constants)
        for key, name, processor in self._named:
            if key not in given:
                raise ValueError(f"a value is required for the parameter {key!r}")
            values[name] = processor(given[key]) if processor is not None else given[key]
        if self._positions is not None:
            return tuple(values[name] for name in self._positions)
        return values

    def _values(self, values) -> list:
        converted = list(values)
        for position, reader in self._converted:
            converted[position] = reader(converted[position])
        return converted

    def mapping(self, values) -> dict:
        return dict(zip(self._keys, self._values(values), strict=True))

    def row(self, values):
        return self._row_class._make(self._values(values))


def _row_class(keys: list[str]):
    """A named tuple of ``keys`` that also has SQLAlchemy's ``row._mapping``."""

    class Row(namedtuple("Row", keys)):
        __slots__ = ()

        @property
        def _mapping(self) -> dict:
            return self._asdict()

    return Row


def read_engine(engine: Engine) -> Engine:
    """The engine for :func:`read_first`. One statement needs no transaction around it: on
    PostgreSQL, autocommit saves the BEGIN and ROLLBACK round trips; SQLite's driver begins
    none for a SELECT anyway (and switching its mode costs more than it saves)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def fresh_transaction(request) -> None:
    """For error views: drop everything the failed request wrote (on PostgreSQL a failed
    statement leaves the transaction unusable) and read on in a new transaction, which
    pyramid_tm aborts in turn."""
    request.tm.abort()
    request.tm.begin()


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    # the audit trail records who did what; annotating transactions would load the
    # signed-in user before routing, a second query on every company page
    settings["tm.annotate_user"] = "false"
    config.include("pyramid_tm")
    engine = engine_from_url(settings_of(config).database_url)
    session_factory = sessionmaker(bind=engine, expire_on_commit=False)
    bind_keys(engine, config.registry["crypto.keyring"])  # for its encrypted columns
    config.registry["db.engine"] = engine
    config.registry["db.read_engine"] = read_engine(engine)
    config.registry["db.session_factory"] = session_factory

    def dbsession(request):
        request.opened_dbsession = session_in_transaction(session_factory, request.tm)
        return request.opened_dbsession

    config.add_request_method(dbsession, reify=True)
    # request.dbsession once it is open, else None: for reads that should not open it
    config.add_request_method(lambda request: None, "opened_dbsession", reify=True)
