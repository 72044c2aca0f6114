"""Paging of list queries, shared by every list page and API list."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine, Select, event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, Pool, PoolResetState

from marketplace.services.errors import ValidationFailed

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, with what is needed to show paging links."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def check_paging(page: object, per_page: object, default_per_page: int = 20) -> tuple[int, int]:
    """Turn raw ``page``/``per_page`` values into numbers, or name what is wrong.

    Raises:
        ValidationFailed: for values that are not whole numbers in range.
    """
    fields: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, raw, default, upper in (
        ("page", page, 1, 1_000_000),
        ("per_page", per_page, default_per_page, MAX_PER_PAGE),
    ):
        if raw is None or raw == "":
            numbers[name] = default
            continue
        try:
            value = int(str(raw))
        except ValueError:
            fields[name] = f"{name} must be a whole number"
            continue
        if not 1 <= value <= upper:
            fields[name] = f"{name} must be between 1 and {upper}"
        numbers[name] = value
    if fields:
        raise ValidationFailed(fields)
    return numbers["page"], numbers["per_page"]


def paginate(
    session: Session,
    query: Select,
    page: int,
    per_page: int,
    *,
    counted: Select | None = None,
    total_key: Hashable = None,
) -> Page:
    """Run ``query`` for one page; a page past the end is empty, not an error.

    ``counted`` gives the same rows as ``query`` in a form the database counts faster (see
    ``listings.visibility_clause``); the total counts ``query`` itself without it. With
    ``total_key`` (what decides the total: the kind of item, the filters and what the viewer
    may see, never the sort or the page) the total is counted once per state of the
    database and reused until anything is written (see ``_state_marker``).
    """
    count = select(func.count()).select_from((query.order_by(None) if counted is None else counted).subquery())
    total = (_remembered_total(session, count, total_key) if total_key is not None else session.scalar(count)) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total, page=page, per_page=per_page)


# -- totals counted once per state of the database -----------------------------------------
#
# The total of a list is a count over every visible row of the status: it grows with the
# items (1.6 ms of a 6 ms need list at 100k on SQLite) while the rows shown stay twenty.
# Lists are read far more often than anything is written, so a total is kept per database
# connection beside a marker of the state it was counted in, and used again only while the
# marker is unchanged. The marker changes whenever anything becomes visible to the
# connection that was not before:
# - on SQLite, ``PRAGMA data_version`` changes when any other connection (in any process)
#   commits; it is fixed inside a read transaction, like the rows the count reads;
# - on PostgreSQL, ``txid_current_snapshot()`` changes when any transaction commits or
#   aborts; two statements with the same snapshot see the same committed rows;
# - on both, this process's own writes (not yet committed, or rolled back) are counted by
#   the connection (``_note_write``), since neither marker sees them.
# The marker is read before the count, so a count is never older than its marker.

_TOTALS = "paging_totals"
_WRITES = "paging_own_writes"
_UNDONE = "paging_writes_to_undo"
_MAX_TOTALS = 512
_MARKERS = {"sqlite": "PRAGMA data_version", "postgresql": "SELECT txid_current_snapshot()::text"}
# Statements that change no rows (the markers among them). Every other statement, and a
# rollback after one, may change what the connection sees. Its own writes are counted on the
# connection itself (a connection serves one thread at a time, so the count never races);
# a read-only transaction's rollback (every page's) changes nothing.
_READS = ("SELECT", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE", "SET", "SHOW")


def _note_write(info: dict) -> None:
    info[_WRITES] = info.get(_WRITES, 0) + 1
    info[_UNDONE] = True


@event.listens_for(Engine, "before_cursor_execute")
def _note_writing_statement(conn: Connection, cursor: object, statement: str, *_: object) -> None:
    if not statement.lstrip()[:9].upper().startswith(_READS):
        _note_write(conn.info)


@event.listens_for(Engine, "rollback")
@event.listens_for(Engine, "rollback_savepoint")
def _note_rollback(conn: Connection, *_: object) -> None:
    # A connection the database dropped mid-transaction is invalidated: it has no info to
    # read (asking would raise inside the rollback that recovers from the drop), and the
    # connection that replaces it starts with none of its uncommitted writes.
    if not conn.invalidated and conn.info.get(_UNDONE):
        _note_write(conn.info)


@event.listens_for(Engine, "commit")
def _note_commit(conn: Connection) -> None:
    conn.info.pop(_UNDONE, None)


@event.listens_for(Pool, "reset")
def _note_reset(dbapi_connection: object, record: ConnectionPoolEntry, reset_state: PoolResetState) -> None:
    # A connection given back to the pool mid-transaction is rolled back here, not by a Connection.
    if record.info.get(_UNDONE):
        _note_write(record.info)


def _state_marker(connection: Connection) -> tuple[object, int] | None:
    """What identifies the state of the database this connection sees (None: unknown, never reuse)."""
    marker = _MARKERS.get(connection.dialect.name)
    if marker is None:
        return None
    return connection.exec_driver_sql(marker).scalar(), connection.info.get(_WRITES, 0)


def _remembered_total(session: Session, count: Select, key: Hashable) -> int:
    connection = session.connection()
    marker = _state_marker(connection)
    if marker is None:
        return session.scalar(count) or 0
    # Per connection: SQLite's data_version is the connection's own view of the file.
    seen, totals = connection.info.get(_TOTALS, (None, {}))
    if seen != marker or len(totals) >= _MAX_TOTALS:
        totals = {}
        connection.info[_TOTALS] = (marker, totals)
    if key not in totals:
        totals[key] = session.scalar(count) or 0
    return totals[key]
