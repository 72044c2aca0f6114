"""The database: engine and session factory, shared by the app, the CLI and the tests.

Plain SQLAlchemy 2.x (not Flask-SQLAlchemy), so services, CLI commands and tests use one
``Session`` type without an application context.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import DeclarativeBase, sessionmaker
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
    return engine


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
