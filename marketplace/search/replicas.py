"""Search index replicas: each app server keeps its own index folder, fed from the change log.

Every change to a need or offer adds a ``listing_change`` row in the same transaction
(``marketplace.search.outbox``). Each app server (each index folder) is a *replica* that
applies the log in id order and records how far it has got in two places:

- ``replica.json`` in its folder, written after each batch reaches the index: the truth
  about what that folder holds. A crash between the two only means a batch is applied again,
  which is harmless (a batch re-reads the current rows, and applying is idempotent).
- its ``index_replica`` row, so that every server knows how far the others are.

The log is pruned only behind the slowest replica seen within ``REPLICA_LIVE`` (a server
down for longer, or more than ``KEEP_BEHIND`` changes behind, loses its row and rebuilds its
folder from the database when it next looks). The newest row always stays: it is the log's
high-water mark, and on SQLite it stops ids from being handed out again.

On PostgreSQL ids are handed out before commit, so a replica must not move past an id that
an unfinished transaction may still commit: the *horizon* is read while holding, for a
moment, the lock every log writer holds (shared) until it ends.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import IndexReplica, ListingChange
from marketplace.search.outbox import LOG_WRITERS_LOCK

log = logging.getLogger(__name__)

REPLICA_FILE = "replica.json"
# A replica not seen for this long no longer holds back pruning; it rebuilds when it returns.
REPLICA_LIVE = timedelta(hours=1)
# A replica further behind than this many changes is not waited for either (it rebuilds).
KEEP_BEHIND = 100_000
# How long reading the horizon waits for unfinished log writers before trying again later.
# Below PostgreSQL's deadlock_timeout (1 s), so if a writer ever waited on another writer
# queued behind this lock, this wait gives up before any writer's transaction is aborted.
HORIZON_WAIT_MS = 500
_HORIZON_TRIES = 10
_HORIZON_TRY_PAUSE = 0.02
# Any constant: lets one process at a time prune the log.
_PRUNE_LOCK = 0x5356_4D50
_NAME_LENGTH = 200


class NeedsRebuild(Exception):
    """A replica's folder cannot be brought up to date from the log: rebuild it."""


@dataclass(frozen=True)
class Position:
    """How far one index folder has applied the change log."""

    replica: str
    applied_through: int


def replica_name(index_dir: Path, configured: str | None = None) -> str:
    """The name this folder's replica goes by: configured, else host name and folder path."""
    name = configured or f"{socket.gethostname()}:{Path(index_dir).resolve()}"
    if len(name) > _NAME_LENGTH:
        name = name[: _NAME_LENGTH - 17] + "~" + hashlib.sha256(name.encode()).hexdigest()[:16]
    return name


def read_position(index_dir: Path) -> Position | None:
    """What the folder says it has applied; None when it says nothing usable."""
    try:
        data = json.loads((Path(index_dir) / REPLICA_FILE).read_text(encoding="utf-8"))
        return Position(str(data["replica"]), int(data["applied_through"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_position(index_dir: Path, position: Position) -> None:
    """Record, atomically, that the folder holds every change up to ``applied_through``."""
    folder = Path(index_dir)
    tmp = folder / f"{REPLICA_FILE}.{secrets.token_hex(4)}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"replica": position.replica, "applied_through": position.applied_through}, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, folder / REPLICA_FILE)


def latest_change(session: Session) -> int:
    """The highest change-log id committed so far (0 for an empty log)."""
    return int(session.scalar(select(func.coalesce(func.max(ListingChange.id), 0))) or 0)


def horizon(session: Session, wait_ms: int = HORIZON_WAIT_MS) -> int | None:
    """The highest log id below which no unfinished transaction can still add a row.

    Returns None when log writers held on for longer than ``wait_ms`` (try again later).
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return latest_change(session)  # one writer at a time: ids are in commit order
    # A session-level lock, released explicitly: a transaction-level one would last as long
    # as the caller's outermost transaction. First a few tries that never wait (a request
    # that waits would queue every new writer behind it), then one short wait.
    for _ in range(_HORIZON_TRIES):
        if session.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOG_WRITERS_LOCK}):
            break
        time.sleep(_HORIZON_TRY_PAUSE)
    else:
        if not _wait_for_log_writers(session, wait_ms):
            return None
    try:
        return latest_change(session)
    finally:
        session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOG_WRITERS_LOCK})


def _wait_for_log_writers(session: Session, wait_ms: int) -> bool:
    try:
        with session.begin_nested():
            previous = session.scalar(text("SELECT current_setting('lock_timeout')"))
            session.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": f"{wait_ms}ms"})
            session.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOG_WRITERS_LOCK})
            session.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": previous})
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
            return False
        raise
    return True


def register(session: Session, name: str) -> None:
    """Say that this replica is rebuilding, so the log from now on is kept for it.

    The row holds an id no higher than the horizon the rebuild reads afterwards, so no
    pruning can remove a change the rebuilt folder will need.
    """
    low = latest_change(session)
    row = session.get(IndexReplica, name)
    if row is None:
        session.add(IndexReplica(name=name, applied_through=low, seen_at=utcnow()))
    else:
        row.applied_through = low
        row.seen_at = utcnow()
    session.flush()


def record_applied(session: Session, name: str, applied_through: int) -> bool:
    """Store how far the replica has got; False if its row is gone (it must rebuild)."""
    result = session.execute(
        update(IndexReplica)
        .where(IndexReplica.name == name)
        .values(applied_through=applied_through, seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def touch(session: Session, name: str) -> None:
    """Say that the replica is alive, without moving its position."""
    session.execute(
        update(IndexReplica)
        .where(IndexReplica.name == name)
        .values(seen_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def prune(session: Session) -> int:
    """Delete the log behind the slowest live replica (bounded by ``KEEP_BEHIND``).

    Replicas left behind lose their rows and rebuild when they next apply the log.

    Returns:
        How many log rows were deleted.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql" and not connection.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _PRUNE_LOCK}
    ):
        return 0  # another process is pruning
    slowest = session.scalar(
        select(func.min(IndexReplica.applied_through)).where(IndexReplica.seen_at >= utcnow() - REPLICA_LIVE)
    )
    if slowest is None:
        return 0
    top = latest_change(session)
    floor = max(int(slowest), top - KEEP_BEHIND)
    # Replica rows first: a replica applying a batch holds its row, so this waits for it and
    # then sees how far it got, rather than forgetting a replica that has just caught up.
    forgotten = session.execute(
        delete(IndexReplica).where(IndexReplica.applied_through < floor).execution_options(synchronize_session=False)
    ).rowcount
    if forgotten:
        log.warning(
            "search index replicas too far behind: they rebuild when they next look",
            extra={"replicas": forgotten, "floor": floor},
        )
    removed = session.execute(
        delete(ListingChange)
        .where(ListingChange.id <= floor, ListingChange.id < top)
        .execution_options(synchronize_session=False)
    ).rowcount
    return int(removed or 0)


def unapplied(session: Session) -> int:
    """How many log rows the slowest replica has still to apply (all of them if none exists)."""
    slowest = session.scalar(select(func.min(IndexReplica.applied_through)))
    return int(
        session.scalar(select(func.count()).select_from(ListingChange).where(ListingChange.id > (slowest or 0))) or 0
    )
