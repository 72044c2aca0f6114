"""Keeping the search index in step with the database.

Changes reach the index only after their transaction commits: the outbox rows are
written in the transaction, and a single drainer re-reads the current rows by id and
applies them to Whoosh in one batched commit. In the app a background thread drains, so
no web request waits for Whoosh; tests and the CLI drain inline.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import delete, select, text
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
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Open the index; rebuild it when missing or corrupt (in the background in the app)."""
        if self.background:
            self._thread = threading.Thread(target=self._run, name="search-sync", daemon=True)
            self._thread.start()
        else:
            self._open_or_rebuild()
            self.drain()

    def _open_or_rebuild(self) -> None:
        if self.index is None:
            self.index = SearchIndex(self.index_dir, create=False)
        if self.index.exists():
            try:
                self.index.verify()
                self.available = True
                return
            except IndexUnavailable as error:
                log.warning(
                    "search index unusable: rebuilding", extra={"index_dir": str(self.index_dir), "error": str(error)}
                )
        else:
            log.warning("search index missing: rebuilding", extra={"index_dir": str(self.index_dir)})
        rebuild(self.session_factory, self.index)
        self.available = True

    def notify(self) -> None:
        """Some transaction committed outbox rows: drain them (now, or soon in the background)."""
        if self.background:
            self._wake.set()
        else:
            self.drain()

    def drain(self) -> int:
        """Drain the outbox now; failures are logged and left for the next attempt."""
        if self.index is None:
            return 0
        with self._lock, write_intent():
            try:
                return drain(self.session_factory, self.index)
            except IndexUnavailable as error:
                log.error("search index unusable while updating", extra={"error": str(error)})
                self.available = False
                return 0

    def _run(self) -> None:
        try:
            self._open_or_rebuild()
            self.drain()
        except Exception:
            log.exception("search index could not be opened or rebuilt; search uses the database")
        while not self._stop.is_set():
            self._wake.wait(SAFETY_INTERVAL_SECONDS)
            self._wake.clear()
            try:
                if not self.available:
                    self._open_or_rebuild()
                self.drain()
            except Exception:
                log.exception("search index update failed; will retry")

    def stop(self) -> None:
        """Stop the background thread (tests and shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.index is not None:
            self.index.close()
