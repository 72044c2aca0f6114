"""The :class:`SearchIndex` facade: open or create, write batches, rebuild, check, search."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index

from search_index import ranking, storage
from search_index.check import CheckReport, compare
from search_index.docsets import Snapshot
from search_index.documents import PUBLIC, IndexedItem, Viewer, parse_key
from search_index.errors import IndexUnavailable, unavailable_on_error
from search_index.query import (
    ANY_STATUS,
    SearchQuery,
    highlight_terms,
    make_parser,
    matching_mask,
    parse,
    sanitise,
)
from search_index.results import FacetValue, SearchHit, SearchResults
from search_index.schema import FACET_FIELDS, build_schema, timestamp_us
from search_index.snippets import highlight_whole, snippet
from search_index.writer import (
    apply_batch,
    build_generation,
    locked_writer,
    merge_batches,
    open_generation,
    prepare_batch,
    write_batch,
)

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
_LETTERS = re.compile(r"[^\W\d_]+")
# Stored text fields whose words may be suggested ("did you mean").
_SUGGEST_FIELDS = ("title", "description")

Progress = Callable[[int], None]


@dataclasses.dataclass(frozen=True, slots=True)
class RebuildReport:
    """What a rebuild did."""

    items: int  # documents written
    duplicates: int  # items skipped because their key was already written
    replayed: int  # changes written by other processes during the rebuild, replayed
    seconds: float
    generation: str  # name of the new generation directory


class SearchIndex:
    """A Whoosh full-text index of needs and offers in one directory.

    One instance per process is meant to be shared (it caches an open searcher and the
    document masks, and is safe to use from several threads); any number of processes
    may open the same path. Writers wait for Whoosh's write lock, so concurrent batches
    from several processes are all kept.

    Args:
        path: The index directory (created if missing).
        create: Create an empty index if the directory holds none yet. A directory with
            index generations but no valid pointer is left alone: it is reported as
            :class:`IndexUnavailable` so the caller rebuilds it.
        hidden_statuses: Statuses only the owning organisation and officers may see.
        default_statuses: Statuses searched when :attr:`SearchQuery.status` is None.
        lock_timeout: Seconds a writer waits for another writer.
        suggest_below: Offer a "did you mean" when a query finds fewer results.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        create: bool = True,
        hidden_statuses: Iterable[str] = ("withdrawn",),
        default_statuses: Iterable[str] = ("open",),
        lock_timeout: float = 60.0,
        suggest_below: int = 3,
    ) -> None:
        self.path = Path(path)
        self.hidden_statuses = tuple(hidden_statuses)
        self.default_statuses = tuple(default_statuses)
        self.lock_timeout = lock_timeout
        self.suggest_below = suggest_below
        self._schema = build_schema()
        self._parser = make_parser(self._schema)
        self._lock = threading.RLock()
        self._snapshot: Snapshot | None = None
        self._snapshot_generation: Path | None = None
        self._segment_cache: dict = {}
        if create:
            self._create_if_missing()

    # -- lifecycle -------------------------------------------------------------------

    def _create_if_missing(self) -> None:
        try:
            if storage.current_generation(self.path) is not None:
                return
        except IndexUnavailable:
            return  # broken: the caller finds out on first use and rebuilds
        if self.path.is_dir() and any(p.name.startswith("gen-") for p in self.path.iterdir()):
            return  # generations but no pointer: broken, do not hide it behind an empty index
        with storage.rebuild_lock(self.path, self.lock_timeout):
            if storage.current_generation(self.path) is not None:
                return  # another process created it meanwhile
            generation = storage.new_generation(self.path)
            whoosh_index.create_in(str(generation), self._schema)
            storage.point_to(self.path, generation)

    def exists(self) -> bool:
        """Tell whether an index (possibly empty) is in place.

        Returns:
            True if the pointer names an existing generation.
        """
        try:
            return storage.current_generation(self.path) is not None
        except IndexUnavailable:
            return False

    def verify(self) -> int:
        """Open the index and read its facet data, to detect a missing or corrupt index.

        Returns:
            The number of indexed documents.

        Raises:
            IndexUnavailable: If the index is missing or unreadable.
        """
        with self._lock:
            return self._current().live_count

    def close(self) -> None:
        """Close the cached searcher (the instance reopens one when used again)."""
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.searcher.close()
            self._snapshot = None
            self._snapshot_generation = None
            self._segment_cache = {}

    def _current(self) -> Snapshot:
        """Return a snapshot of the latest committed index, reopening only if it changed."""
        generation = storage.current_generation(self.path)
        if generation is None:
            raise IndexUnavailable(f"no search index at {self.path}")
        snapshot = self._snapshot
        if snapshot is not None and generation == self._snapshot_generation:
            try:
                if snapshot.searcher.up_to_date():
                    return snapshot
            except Exception:  # directory vanished or TOC unreadable: reopen
                log.debug("search index changed under the cached searcher", exc_info=True)
        else:
            self._segment_cache = {}
        ix = open_generation(generation)

        def open_snapshot() -> Snapshot:
            snapshot = Snapshot(ix.searcher(), self._segment_cache)
            snapshot.warm()
            return snapshot

        fresh = unavailable_on_error(open_snapshot, f"search index at {generation}")
        for segid in set(self._segment_cache) - fresh.segment_ids:
            del self._segment_cache[segid]
        if snapshot is not None:
            snapshot.searcher.close()
        self._snapshot = fresh
        self._snapshot_generation = generation
        return fresh

    # -- writing ---------------------------------------------------------------------

    def apply(self, upserts: Iterable[IndexedItem] = (), deletes: Iterable[str] = ()) -> None:
        """Add, replace and delete documents in one commit.

        Idempotent: applying the same batch twice leaves the same index. Within a batch
        the last upsert of a key wins and a deletion beats an upsert.

        Args:
            upserts: Items to add or replace (matched by key).
            deletes: Keys (``"need:12"``) to remove; unknown keys are ignored.

        Raises:
            IndexUnavailable: If there is no readable index (rebuild it).
            IndexBusy: If other writers held the lock longer than ``lock_timeout``.
        """
        docs, keys = prepare_batch(upserts, deletes)
        apply_batch(self.path, docs, keys, self.lock_timeout)

    def rebuild(
        self, items: Iterable[IndexedItem], progress: Progress | None = None, *, workers: int = 1
    ) -> RebuildReport:
        """Build a complete new index from ``items`` and swap it in atomically.

        Readers keep using the old index until the swap and never see a partial one.
        Batches that other processes apply while the rebuild runs are journaled and
        replayed into the new index before the swap, so pass ``items`` as a lazy
        iterable that reads the database *after* this call starts.

        Args:
            items: Every item that should be indexed.
            progress: Called with the number of items written so far (every 1,000).
            workers: Indexing processes (see :func:`build_generation`); 1 unless the caller
                is a command-line process rebuilding many items.

        Returns:
            A :class:`RebuildReport`.

        Raises:
            IndexBusy: If another rebuild is running for longer than ``lock_timeout``.
        """
        started = time.perf_counter()
        root = self.path
        with storage.rebuild_lock(root, self.lock_timeout):
            storage.start_journal(root)
            generation = storage.new_generation(root)
            swapped = False
            try:
                written, duplicates = build_generation(generation, self._schema, items, progress, workers=workers)
                old = self._old_generation()
                old_ix = self._try_open(old)
                guard = locked_writer(old_ix, self.lock_timeout) if old_ix is not None else nullcontext()
                with guard:
                    # No other writer can commit to the old index now: replay what they
                    # committed during the build, then swap.
                    docs, deletes = merge_batches(storage.read_journal(root))
                    if docs or deletes:
                        with locked_writer(open_generation(generation), self.lock_timeout) as writer:
                            write_batch(writer, docs, deletes)
                            writer.commit()
                    storage.point_to(root, generation)
                    swapped = True
                    if old is not None:
                        storage.retire(old)
                    storage.end_journal(root)
            finally:
                if not swapped:
                    storage.end_journal(root)
                    shutil.rmtree(generation, ignore_errors=True)
            storage.remove_old_generations(root, keep={p for p in (generation, old) if p is not None})
        seconds = time.perf_counter() - started
        log.info("search index rebuilt: %d items in %.1f s (%s)", written, seconds, generation.name)
        return RebuildReport(written, duplicates, len(docs) + len(deletes), seconds, generation.name)

    def _old_generation(self) -> Path | None:
        try:
            return storage.current_generation(self.path)
        except IndexUnavailable:
            return None

    @staticmethod
    def _try_open(generation: Path | None) -> whoosh_index.Index | None:
        if generation is None:
            return None
        try:
            return open_generation(generation)
        except IndexUnavailable:
            return None

    def check(self, items: Iterable[IndexedItem], *, fix: bool = False) -> CheckReport:
        """Compare the index with the items it should hold, and optionally repair it.

        Args:
            items: Every item that should be indexed (read from the database).
            fix: Re-index missing and stale items and delete extra keys, in one batch.

        Returns:
            A :class:`CheckReport` (computed before any fix).

        Raises:
            IndexUnavailable: If the index is missing or corrupt (rebuild instead).
        """
        expected: dict[str, int] = {}
        by_key: dict[str, IndexedItem] = {}
        for item in items:
            expected[item.key] = timestamp_us(item.updated_at)
            by_key[item.key] = item
        indexed: dict[str, int] = {}
        duplicates: set[str] = set()
        with self._lock:
            snapshot = self._current()
            updated = snapshot.column("updated")
            for docnum, stored in snapshot.searcher.reader().iter_docs():
                key = stored["key"]
                if key in indexed:
                    duplicates.add(key)
                indexed[key] = int(updated[docnum])
        missing, stale, extra = compare(expected, indexed, duplicates)
        report = CheckReport(tuple(missing), tuple(stale), tuple(extra), checked=len(expected))
        if fix and not report.ok:
            reindex = [by_key[k] for k in (*missing, *stale, *extra) if k in by_key]
            self.apply(reindex, [k for k in extra if k not in by_key])
            report = dataclasses.replace(report, fixed=True)
        return report

    # -- searching -------------------------------------------------------------------

    def search(self, query: SearchQuery, viewer: Viewer = PUBLIC) -> SearchResults:
        """Search needs and offers.

        Never raises on a malformed query string: unparseable syntax is read as words.

        Args:
            query: The query string, filters, sort and page.
            viewer: Who is searching; decides which withdrawn and unverified items show.

        Returns:
            The requested page, the total, facet counts and perhaps a suggestion.

        Raises:
            IndexUnavailable: If the index is missing or corrupt.
        """
        page = max(1, int(query.page))
        per_page = min(MAX_PER_PAGE, max(1, int(query.per_page)))
        q = sanitise(query.q)
        with self._lock:
            snapshot = self._current()
            parsed = parse(self._parser, q)
            base = self._visible(snapshot, viewer)
            if parsed is not None:
                base &= matching_mask(parsed, snapshot)
            filters = self._filters(snapshot, query)
            result = _and_all(base, filters.values())
            total = int(np.count_nonzero(result))
            facets = self._facets(snapshot, base, filters, query)
            start = (page - 1) * per_page
            if start >= total:
                ranked: list[tuple[int, float | None]] = []
            elif parsed is not None and query.sort == "relevance":
                ranked = ranking.top(snapshot, parsed, result, start, per_page)
            else:
                ranked = self._by_newest(snapshot, result, start, per_page)
            # The query's words to mark, once for the page rather than once per hit.
            terms = (
                (highlight_terms(parsed, "title"), highlight_terms(parsed, "description"))  # type: ignore[arg-type]
                if parsed is not None
                else (frozenset(), frozenset())
            )
            hits = tuple(self._hit(snapshot, terms, docnum, score) for docnum, score in ranked)
            suggestion = None
            if parsed is not None and total < self.suggest_below:
                suggestion = self._suggest(snapshot, q, total, viewer, query)
        return SearchResults(hits, total, page, per_page, facets, suggestion, q)

    def _visible(self, snapshot: Snapshot, viewer: Viewer) -> np.ndarray:
        if viewer.is_officer:
            return snapshot.live.copy()
        visible = snapshot.live & snapshot.value("verified", "1")
        for status in self.hidden_statuses:
            visible &= ~snapshot.value("status", status)
        if viewer.organisation_id is not None:
            visible |= snapshot.term("organisation_id", str(viewer.organisation_id))
        return visible

    def _filters(self, snapshot: Snapshot, query: SearchQuery) -> dict[str, np.ndarray]:
        filters = {field: snapshot.value(field, value) for field, value in query.filters().items() if value is not None}
        if query.status is None:
            statuses: tuple[str, ...] = self.default_statuses
        elif query.status == ANY_STATUS:
            statuses = ()
        else:
            statuses = (query.status,)
        if statuses:
            mask = snapshot.empty()
            for status in statuses:
                mask |= snapshot.value("status", status)
            filters["status"] = mask
        return filters

    def _facets(
        self,
        snapshot: Snapshot,
        base: np.ndarray,
        filters: dict[str, np.ndarray],
        query: SearchQuery,
    ) -> dict[str, tuple[FacetValue, ...]]:
        selected = {**query.filters(), "status": query.status}
        facets = {}
        # Fields whose own filter is not set share one scope (usually all but status): each
        # scope is combined and its documents found once.
        scopes: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray | None]] = {}
        for field in FACET_FIELDS:
            # Every filter but this field's own: the counts say what picking another
            # value of this field would give.
            others = tuple(f for f in filters if f != field)
            if others not in scopes:
                scope = _and_all(base, (filters[f] for f in others))
                # A search's scope is usually a small share of the index: each value's mask is then
                # read at the scope's documents only, not combined with the scope over every document.
                scopes[others] = (scope, np.flatnonzero(scope) if np.count_nonzero(scope) * 8 < scope.size else None)
            scope, members = scopes[others]
            values = []
            for value, mask in snapshot.facet(field).items():
                if members is None:
                    count = int(np.count_nonzero(np.logical_and(scope, mask)))
                else:
                    count = int(np.count_nonzero(mask[members]))
                chosen = value == selected.get(field) or (
                    field == "status" and query.status is None and value in self.default_statuses
                )
                if count or chosen:
                    values.append(FacetValue(value, count, chosen))
            values.sort(key=lambda v: (-v.count, v.value))
            facets[field] = tuple(values)
        return facets

    @staticmethod
    def _by_newest(snapshot: Snapshot, result: np.ndarray, start: int, per_page: int) -> list[tuple[int, float | None]]:
        docnums = np.flatnonzero(result)
        created = snapshot.column("created")[docnums]
        wanted = start + per_page
        if len(docnums) > wanted:
            # Keep everything at least as new as the wanted-th newest (ties included),
            # then sort only those: deterministic pages without a full sort.
            threshold = np.partition(created, len(created) - wanted)[len(created) - wanted]
            keep = created >= threshold
            docnums, created = docnums[keep], created[keep]
        order = np.lexsort((-docnums, -created))[start:wanted]
        return [(int(docnums[i]), None) for i in order]

    def _hit(
        self, snapshot: Snapshot, terms: tuple[frozenset[str], frozenset[str]], docnum: int, score: float | None
    ) -> SearchHit:
        stored = snapshot.searcher.stored_fields(docnum)
        kind, item_id = parse_key(stored["key"])
        title = stored.get("title", "")
        description = stored.get("description", "")
        title_terms, text_terms = terms
        return SearchHit(
            kind=kind,
            id=item_id,
            title=title,
            title_html=highlight_whole(title, title_terms),
            snippet=snippet(description, text_terms),
            score=score,
        )

    def _suggest(self, snapshot: Snapshot, q: str, total: int, viewer: Viewer, query: SearchQuery) -> str | None:
        # The vocabulary is the index's own: unknown words are replaced by the most
        # frequent indexed stem within one (else two) edits, shown as a real word taken
        # from a document that contains it. No separate spelling field is indexed,
        # which keeps rebuilds fast.
        reader = snapshot.searcher.reader()
        analyzer = self._schema["title"].analyzer
        changed = False

        def replace(match: re.Match[str]) -> str:
            nonlocal changed
            word = match.group(0)
            if word in _OPERATORS:
                return word
            stems = [t.text for t in analyzer(word)]
            if len(stems) != 1 or any((f, stems[0]) in reader for f in _SUGGEST_FIELDS):
                return word
            for distance in (1, 2):
                frequency: dict[str, int] = {}
                for field in _SUGGEST_FIELDS:
                    for stem in reader.terms_within(field, stems[0], distance, prefix=1):
                        frequency[stem] = frequency.get(stem, 0) + reader.doc_frequency(field, stem)
                ranked = sorted(frequency, key=lambda s: (_edits(stems[0], s), -frequency[s], s))
                for stem in ranked:
                    surface = self._surface_form(snapshot, stem)
                    if surface:
                        changed = True
                        return surface
            return word

        suggestion = _LETTERS.sub(replace, q)
        if not changed or suggestion.lower() == q.lower():
            return None
        parsed = parse(self._parser, suggestion)
        if parsed is None:
            return None
        better = self._visible(snapshot, viewer) & matching_mask(parsed, snapshot)
        better = _and_all(better, self._filters(snapshot, query).values())
        return suggestion if int(np.count_nonzero(better)) > total else None

    def _surface_form(self, snapshot: Snapshot, stem: str) -> str | None:
        """A word as written in some document whose indexed stem is ``stem``."""
        for field in _SUGGEST_FIELDS:
            analyzer = self._schema[field].analyzer
            for docnum in np.flatnonzero(snapshot.term(field, stem))[:3]:
                text = snapshot.searcher.stored_fields(int(docnum)).get(field, "")
                for token in analyzer(text, chars=True, removestops=False):
                    if token.text == stem:
                        return text[token.startchar : token.endchar].lower()
        return None


def _edits(a: str, b: str) -> int:
    """Edit distance counting a swap of adjacent letters as one edit (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _and_all(base: np.ndarray, masks: Iterable[np.ndarray]) -> np.ndarray:
    result = base.copy()
    for mask in masks:
        np.logical_and(result, mask, out=result)
    return result
