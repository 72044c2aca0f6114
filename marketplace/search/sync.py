"""Keeping this server's search index replica in step with the database.

Changes reach the index only after their transaction commits: the change-log rows are
written in the transaction, and this server's replica re-reads the current rows by id and
applies them to Whoosh in one batched commit, in log order, recording how far it has got
(see ``marketplace.search.replicas``: every app server keeps its own folder, fed from the
same log). In the app a background thread applies the log, so no web request waits for
Whoosh; tests and the CLI apply it inline.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from marketplace.db import write_intent
from marketplace.models import IndexReplica, ListingChange
from marketplace.search import replicas
from marketplace.search.documents import all_documents, load_documents
from marketplace.search.replicas import NeedsRebuild, Position
from search_index import CheckReport, IndexUnavailable, RebuildReport, SearchIndex, item_key

log = logging.getLogger(__name__)

DRAIN_BATCH = 500
# Other servers' changes are noticed by polling: within this, plus the time to apply them.
POLL_SECONDS = 2.0
# How often an idle replica says it is alive and prunes the log behind the slowest replica.
HOUSEKEEPING_SECONDS = 60.0
# How many times a rebuild tries to read the horizon (each waits up to HORIZON_WAIT_MS).
_HORIZON_ATTEMPTS = 60


def _position(index: SearchIndex, name: str) -> int:
    position = replicas.read_position(index.path)
    if position is None or position.replica != name or not index.exists():
        raise NeedsRebuild("the folder has no record of how far it has applied the change log")
    return position.applied_through


def drain_once(session_factory: sessionmaker, index: SearchIndex, limit: int = DRAIN_BATCH, *, replica: str) -> int:
    """Apply up to ``limit`` change-log rows this replica has not applied, in one Whoosh commit.

    Returns:
        How many log rows were applied (0 when up to date, or when log writers are busy).

    Raises:
        NeedsRebuild: if the folder does not say how far it got, or the log it needs is gone.
    """
    applied = _position(index, replica)
    with session_factory() as session:
        if replicas.latest_change(session) <= applied:
            return 0  # the cheap, usual answer: nothing new
        top = replicas.horizon(session)
        session.rollback()
    if top is None or top <= applied:
        return 0
    with session_factory() as session:
        # Holding our row serialises this server's processes (they share the folder) and
        # makes pruning wait until this batch is recorded.
        if session.get(IndexReplica, replica, with_for_update=True, populate_existing=True) is None:
            session.rollback()
            raise NeedsRebuild("the change log this replica needed was pruned")
        applied = _position(index, replica)  # another process of this server may have moved on
        if applied >= top:
            session.rollback()
            return 0
        rows = session.execute(
            select(ListingChange.id, ListingChange.kind, ListingChange.item_id)
            .where(ListingChange.id > applied, ListingChange.id <= top)
            .order_by(ListingChange.id)
            .limit(limit)
        ).all()
        through = rows[-1].id if len(rows) == limit else top
        upserts, deletes = [], []
        for kind in ("need", "offer"):
            ids = {row.item_id for row in rows if row.kind == kind}
            if not ids:
                continue
            documents = load_documents(session, kind, ids)
            upserts.extend(documents.values())
            deletes.extend(item_key(kind, item_id) for item_id in ids - documents.keys())
        index.apply(upserts, deletes)
        replicas.write_position(index.path, Position(replica, through))
        replicas.record_applied(session, replica, through)
        session.commit()
    if rows:
        log.info(
            "search index updated",
            extra={"changes": len(rows), "upserts": len(upserts), "deletes": len(deletes), "through": through},
        )
    return len(rows)


def drain(session_factory: sessionmaker, index: SearchIndex, *, replica: str | None = None, prune: bool = True) -> int:
    """Bring this replica up to date with the change log, rebuilding it if it must.

    ``prune`` then deletes the log behind the slowest live replica. Returns how many log
    rows were applied.
    """
    name = replicas.replica_name(index.path, replica)
    total = 0
    rebuilt = False
    while True:
        try:
            handled = drain_once(session_factory, index, replica=name)
        except NeedsRebuild as reason:
            if rebuilt:
                raise
            log.warning("search index replica rebuilds", extra={"replica": name, "reason": str(reason)})
            rebuild(session_factory, index, replica=name)
            rebuilt = True
            continue
        if not handled:
            break
        total += handled
    if prune:
        housekeeping(session_factory, name)
    return total


def housekeeping(session_factory: sessionmaker, replica: str) -> int:
    """Say this replica is alive and prune the log behind the slowest one. Returns rows pruned."""
    with session_factory() as session:
        replicas.touch(session, replica)
        pruned = replicas.prune(session)
        session.commit()
    return pruned


def rebuild(
    session_factory: sessionmaker,
    index: SearchIndex,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int = 1,
    replica: str | None = None,
) -> RebuildReport:
    """Rebuild the index from the database into a new folder and swap it in.

    The replica registers first, so the log from the rebuild's horizon on is kept for it;
    changes committed while it runs are applied again afterwards (harmless). ``workers`` > 1
    forks indexing processes: for the command line only, never from the app's threads.
    """
    name = replicas.replica_name(index.path, replica)
    with session_factory() as session:
        replicas.register(session, name)
        session.commit()
    for _ in range(_HORIZON_ATTEMPTS):
        with session_factory() as session:
            top = replicas.horizon(session)
            session.rollback()
        if top is not None:
            break
    else:
        raise IndexUnavailable("the change log's writers never paused long enough to start a rebuild")
    # Reading every listing takes as long as the rebuild (half a minute at 100,000): in a
    # read-only transaction, or SQLite's write lock would keep every other write waiting.
    with write_intent(False), session_factory() as session:
        report = index.rebuild(all_documents(session), progress=progress, workers=workers)
    replicas.write_position(index.path, Position(name, top))
    with session_factory() as session:
        replicas.record_applied(session, name, top)
        session.commit()
    log.info("search index rebuilt", extra={"items": getattr(report, "items", None), "replica": name, "through": top})
    return report


def check(session_factory: sessionmaker, index: SearchIndex, *, fix: bool) -> CheckReport:
    """Compare the index with the database: items missing, stale or extra; fix them if asked."""
    with session_factory() as session:
        return index.check(all_documents(session), fix=fix)


class SearchSync:
    """Owns the app's search index and the thread that keeps it current."""

    def __init__(
        self, session_factory: sessionmaker, index_dir: Path, *, background: bool, replica: str | None = None
    ) -> None:
        self.session_factory = session_factory
        self.index_dir = index_dir
        self.background = background
        # This server's replica: every process of one server shares its folder and name.
        self.replica = replicas.replica_name(index_dir, replica)
        self._housekept = float("-inf")
        self.index: SearchIndex | None = None
        self.available = False
        # Why the index cannot be used just now, for logs and status; None when it can.
        self.problem: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Open the index; rebuild it when missing or corrupt (in the background in the app).

        Never raises: while the index cannot be opened or written (a full or read-only disk),
        search uses the database and the problem is logged until it is solved.
        """
        if self.background:
            self._thread = threading.Thread(target=self._run, name="search-sync", daemon=True)
            self._thread.start()
        else:
            self.drain()

    def _open_or_rebuild(self) -> None:
        if self.index is None:
            self.index = SearchIndex(self.index_dir, create=False)
        if not self.index.exists():
            reason = "missing"
        else:
            try:
                self.index.verify()
            except IndexUnavailable as error:
                reason = f"unusable: {error}"
            else:
                position = replicas.read_position(self.index_dir)
                if position is not None and position.replica == self.replica:
                    return
                reason = "no record of how far it has applied the change log"
        log.warning(
            "search index rebuilds: search uses the database meanwhile",
            extra={"index_dir": str(self.index_dir), "replica": self.replica, "reason": reason},
        )
        self.available = False
        rebuild(self.session_factory, self.index, replica=self.replica)

    def notify(self) -> None:
        """Some transaction committed change-log rows: apply them (now, or soon in the background)."""
        if self.background:
            self._wake.set()
        else:
            self.drain()

    def drain(self) -> int:
        """Bring the index up to date now: rebuild it if it is missing, unusable or was left too
        far behind, then apply the change log. Returns how many log rows were applied.

        Never raises. A batch that could not be written is applied again at the next attempt.
        While the index cannot be written (disk full, read-only, corrupt) it is marked
        unavailable, so search uses the database rather than a stale index; a database error
        leaves that flag alone.
        """
        with self._lock, write_intent():
            try:
                self._open_or_rebuild()
                handled = drain(self.session_factory, self.index, replica=self.replica, prune=False)
                if handled or time.monotonic() - self._housekept >= HOUSEKEEPING_SECONDS:
                    housekeeping(self.session_factory, self.replica)
                    self._housekept = time.monotonic()
            except SQLAlchemyError as error:
                log.error("search index update waits for the database", extra={"error": type(error).__name__})
                return 0
            except Exception as error:
                failure: Exception | None = error
            else:
                failure = None
            if failure is not None:
                # Whoosh reports a full or read-only disk as a plain OSError, from any depth.
                self.problem = f"{type(failure).__name__}: {failure}"
                log.error(
                    "search index cannot be updated: search uses the database until it can",
                    extra={"index_dir": str(self.index_dir), "error": self.problem},
                )
                self.available = False
                with warnings.catch_warnings():
                    # The traceback's frames hold the files a failed Whoosh write left open (a
                    # full disk stops it half-way): drop it and close them now, quietly.
                    warnings.simplefilter("ignore", ResourceWarning)
                    del failure
                    gc.collect()
                return 0
            if self.problem is not None:
                log.info("search index usable again", extra={"index_dir": str(self.index_dir)})
                self.problem = None
            self.available = True
            return handled

    def _run(self) -> None:
        while True:
            self.drain()
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                return

    def stop(self) -> None:
        """Stop the background thread (tests and shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.index is not None:
            self.index.close()
