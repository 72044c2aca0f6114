"""Helpers for the fault tests: a database of the test's own (so commits are real and can be
counted), a way to kill the app's PostgreSQL connection in the middle of a request, and a
way to hold SQLite's write lock from another connection."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from marketplace.config import normalise_database_url
from marketplace.db import Base, make_engine
from marketplace.schema import upgrade
from marketplace.services import accounts, organisations
from marketplace.services.reference import seed_reference_data
from tests.conftest import PASSWORD, POSTGRES_ENV

POSTGRES = bool(os.environ.get(POSTGRES_ENV))


@contextmanager
def own_database(folder: Path) -> Iterator[str]:
    """A new, migrated database with reference data, dropped afterwards.

    Not the suite's database: the fault tests commit for real, and their rows must not
    show up in other tests.
    """
    if POSTGRES:
        base = make_url(normalise_database_url(os.environ[POSTGRES_ENV]))
        name = f"svm_fault_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{folder / 'faults.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        seed_reference_data(session)
        session.commit()
    engine.dispose()
    try:
        yield url
    finally:
        if POSTGRES:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows every table holds, read on a fresh connection (so only committed rows)."""
    with engine.connect() as connection:
        return {
            table.name: connection.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }


def verified_member(engine: Engine, email: str) -> tuple[int, str]:
    """A verified community member, committed; returns their id and a real API token."""
    with Session(engine, expire_on_commit=False) as session:
        officer = accounts.create_user(
            session,
            email=f"officer-{email}",
            role="officer",
            organisation_name="Test County Council",
            password=PASSWORD,
        )
        user = accounts.create_user(
            session, email=email, role="community", organisation_name=f"Group of {email}", password=PASSWORD
        )
        session.flush()
        organisations.verify_organisation(session, officer, user.organisation_id)
        _, token = accounts.create_token(session, user, "fault tests")
        session.commit()
        return user.id, token


class ConnectionKiller:
    """Kills the app's PostgreSQL connection in the middle of a request.

    Once armed, it waits for the request's first INSERT to run and then, just before the
    next statement, has PostgreSQL terminate that connection's server process from a
    separate admin connection, the way a server restart or a network cut would. The
    request's later statements then fail on a dead connection.
    """

    def __init__(self, engine: Engine, admin_url: str) -> None:
        self.engine = engine
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.armed = False
        self.inserted = False
        self.killed_pid: int | None = None
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def arm(self) -> None:
        self.armed, self.inserted, self.killed_pid = True, False, None

    def disarm(self) -> None:
        self.armed = False

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.armed and statement.lstrip().upper().startswith("INSERT"):
            self.inserted = True

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not (self.armed and self.inserted and self.killed_pid is None):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with self.admin.connect() as admin:
            # The timeout makes PostgreSQL wait until the process has really gone.
            assert admin.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        self.killed_pid = pid
        self.armed = False

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        self.admin.dispose()


@contextmanager
def sqlite_write_lock(url: str) -> Iterator[None]:
    """Another connection holding SQLite's write lock (as a long-running job or a second
    process would) for as long as the block runs."""
    path = make_url(url).database
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
        holder.execute("ROLLBACK")
    finally:
        holder.close()


def short_sqlite_busy_timeout(engine: Engine, milliseconds: int) -> None:
    """Wait at most this long for SQLite's lock, instead of the app's 30 seconds.

    Only the waiting time changes; the lock and the error are SQLite's own. The pool is
    emptied so every new connection gets the setting.
    """

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={int(milliseconds)}")

    engine.dispose()
