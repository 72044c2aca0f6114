"""The suggestion engine: one matcher per process, built from stored vectors and kept
current by reading what changed since it last looked.

Vectors are computed once per item text and stored with the model's name, so a restart
never re-encodes and a model change re-embeds. Every process keeps its own matcher and
catches up from the database (``updated_at`` watermark), so several app servers agree
without talking to each other.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import hashlib
import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import numpy as np
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from threadpoolctl import ThreadpoolController

import matching
from marketplace.db import kept_for_state, write_intent
from marketplace.models import ListingEmbedding, Need, Offer, Pledge
from marketplace.services.errors import ServiceUnavailable
from marketplace.suggestions.documents import need_document, offer_document

log = logging.getLogger(__name__)

BATCH = 500
# Ids in one IN (...) list: SQLite allows 32,766 parameters per statement.
_IDS_PER_QUERY = 10_000
# A snapshot this many changes behind (or a quarter of the items) is rebuilt rather than patched.
SNAPSHOT_REBUILD_AT = 5_000
LEXICAL_ONLY = "lexical-only"
# Reasons kept per pair until the matcher changes (a few hundred bytes each).
REASONS_KEPT = 10_000
# Ranked answers kept until the matcher changes (thirty suggestions each, a few KB).
ANSWERS_KEPT = 1_000

T = TypeVar("T")

# A suggestion query is one matrix-vector product over every item: far too small to gain from
# BLAS threads, which spin on every core while they wait. With one web worker per core they
# doubled the CPU of a page with suggestions, so queries run with one BLAS thread.
_BLAS = ThreadpoolController()


def _text_hash(document: matching.Need | matching.Offer) -> str:
    return hashlib.sha256(matching.item_text(document).encode("utf-8")).hexdigest()


def _release_freed_memory() -> None:
    """Free what a dropped matcher held and give the freed memory back to the system.

    A built matcher holds reference cycles, so it is freed at a collection, not when dropped;
    and glibc keeps freed small blocks in the process for reuse unless asked to return them
    (at 10k items, 85 MiB of a worker that built its matcher stayed resident without this).
    Elsewhere than glibc only the collection is done.
    """
    gc.collect()
    with contextlib.suppress(AttributeError, OSError):  # not glibc: its allocator decides
        ctypes.CDLL(None).malloc_trim(0)


def _unavailable(error: matching.ModelUnavailable) -> ServiceUnavailable:
    """Log the missing model once and say so to the person, with what to do."""
    log.error("embedding model unavailable", extra={"error": str(error)})
    return ServiceUnavailable(f"Suggestions are unavailable: {error}")


@dataclass(frozen=True)
class Stamps:
    """The newest change to needs, offers and pledges, as one read saw them.

    Every suggestion reads them (one round trip) to let the matcher catch up, so whatever
    else a process keeps from the database is checked against them too.
    """

    needs: datetime | None
    offers: datetime | None
    pledges: datetime | None

    @property
    def items(self) -> datetime | None:
        """The newest change to any need or offer (the matcher's watermark)."""
        return max(filter(None, (self.needs, self.offers)), default=None)


# Built once: every suggestion runs it.
_NEWEST_CHANGES = select(
    select(func.max(Need.updated_at)).scalar_subquery(),
    select(func.max(Offer.updated_at)).scalar_subquery(),
    select(func.max(Pledge.updated_at)).scalar_subquery(),
)


def _current(stored: Mapping[str, ListingEmbedding], hashes: Mapping[str, str]) -> dict[str, np.ndarray]:
    """The stored vectors whose text is the document's current text, by id."""
    return {
        item_id: np.frombuffer(row.vector, dtype="<f4")
        for item_id, row in stored.items()
        if row.text_hash == hashes[item_id]
    }


@dataclass
class _Update:
    """What a catch-up read for the matcher in one transaction: needs and offers to put in (with
    their stored vectors, by kind and id) and the ids of items to take out.
    """

    needs: list[matching.Need] = field(default_factory=list)
    offers: list[matching.Offer] = field(default_factory=list)
    vectors: dict[str, dict[str, np.ndarray]] = field(default_factory=lambda: {"need": {}, "offer": {}})
    gone_needs: list[str] = field(default_factory=list)
    gone_offers: list[str] = field(default_factory=list)

    def open_documents(self) -> tuple[tuple[str, list[matching.Need]], tuple[str, list[matching.Offer]]]:
        """The open documents by kind: the only ones the matcher keeps vectors for."""
        return (
            ("need", [n for n in self.needs if n.status == "open"]),
            ("offer", [o for o in self.offers if o.status == "open"]),
        )

    def apply(self, matcher: matching.Matcher) -> None:
        """Change the matcher: take out what is gone, put in (or replace) what changed."""
        for need_id in self.gone_needs:
            matcher.remove_need(need_id)
        for offer_id in self.gone_offers:
            matcher.remove_offer(offer_id)
        for need in self.needs:
            matcher.upsert_need(need, self.vectors["need"].get(need.id))
        for offer in self.offers:
            matcher.upsert_offer(offer, self.vectors["offer"].get(offer.id))


@dataclass
class _Opened:
    """A snapshot's matcher and what changed in the database since it was saved."""

    matcher: matching.Matcher
    update: _Update
    versions: dict[str, dict[str, str]]
    total: int
    count: int
    announce: bool


# What the stamps are kept under on a connection (see ``db.kept_for_state``).
_STAMPS_KEY = "suggestion stamps"


class SuggestionEngine:
    """Owns the process's matcher; thread-safe."""

    def __init__(
        self,
        session_factory: sessionmaker,
        model: str | None = None,
        *,
        encoder: matching.SemanticEncoder | None = None,
        snapshot_dir: Path | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.model = model
        # Where the built matcher is saved for the next worker to open (None: every worker builds).
        self.snapshot_dir = snapshot_dir
        self._lock = threading.RLock()
        self._matcher: matching.Matcher | None = None
        # An encoder given here is used as it is (the bench passes one that remembers vectors
        # between runs); otherwise the configured model is loaded on first use.
        self._encoder: matching.SemanticEncoder | matching.LazySemanticEncoder | None = encoder
        self._encoder_loaded = encoder is not None
        self._watermark: datetime | None = None
        # The stamps the last catch-up read, and what was read from the database as of them.
        self._stamps: Stamps | None = None
        self._kept: dict[str, tuple[Stamps, object]] = {}
        # Reasons by (need id, offer id, via offer), and ranked answers by what was asked,
        # while the matcher is unchanged.
        self._reasons: dict[tuple[int, int, bool], tuple[str, ...]] = {}
        self._answers: dict[Hashable, matching.Suggestions] = {}

    @property
    def model_name(self) -> str:
        """The name stored beside vectors (``lexical-only`` when no model is configured)."""
        encoder = self.encoder()
        return encoder.model_name if encoder is not None else LEXICAL_ONLY

    def encoder(self) -> matching.SemanticEncoder | matching.LazySemanticEncoder | None:
        """The sentence encoder (its model loaded on first encode); None for lexical-only matching.

        Raises:
            ServiceUnavailable: when the configured model is not installed, saying what to do.
        """
        with self._lock:
            if not self._encoder_loaded:
                try:
                    # The model itself loads when text is first encoded: a worker whose items
                    # all have stored vectors never holds it (about 300 MiB less per worker).
                    self._encoder = matching.lazy_semantic_encoder(self.model)
                except matching.ModelUnavailable as error:
                    raise _unavailable(error) from error
                self._encoder_loaded = True
            return self._encoder

    def store_vectors(
        self,
        session: Session,
        kind: str,
        documents: list[matching.Need] | list[matching.Offer],
        progress: Callable[[int, int], None] | None = None,
        encoded: Mapping[str, np.ndarray] | None = None,
    ) -> tuple[dict[str, np.ndarray], int]:
        """The stored vectors of these documents, encoding and storing the missing or stale ones.

        Args:
            progress: called as ``progress(done, total)`` while texts are encoded.
            encoded: vectors this engine's encoder has already made, by text
                (``matching.item_text``): a bulk load encodes a chunk's texts while its
                database work runs. Missing or stale documents whose text is here are stored
                without encoding; the others are encoded now.

        Returns:
            The vectors by document id, and how many were missing or stale (encoded now or
            taken from ``encoded``).
        """
        encoder = self.encoder()
        if encoder is None or not documents:
            return {}, 0
        hashes, stored = self._stored_rows(session, kind, documents, encoder.model_name)
        vectors = _current(stored, hashes)
        missing = [doc for doc in documents if doc.id not in vectors]
        if missing:
            ready = encoded or {}
            texts = {doc.id: matching.item_text(doc) for doc in missing} if ready else {}
            todo = [doc for doc in missing if texts.get(doc.id) not in ready]
            fresh = iter(matching.embed_items(todo, encoder, progress=progress) if todo else ())
            try:
                # Every worker keeps its own matcher, so two may encode the same new item at
                # once: the one that stores second keeps its vectors in memory and moves on.
                with session.begin_nested():
                    for doc in missing:
                        text = texts.get(doc.id)
                        vector = np.asarray(ready[text] if text in ready else next(fresh), dtype="<f4")
                        row = stored.get(doc.id) or ListingEmbedding(
                            kind=kind, item_id=int(doc.id), model=encoder.model_name
                        )
                        row.text_hash = hashes[doc.id]
                        row.vector = vector.tobytes()
                        session.add(row)
                        vectors[doc.id] = vector
            except IntegrityError:
                log.info("vectors stored meanwhile by another process", extra={"kind": kind, "items": len(missing)})
        return vectors, len(missing)

    @staticmethod
    def _stored_rows(
        session: Session, kind: str, documents: list[matching.Need] | list[matching.Offer], model_name: str
    ) -> tuple[dict[str, str], dict[str, ListingEmbedding]]:
        """Each document's text hash, and its stored vector row under this model (if any), by id."""
        hashes = {doc.id: _text_hash(doc) for doc in documents}
        stored: dict[str, ListingEmbedding] = {}
        ids = [int(doc.id) for doc in documents]
        for start in range(0, len(ids), _IDS_PER_QUERY):
            rows = session.scalars(
                select(ListingEmbedding).where(
                    ListingEmbedding.kind == kind,
                    ListingEmbedding.model == model_name,
                    ListingEmbedding.item_id.in_(ids[start : start + _IDS_PER_QUERY]),
                )
            )
            stored.update((str(row.item_id), row) for row in rows)
        return hashes, stored

    def _read_vectors(self, session: Session, update: _Update) -> None:
        """Add to ``update`` the stored, current vectors of its open documents (reading only)."""
        encoder = self.encoder()
        if encoder is None:
            return
        for kind, documents in update.open_documents():
            if documents:
                hashes, stored = self._stored_rows(session, kind, documents, encoder.model_name)
                update.vectors[kind].update(_current(stored, hashes))

    def _store_missing(self, update: _Update) -> None:
        """Encode the open documents of ``update`` that have no current stored vector, and store them.

        Called outside any transaction: the texts are encoded first, and only then is a short
        writing transaction of its own opened to store them. On SQLite a writing transaction
        holds the database's only write lock; reading 100,000 items inside one kept every other
        write waiting for up to a minute (and failing past the busy timeout).
        """
        encoder = self.encoder()
        if encoder is None:
            return
        for kind, documents in update.open_documents():
            missing = [doc for doc in documents if doc.id not in update.vectors[kind]]
            if not missing:
                continue
            texts = [matching.item_text(doc) for doc in missing]
            encoded = dict(zip(texts, matching.embed_items(missing, encoder), strict=True))
            with write_intent(), self.session_factory() as session:
                vectors, _ = self.store_vectors(session, kind, missing, encoded=encoded)
                session.commit()
            update.vectors[kind].update(vectors)

    @staticmethod
    def _changed(session: Session, since: datetime | None) -> _Update:
        """Open needs and offers (first build), or everything changed since the watermark."""

        def query(model):
            if since is None:
                return select(model).where(model.status == "open")
            return select(model).where(model.updated_at >= since)

        needs = session.scalars(query(Need).options(selectinload(Need.outcomes)))
        offers = session.scalars(query(Offer).options(selectinload(Offer.districts)))
        return _Update([need_document(n) for n in needs], [offer_document(o) for o in offers])

    @staticmethod
    def stamps(session: Session | Connection) -> Stamps:
        """The newest change to needs, offers and pledges (one round trip, three index lookups)."""
        needs, offers, pledges = session.execute(_NEWEST_CHANGES).one()
        return Stamps(needs, offers, pledges)

    def _kept_stamps(self, session: Session) -> Stamps:
        # Read again only when the database's state has changed since this connection last
        # read them: asking for the state costs a tenth of the three lookups.
        return kept_for_state(session, _STAMPS_KEY, lambda: self.stamps(session))

    def _read_stamps(self) -> Stamps:
        bind = self.session_factory.kw.get("bind")
        with write_intent(False):
            if isinstance(bind, Engine):
                # A connection of its own without an ORM session: a third of the CPU, on every call.
                with bind.connect() as connection:
                    return self.stamps(connection)
            with self.session_factory() as session:  # bound to one connection (tests)
                return self.stamps(session)

    def _saw(self, stamps: Stamps) -> None:
        # What was kept as of other stamps is read again when next asked for (and let go of
        # now, so that what is kept stays as small as one interval's askers).
        if stamps != self._stamps:
            self._kept.clear()
        self._stamps = stamps

    def kept(self, key: str, read: Callable[[], tuple[Stamps, T]]) -> T:
        """A value read from the database, kept in this process until something changes.

        Call it after a catch-up (inside :meth:`run`'s action): the value is used again while
        the stamps the catch-up read equal those ``read`` returned with it (read them in the
        same transaction, before the value), so a change committed by any process is seen by
        the next call.
        """
        with self._lock:
            found = self._kept.get(key)
            if found is not None and self._stamps is not None and found[0] == self._stamps:
                return found[1]  # type: ignore[return-value]
            stamps, value = read()
            self._kept[key] = (stamps, value)
            return value

    def _matcher_changed(self) -> None:
        self._reasons.clear()
        self._answers.clear()

    def answer(self, asked: Hashable, rank: Callable[[], matching.Suggestions]) -> matching.Suggestions:
        """The matcher's answer to a question asked before, if it has not changed since.

        Call it inside :meth:`run`'s action, with everything the answer depends on besides
        the matcher in ``asked`` (the item, how many, the day, the lists it excludes): a
        page asked again, by anyone, is then not ranked again until a need or offer changes.
        """
        with self._lock:
            found = self._answers.get(asked)
            if found is None:
                found = rank()
                if len(self._answers) >= ANSWERS_KEPT:
                    self._answers.clear()
                self._answers[asked] = found
            return found

    def catch_up(self, session: Session | None = None) -> matching.Matcher:
        """Build the matcher on first use; afterwards apply what changed since the last look.

        Args:
            session: the caller's, whose connection the newest changes are read on (one
                connection fewer per call); otherwise the engine uses a connection of its own.

        Raises:
            ServiceUnavailable: the model had to encode a text and could not be loaded.
        """
        try:
            return self._catch_up(session)
        except matching.ModelUnavailable as error:
            raise _unavailable(error) from error

    def _behind(self, newest: datetime | None) -> bool:
        # Strictly newer: rows stamped exactly at the watermark are re-read (``>=`` in
        # ``_changed``) once something newer arrives, not on every request. A bulk change
        # (expire-needs) stamps thousands of rows alike, and re-reading them on every request
        # made each suggestion pay for all of them.
        return newest is not None and (self._watermark is None or newest > self._watermark)

    def _catch_up(self, session: Session | None = None) -> matching.Matcher:
        with self._lock:
            if self._matcher is not None:
                # Nearly every call finds nothing new: ask in a read-only transaction, so that
                # on SQLite it does not take the write lock that storing vectors would need
                # (the caller's transaction, when given, is whatever its request declared).
                stamps = self._kept_stamps(session) if session is not None else self._read_stamps()
                self._saw(stamps)
                newest = stamps.items
                if not self._behind(newest):
                    self._watermark = newest
                    return self._matcher
            return self._catch_up_writing()

    def _catch_up_writing(self) -> matching.Matcher:
        # Read in a read-only transaction; only vectors that are missing are written, in a
        # short transaction of their own (``_store_missing``), then the matcher is changed.
        with self._lock:
            with write_intent(False), self.session_factory() as session:
                stamps = self.stamps(session)
                self._saw(stamps)
                newest = stamps.items
                opened: _Opened | None = None
                update: _Update | None = None
                versions: dict[str, dict[str, str]] = {}
                if self._matcher is None:
                    self._matcher_changed()
                    # Checked against the database as it is now: nothing older to catch up on.
                    opened = self._open_snapshot(session) if self.snapshot_dir else None
                    if opened is None:
                        # The versions first: an item changed while the documents are read is
                        # then older in the snapshot than in the database, and refreshed on the
                        # next open.
                        versions = self._versions(session) if self.snapshot_dir else {}
                        update = self._changed(session, None)
                        self._read_vectors(session, update)
                elif self._behind(newest):
                    self._matcher_changed()
                    update = self._changed(session, self._watermark)
                    self._read_vectors(session, update)
            if opened is not None:
                self._matcher = self._finish_snapshot(opened)
            elif update is not None and self._matcher is None:
                self._store_missing(update)
                self._matcher = matching.Matcher.build(
                    update.needs,
                    update.offers,
                    update.vectors["need"] or None,
                    update.vectors["offer"] or None,
                    encoder=self.encoder(),
                )
                log.info("matcher built", extra={"needs": len(update.needs), "offers": len(update.offers)})
                if self.snapshot_dir and self._save_snapshot(self._matcher, versions):
                    # Served from the files just saved, as every further worker is: their pages
                    # are shared by the machine's workers, and the private copy just built (at
                    # 100k items, the vectors alone are 150 MiB) is released.
                    with write_intent(False), self.session_factory() as session:
                        saved = self._open_snapshot(session, announce=False)
                    if saved is not None:
                        self._matcher = self._finish_snapshot(saved)
                        _release_freed_memory()
            elif update is not None:
                self._store_missing(update)
                update.apply(self._matcher)
            self._watermark = newest
            return self._matcher

    # -- the snapshot the workers of one machine share --------------------------------------

    def _source(self) -> str:
        # Which database a snapshot was made from (its URL without the password).
        bind = self.session_factory.kw["bind"]
        engine = getattr(bind, "engine", bind)  # sessions may be bound to a connection
        return engine.url.render_as_string(hide_password=True)

    @staticmethod
    def _versions(session: Session) -> dict[str, dict[str, str]]:
        """Each open item's version (its ``updated_at``) by kind and id: one narrow query per side."""
        out: dict[str, dict[str, str]] = {}
        for kind, model in (("need", Need), ("offer", Offer)):
            rows = session.execute(select(model.id, model.updated_at).where(model.status == "open"))
            out[kind] = {str(item_id): stamp.isoformat() if stamp else "" for item_id, stamp in rows}
        return out

    def _save_snapshot(self, matcher: matching.Matcher, versions: dict[str, dict[str, str]]) -> bool:
        """Save the matcher for the next worker; False (and a warning) when it could not be written."""
        assert self.snapshot_dir is not None
        try:
            matching.snapshot.save(matcher, self.snapshot_dir, versions, self._source())
        except OSError as error:
            # Only start-up speed is lost: the next worker builds its matcher itself.
            log.warning("matcher snapshot not saved", extra={"error": str(error)})
            return False
        return True

    def _open_snapshot(self, session: Session, *, announce: bool = True) -> _Opened | None:
        """The matcher from the shared snapshot and what changed since it was saved (read only).

        None when there is no usable snapshot, or when so much changed that building is as quick.
        ``announce=False`` when the worker has just built and saved it: it said "matcher built"
        (whoever waits for every worker's matcher counts one line per worker), and keeps what it
        built if the snapshot cannot be used. ``_finish_snapshot`` brings it up to date.
        """
        assert self.snapshot_dir is not None
        not_used = "matcher snapshot not used; " + ("building" if announce else "kept as built")
        encoder = self.encoder()
        empty = matching.Matcher(encoder=encoder, dimension=encoder.dimension if encoder is not None else 0)
        expected = matching.snapshot.describe(empty, self._source())
        opened = matching.snapshot.open_snapshot(self.snapshot_dir, expected, empty)
        if opened is None:
            why = matching.snapshot.why_not(self.snapshot_dir, expected)
            log.info(not_used, extra={"reason": why})
            return None
        saved = opened.versions
        current = self._versions(session)
        changed = {kind: [i for i, v in current[kind].items() if saved[kind].get(i) != v] for kind in current}
        gone = {kind: [i for i in saved[kind] if i not in current[kind]] for kind in current}
        total = sum(len(ids) for ids in current.values())
        count = sum(len(ids) for ids in changed.values()) + sum(len(ids) for ids in gone.values())
        if count > max(SNAPSHOT_REBUILD_AT, total // 4):
            log.info(not_used, extra={"reason": f"{count:,} changes since it was saved"})
            return None
        update = _Update(gone_needs=gone["need"], gone_offers=gone["offer"])
        for kind, model in (("need", Need), ("offer", Offer)):
            ids = [int(i) for i in changed[kind]]
            for start in range(0, len(ids), BATCH):
                options = selectinload(Need.outcomes) if model is Need else selectinload(Offer.districts)
                rows = session.scalars(select(model).options(options).where(model.id.in_(ids[start : start + BATCH])))
                if kind == "need":
                    update.needs.extend(need_document(row) for row in rows)  # type: ignore[arg-type]
                else:
                    update.offers.extend(offer_document(row) for row in rows)  # type: ignore[arg-type]
        self._read_vectors(session, update)
        return _Opened(opened.matcher, update, current, total, count, announce)

    def _finish_snapshot(self, opened: _Opened) -> matching.Matcher:
        """Apply to a snapshot's matcher what changed since it was saved (outside any transaction)."""
        self._store_missing(opened.update)
        opened.update.apply(opened.matcher)
        if opened.announce:
            log.info("matcher opened from snapshot", extra={"items": opened.total, "changes": opened.count})
        if opened.count > opened.total // 50:
            self._save_snapshot(opened.matcher, opened.versions)  # the next worker starts from where this one is
        return opened.matcher

    def warm_up(self) -> None:
        """Load the model and build the matcher in the background, so the first page is fast."""

        def build() -> None:
            try:
                self.catch_up()
            except Exception:
                log.exception("matcher warm-up failed; suggestions will try again on first use")

        threading.Thread(target=build, name="matcher-warm-up", daemon=True).start()

    def embed_all(self, progress: Callable[[int], None] | None = None) -> int:
        """Store vectors for every need and offer (``marketplace reindex``).

        Args:
            progress: called with the number of items looked at in each batch.

        Returns:
            How many items had to be encoded.
        """
        encoded = 0
        with self.session_factory() as session:
            for model, kind, to_document in ((Need, "need", need_document), (Offer, "offer", offer_document)):
                options = selectinload(Need.outcomes) if model is Need else selectinload(Offer.districts)
                last_id = 0
                while rows := list(
                    session.scalars(
                        select(model).options(options).where(model.id > last_id).order_by(model.id).limit(BATCH)
                    )
                ):
                    _, count = self.store_vectors(session, kind, [to_document(row) for row in rows])
                    session.commit()
                    encoded += count
                    if progress is not None:
                        progress(len(rows))
                    last_id = rows[-1].id
                    session.expunge_all()
        with self._lock:
            self._matcher = None  # rebuilt from the stored vectors on next use
            self._matcher_changed()
        return encoded

    def run(
        self, action: Callable[[matching.Matcher], matching.Suggestions], session: Session | None = None
    ) -> matching.Suggestions:
        """Run a query against the current matcher, holding its lock (the matcher is not thread-safe).

        Args:
            action: the query.
            session: the caller's, for the catch-up's check (see :meth:`catch_up`).
        """
        with self._lock:
            matcher = self.catch_up(session)
            try:
                with _BLAS.limit(limits=1, user_api="blas"):
                    return action(matcher)
            except KeyError:
                # The item changed state between the caller's read and the matcher's catch-up.
                return matching.Suggestions(items=(), no_good_match=True, threshold=0.0)

    def explain(
        self, pairs: list[tuple[int, int]], *, via_offer: bool = False
    ) -> dict[tuple[int, int], tuple[str, ...]]:
        """Reasons for (need id, offer id) pairs, from the matcher as it is.

        No catch-up: the pairs come from a suggestion just made by this engine. A pair's
        reasons are kept until the matcher next changes (a change to either text, or to the
        word weights, which any change of text moves).
        """
        with self._lock:
            if self._matcher is None or not pairs:
                return {}
            wanted = [(n, o) for n, o in pairs if (n, o, via_offer) not in self._reasons]
            if wanted:
                # No BLAS limit here (setting and restoring it cost more than the call's
                # numerics): a pair's only product is one vector dot, which OpenBLAS runs on
                # one thread below 10,000 elements anyway.
                found = self._matcher.explain_pairs([(str(n), str(o)) for n, o in wanted], via_offer=via_offer)
                if len(self._reasons) + len(found) > REASONS_KEPT:
                    self._reasons.clear()
                self._reasons.update({(int(n), int(o), via_offer): why for (n, o), why in found.items()})
            return {(n, o): why for n, o in pairs if (why := self._reasons.get((n, o, via_offer))) is not None}


def ids(suggestions: Iterable[matching.Suggestion]) -> list[int]:
    """The database ids of suggested items."""
    return [int(s.id) for s in suggestions]
