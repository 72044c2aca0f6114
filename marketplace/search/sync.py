"""Keeping the search index in step with the database.

Changes reach the index only after their transaction commits: the outbox rows are
written in the transaction, and a single drainer re-reads the current rows by id and
applies them to Whoosh in one batched commit. In the app a background thread drains, so
no web request waits for Whoosh; tests and the CLI drain inline.
"""

from __future__ import annotations

import gc
import logging
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import write_intent
from marketplace.models import ListingChange
from marketplace.search.documents import all_documents, load_documents
from search_index import CheckReport, IndexUnavailable, RebuildReport, SearchIndex, item_key

log = logging.getLogger(__name__)

DRAIN_BATCH = 500
SAFETY_INTERVAL_SECONDS = 5.0
# Any constant: the PostgreSQL advisory lock that lets one drainer at a time re-read rows
# and write them, so a slow drainer can never overwrite a newer entry with an older one.
_DRAIN_LOCK_KEY = 0x5356_4D49


def _lock_drain(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DRAIN_LOCK_KEY})
    # On SQLite the DELETE below takes the database's single write lock, which does the same.


def drain_once(session_factory: sessionmaker, index: SearchIndex, limit: int = DRAIN_BATCH) -> int:
    """Apply up to ``limit`` outbox rows to the index in one Whoosh commit.

    Returns:
        How many outbox rows were handled.
    """
    with session_factory() as session:
        _lock_drain(session)
        rows = session.execute(
            select(ListingChange.id, ListingChange.kind, ListingChange.item_id).order_by(ListingChange.id).limit(limit)
        ).all()
        if not rows:
            session.rollback()
            return 0
        session.execute(delete(ListingChange).where(ListingChange.id.in_([row.id for row in rows])))
        upserts, deletes = [], []
        for kind in ("need", "offer"):
            ids = {row.item_id for row in rows if row.kind == kind}
            if not ids:
                continue
            documents = load_documents(session, kind, ids)
            upserts.extend(documents.values())
            deletes.extend(item_key(kind, item_id) for item_id in ids - documents.keys())
        index.apply(upserts, deletes)
        session.commit()
    log.info("search index updated", extra={"changes": len(rows), "upserts": len(upserts), "deletes": len(deletes)})
    return len(rows)


def drain(session_factory: sessionmaker, index: SearchIndex) -> int:
    """Drain the whole outbox. Returns how many rows were handled."""
    total = 0
    while handled := drain_once(session_factory, index):
        total += handled
    return total


def rebuild(
    session_factory: sessionmaker,
    index: SearchIndex,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int = 1,
) -> RebuildReport:
    """Rebuild the index from the database into a new folder and swap it in.

    The outbox is emptied first: the rebuild reads every row afresh, and changes made
    while it runs are replayed by the library before the swap. ``workers`` > 1 forks
    indexing processes: for the command line only, never from the app's threads.
    """
    with session_factory() as session:
        _lock_drain(session)
        session.execute(delete(ListingChange))
        session.commit()
    with session_factory() as session:
        report = index.rebuild(all_documents(session), progress=progress, workers=workers)
    log.info("search index rebuilt", extra={"items": getattr(report, "items", None)})
    return report


def check(session_factory: sessionmaker, index: SearchIndex, *, fix: bool) -> CheckReport:
    """Compare the index with the database: items missing, stale or extra; fix them if asked."""
    with session_factory() as session:
        return index.check(all_documents(session), fix=fix)


class SearchSync:
    """Owns the app's search index and the thread that keeps it current."""

    def __init__(self, session_factory: sessionmaker, index_dir: Path, *, background: bool) -> None:
        self.session_factory = session_factory
        self.index_dir = index_dir
        self.background = background
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
        if self.index.exists():
            try:
                self.index.verify()
                return
            except IndexUnavailable as error:
                log.warning(
                    "search index unusable: rebuilding", extra={"index_dir": str(self.index_dir), "error": str(error)}
                )
        else:
            log.warning("search index missing: rebuilding", extra={"index_dir": str(self.index_dir)})
        rebuild(self.session_factory, self.index)

    def notify(self) -> None:
        """Some transaction committed outbox rows: drain them (now, or soon in the background)."""
        if self.background:
            self._wake.set()
        else:
            self.drain()

    def drain(self) -> int:
        """Bring the index up to date now: reopen (or rebuild) it if it was unusable, then apply
        the outbox. Returns how many outbox rows were applied.

        Never raises. The outbox rows of a batch that could not be written stay in the database
        for the next attempt. While the index cannot be written (disk full, read-only, corrupt)
        it is marked unavailable, so search uses the database rather than a stale index; a
        database error leaves that flag alone.
        """
        with self._lock, write_intent():
            try:
                if self.index is None or not self.available:
                    self._open_or_rebuild()
                handled = drain(self.session_factory, self.index)
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
            self._wake.wait(SAFETY_INTERVAL_SECONDS)
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
