"""The database: engine and session factory, shared by the app, the CLI and the tests.

Plain SQLAlchemy 2.x (not Flask-SQLAlchemy), so services, CLI commands and tests use one
``Session`` type without an application context.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolResetState
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so Alembic migrations can alter them on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones; without this, values read back would be naive and
    comparisons with ``utcnow()`` would fail.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Store in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine; SQLite gets real transactions, SAVEPOINTs and foreign keys.

    Args:
        url: SQLAlchemy database URL.
        **kwargs: passed on to ``create_engine``.
    """
    # Error messages (and so logs) then carry the SQL but never its values: those can be
    # password hashes, token digests or what a person typed.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _make_sqlite_transactional(engine)
    _count_own_writes(engine)
    return engine


# -- the state of the database a connection sees ------------------------------------------
#
# What a process may keep from the database (a list's total) is kept beside a marker of the
# state it was read in, and used again only while the marker is unchanged. The marker changes
# whenever anything becomes visible to the connection that was not before:
# - on SQLite, ``PRAGMA data_version`` changes when any other connection (in any process)
#   commits; it is fixed inside a read transaction, like the rows a query reads;
# - on PostgreSQL, ``txid_current_snapshot()`` changes when any transaction commits or
#   aborts; two statements with the same snapshot see the same committed rows;
# - on both, the connection's own writes (not yet committed, or rolled back) are counted on
#   the connection (``_note_write``, registered by ``make_engine``), since neither marker sees them.

_WRITES = "own_writes"
_UNDONE = "own_writes_to_undo"
_MARKERS = {"sqlite": "PRAGMA data_version", "postgresql": "SELECT txid_current_snapshot()::text"}
# Statements that change no rows (the markers among them). Every other statement, and a
# rollback after one, may change what the connection sees. A connection serves one thread at
# a time, so its count never races; a read-only transaction's rollback (every page's)
# changes nothing.
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def database_state(connection: Connection) -> tuple[object, int] | None:
    """What identifies the state of the database this connection sees (None: unknown, never reuse).

    Read it before what is kept beside it, so that nothing kept is older than its marker.
    """
    marker = _MARKERS.get(connection.dialect.name)
    if marker is None:
        return None
    # On the driver's own cursor, in the connection's transaction: through SQLAlchemy the
    # statement cost six times as much (0.12 ms), and it changes nothing that its events count.
    try:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(marker)
            (state,) = cursor.fetchone()
        finally:
            cursor.close()
    except connection.dialect.loaded_dbapi.Error:
        # Asked again through SQLAlchemy, whose error says what went wrong the way every other
        # statement's does (a lost connection invalidated, the request answered 503).
        state = connection.exec_driver_sql(marker).scalar()
    return state, connection.info.get(_WRITES, 0)


_KEPT = "kept_for_state"
# Values kept per connection and state; more than this many are read afresh (a filter's totals).
_MAX_KEPT = 512


def kept_for_state[T](session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """``read()``, kept on the session's connection while the database's state is unchanged.

    For what a page reads again and again and that only the database decides (a list's
    total, the navigation's count): the value is read again once anything is committed by
    any connection, or written by this one (see ``database_state``). ``key`` names what
    ``read`` reads, with everything it depends on besides the database (who asks, filters).
    """
    connection = session.connection()
    marker = database_state(connection)
    if marker is None:
        return read()
    # Per connection: SQLite's data_version is the connection's own view of the file.
    seen, kept = connection.info.get(_KEPT, (None, {}))
    if seen != marker or len(kept) >= _MAX_KEPT:
        kept = {}
        connection.info[_KEPT] = (marker, kept)
    if key not in kept:
        kept[key] = read()
    return kept[key]


def _note_write(info: dict) -> None:
    info[_WRITES] = info.get(_WRITES, 0) + 1
    info[_UNDONE] = True


def _count_own_writes(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _note_writing_statement(conn: Connection, cursor: object, statement: str, *_: object) -> None:
        if not statement.lstrip()[:9].upper().startswith(_READS):
            _note_write(conn.info)

    @event.listens_for(engine, "rollback")
    @event.listens_for(engine, "rollback_savepoint")
    def _note_rollback(conn: Connection, *_: object) -> None:
        # A connection the database dropped mid-transaction is invalidated: it has no info to
        # read (asking would raise inside the rollback that recovers from the drop), and the
        # connection that replaces it starts with none of its uncommitted writes.
        if not conn.invalidated and conn.info.get(_UNDONE):
            _note_write(conn.info)

    @event.listens_for(engine, "commit")
    def _note_commit(conn: Connection) -> None:
        conn.info.pop(_UNDONE, None)

    @event.listens_for(engine, "reset")
    def _note_reset(dbapi_connection: object, record: ConnectionPoolEntry, reset_state: PoolResetState) -> None:
        # A connection given back to the pool mid-transaction is rolled back here, not by a Connection.
        if record.info.get(_UNDONE):
            _note_write(record.info)


# SQLite's words for "the database cannot be used just now", as opposed to a bug in a query.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
    "attempt to write a readonly database",
)


def database_unavailable(error: BaseException) -> bool:
    """Tell whether an exception means the database is away or overloaded, not that a query is wrong.

    True for a connection that broke or could not be made (the pool then discards it, so the
    next request gets a fresh one), a full connection pool, any PostgreSQL operational error
    (server shutting down, too many connections, statement cancelled), and SQLite's lock and
    file errors. Requests failing this way answer 503 and ask to try again later.
    """
    if isinstance(error, PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if error.orig is not None and type(error.orig).__module__.startswith("sqlite3"):
        return str(error.orig).lower().startswith(_SQLITE_UNAVAILABLE)
    return True


def _make_sqlite_transactional(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, issue BEGIN (the documented recipe).

    pysqlite's own transaction handling breaks SAVEPOINT, which nested transactions and
    the test suite's rolled-back outer transaction rely on.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE takes the write lock up front: a transaction that read first and writes later
        # would otherwise fail with "database is locked" when another writer got in between.
        # Transactions that only read (GET requests) begin DEFERRED, so they never block writers.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=True)


@contextmanager
def write_intent(writes: bool = True) -> Iterator[None]:
    """Say whether SQLite transactions begun in this block will write (the default) or only read.

    Only SQLite cares: a writing transaction takes the write lock when it begins. PostgreSQL
    ignores this.
    """
    token = _write_intent.set(writes)
    try:
        yield
    finally:
        _write_intent.reset(token)


def set_write_intent(writes: bool) -> Token[bool]:
    """Like ``write_intent`` for code that cannot use a with-block (request hooks)."""
    return _write_intent.set(writes)


def reset_write_intent(token: Token[bool]) -> None:
    """Undo ``set_write_intent``."""
    _write_intent.reset(token)


def writes_intended() -> bool:
    """False inside a read-only block, such as a GET request, whose transaction never commits."""
    return _write_intent.get()


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose sessions keep loaded objects usable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)
