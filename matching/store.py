"""The vector store: one kind of item (needs or offers) with its vectors and rule attributes.

A :class:`Side` keeps, per slot, the document, its unit vector (and, on a large side, its
projection for the approximate first stage: :mod:`matching.first_stage`), its hubness
neighbours (see :mod:`matching.hubness`), its lexical row (see :mod:`matching.lexical`) and the few
attributes the eligibility rules read as vectorised masks (category code, district bits,
expiry day). Slots are appended and killed one at a time; :func:`compacted` rebuilds a side
whose slots are mostly dead. :class:`Codebook` gives categories and districts the small
integer codes those masks compare.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields

import numpy as np
import scipy.sparse as sp

from matching.documents import COUNTY_WIDE, LOCAL_CATEGORIES, Item, Need
from matching.explain import TextWords, recorded_words, text_words, words_record
from matching.lexical import LexicalRows, Terms
from matching.vocabulary import MEASURE_CATEGORIES

NEVER = dt.date.max.toordinal()
"""The expiry day of an item without an end date."""
DISTRICT_BITS = 62
"""District masks are int64: more districts than this share bits (harmless below 62)."""
CACHED_VALUES = 64
"""Values per side cached until it changes (hubness, and the eligible slots per place rule)."""


class Codebook:
    """Small integer codes for categories and bits for district names, shared by both sides."""

    def __init__(self) -> None:
        self.categories: dict[str, int] = {}
        self.districts: dict[str, int] = {}

    def code(self, category: str | None) -> int:
        """The code of a category, assigned on first sight (-1 for none)."""
        if not category:
            return -1
        return self.categories.setdefault(category, len(self.categories))

    def known_code(self, category: str | None) -> int:
        """The code of a category already seen, else -2 (matches no stored item)."""
        return self.categories.get(category or "", -2)

    def bit(self, district: str) -> int:
        """The mask bit of a district name, assigned on first sight."""
        key = district.strip().casefold()
        index = self.districts.setdefault(key, len(self.districts))
        return 1 << (index % DISTRICT_BITS)

    def known_bits(self, districts: Sequence[str]) -> int:
        """The mask of district names already seen (unknown names add nothing)."""
        bits = 0
        for district in districts:
            index = self.districts.get(district.strip().casefold())
            if index is not None:
                bits |= 1 << (index % DISTRICT_BITS)
        return bits


class Documents:
    """A side's documents by slot.

    A built side holds them as objects. A side opened from a snapshot leaves the saved ones in
    the snapshot's files: each document's field values pickled into one blob, memory-mapped
    (shared by the workers of a machine, like the vectors) and made into a document only when
    one is asked for (a query, a suggestion explained); their titles likewise as UTF-8, for the
    suggestions listed, and the words reasons name (:func:`matching.explain.words_record`),
    for the suggestions explained; their ids as strings (ranking and ``pos`` need every one). As objects
    the documents of 100,000 items took about 100 MB in every worker. Documents added since
    are held as objects; a saved one removed is remembered as removed.

    Args:
        docs: documents held as objects, slot by slot.
    """

    def __init__(self, docs: Sequence[Item | None] = ()) -> None:
        self._kind: type[Item] | None = None
        self._ids: list[str] = []
        self._blob = self._titles = self._words = np.zeros(0, dtype=np.uint8)
        self._at = self._title_at = self._words_at = np.zeros((0, 2), dtype=np.int64)
        self._removed: set[int] = set()
        self._extra: list[Item | None] = list(docs)

    @classmethod
    def saved(
        cls,
        kind: type[Item],
        ids: list[str],
        blob: np.ndarray,
        at: np.ndarray,
        titles: np.ndarray,
        title_at: np.ndarray,
        words: np.ndarray,
        words_at: np.ndarray,
    ) -> Documents:
        """Documents left in a snapshot's arrays (see :meth:`values`).

        Args:
            kind: ``Need`` or ``Offer``.
            ids: the ids, slot by slot.
            blob: every document's pickled field values, one after another (uint8).
            at: each slot's ``(start, stop)`` in ``blob``.
            titles: the titles in UTF-8, one after another (uint8).
            title_at: each slot's ``(start, stop)`` in ``titles``.
            words: each document's words record in UTF-8, one after another (uint8).
            words_at: each slot's ``(start, stop)`` in ``words``.
        """
        docs = cls()
        docs._kind, docs._ids = kind, ids
        docs._blob, docs._at, docs._titles, docs._title_at = blob, at, titles, title_at
        docs._words, docs._words_at = words, words_at
        return docs

    def __len__(self) -> int:
        return len(self._ids) + len(self._extra)

    def __iter__(self) -> Iterator[Item | None]:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, i: int) -> Item | None:
        saved = len(self._ids)
        if i >= saved:
            return self._extra[i - saved]
        if i in self._removed:
            return None
        assert self._kind is not None
        start, stop = self._at[i]
        return self._kind(*pickle.loads(self._blob[start:stop]))

    def append(self, doc: Item) -> None:
        """Add the document of a new slot."""
        self._extra.append(doc)

    def remove(self, i: int) -> None:
        """Forget the document of slot ``i``."""
        saved = len(self._ids)
        if i >= saved:
            self._extra[i - saved] = None
        else:
            self._removed.add(i)

    def id(self, i: int) -> str | None:
        """The id of slot ``i`` (None once removed), without making its document."""
        saved = len(self._ids)
        if i >= saved:
            doc = self._extra[i - saved]
            return doc.id if doc is not None else None
        return None if i in self._removed else self._ids[i]

    def _saved(self, blob: np.ndarray, at: np.ndarray, i: int) -> bytes | None:
        """Slot ``i``'s bytes in one of the snapshot's blobs (None for a slot added or removed since)."""
        if i >= len(self._ids) or i in self._removed:
            return None
        return bytes(blob[at.item(i, 0) : at.item(i, 1)])

    def _doc(self, i: int) -> Item:
        doc = self[i]
        assert doc is not None
        return doc

    def title(self, i: int) -> str:
        """The title of slot ``i``, without making its document."""
        saved = self._saved(self._titles, self._title_at, i)
        if saved is not None:
            return saved.decode("utf-8")
        doc = self[i]
        return doc.title if doc is not None else ""

    def words(self, i: int) -> TextWords:
        """The words of slot ``i``'s text that reasons name, from its record if it has one."""
        saved = self._saved(self._words, self._words_at, i)
        return recorded_words(saved.decode("utf-8")) if saved is not None else text_words(self._doc(i))

    def saved_words(self, i: int) -> bytes:
        """Slot ``i``'s words record as a snapshot saves it (UTF-8)."""
        saved = self._saved(self._words, self._words_at, i)
        return saved if saved is not None else words_record(self._doc(i)).encode("utf-8")

    def values(self, i: int) -> bytes:
        """Slot ``i``'s document as a snapshot saves it: its field values, pickled."""
        saved = self._saved(self._blob, self._at, i)
        if saved is not None:
            return saved
        doc = self._doc(i)
        return pickle.dumps(tuple(getattr(doc, f.name) for f in fields(doc)), protocol=5)

    def take(self, slots: np.ndarray) -> Documents:
        """The documents of these live slots, in order (saved ones stay in the snapshot's arrays)."""
        saved = len(self._ids)
        kept = slots[slots < saved]
        docs = Documents([self[int(i)] for i in slots[slots >= saved]])
        if kept.size:
            assert self._kind is not None
            docs._kind, docs._ids = self._kind, [self._ids[i] for i in kept]
            docs._blob, docs._at = self._blob, self._at[kept]
            docs._titles, docs._title_at = self._titles, self._title_at[kept]
            docs._words, docs._words_at = self._words, self._words_at[kept]
        return docs


def is_county_wide(district: str) -> bool:
    """Whether a district name means the whole county."""
    return district.strip().casefold() == COUNTY_WIDE.casefold()


class Side:
    """Documents, vectors, lexical rows and rule attributes of one kind of item.

    Args:
        dim: vector size (0 when lexical only).
        n_features: size of the hashed lexical feature space.
        hub_k: neighbours kept per item for hubness.
    """

    ATTRIBUTES = ("cat", "cat2", "local", "county", "bits", "until", "posted")
    """The per-slot arrays the rules read (:meth:`set_attributes`)."""

    def __init__(self, dim: int, n_features: int, hub_k: int) -> None:
        self.dim = dim
        self.n_features = n_features
        self.hub_k = hub_k
        self.docs = Documents()
        self.pos: dict[str, int] = {}
        self.n = 0
        cap = 16
        self.vecs = np.zeros((cap, dim), dtype=np.float32)
        # The basis of the approximate first stage (shared by both sides; None until one is
        # fitted) and each slot's vector projected onto it.
        self.basis: np.ndarray | None = None
        self.reduced = np.zeros((cap, 0), dtype=np.float32)
        self.alive = np.zeros(cap, dtype=bool)
        self.top = np.full((cap, hub_k), -np.inf, dtype=np.float32)
        self.cat = np.zeros(cap, dtype=np.int32)
        self.cat2 = np.full(cap, -1, dtype=np.int32)
        self.local = np.zeros(cap, dtype=bool)
        self.county = np.zeros(cap, dtype=bool)
        self.bits = np.zeros(cap, dtype=np.int64)
        self.until = np.full(cap, NEVER, dtype=np.int64)
        self.posted = np.full(cap, NEVER, dtype=np.int64)
        self.lex = LexicalRows(n_features)
        # Bumped by every change to slots or neighbours: per-query work that depends only on
        # the side (hubness, the open-and-current mask) is cached against it.
        self.version = 0
        self.cache: dict[str, tuple[object, np.ndarray]] = {}

    def changed(self) -> None:
        """Note a change to the slots or their neighbours (drops what was cached from them)."""
        self.version += 1
        self.cache.clear()

    def cached(self, name: str, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A value derived from the side alone, computed once per version and ``key``.

        At most ``CACHED_VALUES`` names are kept (an array of one value per slot each); past
        that the cache starts again.
        """
        found = self.cache.get(name)
        if found is not None and found[0] == (self.version, self.n, key):
            return found[1]
        value = compute()
        value.flags.writeable = False  # shared by every query until the side changes
        if found is None and len(self.cache) >= CACHED_VALUES:
            self.cache.clear()
        self.cache[name] = ((self.version, self.n, key), value)
        return value

    def grow(self, at_least: int = 0, *, vectors: bool = True) -> None:
        """Double the capacity (at least to ``at_least`` slots); ``vectors=False`` leaves the
        vector matrices (full and reduced) to the caller (a snapshot's shared maps replace them).
        """
        cap = max(len(self.alive) * 2, at_least)

        def grow(a: np.ndarray, fill: object) -> np.ndarray:
            b = np.full((cap, *a.shape[1:]), fill, dtype=a.dtype)
            b[: len(a)] = a
            return b

        if vectors:
            self.vecs = grow(self.vecs, 0)
            self.reduced = grow(self.reduced, 0)
        self.alive = grow(self.alive, False)
        self.top = grow(self.top, -np.inf)
        self.cat = grow(self.cat, 0)
        self.cat2 = grow(self.cat2, -1)
        self.local = grow(self.local, False)
        self.county = grow(self.county, False)
        self.bits = grow(self.bits, 0)
        self.until = grow(self.until, NEVER)
        self.posted = grow(self.posted, NEVER)

    def append(self, doc: Item, vec: np.ndarray, row: sp.csr_matrix, codes: Codebook) -> int:
        """Store one item in a new slot and return the slot."""
        if self.n == len(self.alive):
            self.grow()
        i = self.n
        self.n += 1
        self.docs.append(doc)
        self.pos[doc.id] = i
        self.vecs[i] = vec
        if self.basis is not None:
            self.reduced[i] = vec @ self.basis
        self.alive[i] = True
        self.top[i] = -np.inf
        self.lex.append(row)
        self.set_attributes(i, doc, codes)
        self.changed()
        return i

    def fill(self, docs: Sequence[Item], vecs: np.ndarray, rows: sp.csr_matrix, codes: Codebook) -> None:
        """Bulk-load an empty side (build time): one lexical block, no per-item work."""
        assert self.n == 0
        n = len(docs)
        if len(self.alive) < n:
            self.grow(n)
        self.docs = Documents(docs)
        self.pos = {d.id: i for i, d in enumerate(docs)}
        self.n = n
        if self.dim:
            self.vecs[:n] = vecs
        if self.basis is not None:
            self.reduce(self.basis)
        self.alive[:n] = True
        self.lex.load(rows)
        for i, doc in enumerate(docs):
            self.set_attributes(i, doc, codes)
        self.changed()

    def reduce(self, basis: np.ndarray) -> None:
        """Project every slot's vector onto ``basis`` (the approximate first stage's space).

        Items appended later are projected as they come.
        """
        self.basis = basis
        reduced = np.zeros((len(self.vecs), basis.shape[1]), dtype=np.float32)
        for start in range(0, self.n, 8192):  # blocks bound the temporary copies
            stop = min(self.n, start + 8192)
            reduced[start:stop] = self.vecs[start:stop] @ basis
        self.reduced = reduced

    def set_attributes(self, i: int, doc: Item, codes: Codebook) -> None:
        """Record what the eligibility rules read of an item."""
        self.cat[i] = codes.code(doc.category)
        self.local[i] = doc.category in LOCAL_CATEGORIES
        if isinstance(doc, Need):
            self.county[i] = is_county_wide(doc.district)
            self.bits[i] = codes.bit(doc.district)
            self.until[i] = doc.needed_by.toordinal() if doc.needed_by else NEVER
            self.posted[i] = doc.posted.toordinal() if doc.posted else NEVER
        else:
            self.cat2[i] = codes.code(MEASURE_CATEGORIES.get(doc.measure or ""))
            self.county[i] = any(is_county_wide(d) for d in doc.districts)
            bits = 0
            for d in doc.districts:
                bits |= codes.bit(d)
            self.bits[i] = bits
            self.until[i] = doc.available_until.toordinal() if doc.available_until else NEVER

    def kill(self, i: int) -> None:
        """Forget the item in slot ``i`` (the slot stays, dead, until compaction)."""
        item_id = self.docs.id(i)
        if item_id is not None:
            self.pos.pop(item_id, None)
        self.docs.remove(i)
        self.alive[i] = False
        self.vecs[i] = 0.0
        if self.reduced.shape[1]:
            self.reduced[i] = 0.0
        self.top[i] = -np.inf
        self.changed()

    def doc(self, item_id: str) -> Item | None:
        """The stored document with this id, if any."""
        i = self.pos.get(str(item_id))
        return self.docs[i] if i is not None else None

    def title(self, item_id: str) -> str:
        """The title of the stored item with this id."""
        return self.docs.title(self.pos[str(item_id)])

    def row(self, i: int) -> sp.csr_matrix:
        """The lexical row (term counts) of slot ``i``."""
        return self.lex.row(i)

    def terms(self, i: int) -> Terms:
        """The lexical terms of slot ``i`` (views of the row, for a query)."""
        return self.lex.terms(i)

    def wants_compaction(self) -> bool:
        """Whether more than a quarter of at least 64 slots are dead."""
        dead = self.n - int(self.alive[: self.n].sum())
        return self.n >= 64 and dead > self.n // 4


def compacted(side: Side, codes: Codebook) -> Side:
    """A copy of a side holding only its live items, in order, with their hubness kept.

    Args:
        side: the side to compact.
        codes: the shared codebook.

    Returns:
        The new side (the lexical rows merged into one block).
    """
    live = np.flatnonzero(side.alive[: side.n])
    fresh = Side(side.dim, side.n_features, side.hub_k)
    n = live.size
    fresh.grow(n)
    fresh.n = n
    fresh.docs = side.docs.take(live)  # a snapshot's documents stay in its files
    fresh.pos = {fresh.docs.id(i): i for i in range(n)}  # type: ignore[misc]
    if side.dim:
        fresh.vecs[:n] = side.vecs[: side.n][live]
    if side.basis is not None:
        fresh.basis = side.basis
        fresh.reduced = np.zeros((len(fresh.vecs), side.basis.shape[1]), dtype=np.float32)
        fresh.reduced[:n] = side.reduced[: side.n][live]
    for name in ("alive", "top", *Side.ATTRIBUTES):
        getattr(fresh, name)[:n] = getattr(side, name)[: side.n][live]
    fresh.lex.load(side.lex.rows()[live])
    fresh.changed()
    return fresh
