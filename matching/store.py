"""The vector store: one kind of item (needs or offers) with its vectors and rule attributes.

A :class:`Side` keeps, per slot, the document, its unit vector, its hubness neighbours
(see :mod:`matching.hubness`), its lexical row (see :mod:`matching.lexical`) and the few
attributes the eligibility rules read as vectorised masks (category code, district bits,
expiry day). Slots are appended and killed one at a time; :func:`compacted` rebuilds a side
whose slots are mostly dead. :class:`Codebook` gives categories and districts the small
integer codes those masks compare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from matching.documents import COUNTY_WIDE, LOCAL_CATEGORIES, Item, Need
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

    def __init__(self, dim: int, n_features: int, hub_k: int) -> None:
        self.dim = dim
        self.n_features = n_features
        self.hub_k = hub_k
        self.docs: list[Item | None] = []
        self.pos: dict[str, int] = {}
        self.n = 0
        cap = 16
        self.vecs = np.zeros((cap, dim), dtype=np.float32)
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
        vector matrix to the caller (a snapshot's shared map replaces it).
        """
        cap = max(len(self.alive) * 2, at_least)

        def grow(a: np.ndarray, fill: object) -> np.ndarray:
            b = np.full((cap, *a.shape[1:]), fill, dtype=a.dtype)
            b[: len(a)] = a
            return b

        if vectors:
            self.vecs = grow(self.vecs, 0)
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
        self.docs = list(docs)
        self.pos = {d.id: i for i, d in enumerate(docs)}
        self.n = n
        if self.dim:
            self.vecs[:n] = vecs
        self.alive[:n] = True
        self.lex.load(rows)
        for i, doc in enumerate(docs):
            self.set_attributes(i, doc, codes)
        self.changed()

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
        doc = self.docs[i]
        if doc is not None:
            self.pos.pop(doc.id, None)
        self.docs[i] = None
        self.alive[i] = False
        self.vecs[i] = 0.0
        self.top[i] = -np.inf
        self.changed()

    def doc(self, item_id: str) -> Item | None:
        """The stored document with this id, if any."""
        i = self.pos.get(str(item_id))
        return self.docs[i] if i is not None else None

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
    docs = [side.docs[i] for i in live]
    rows = sp.vstack([side.row(int(i)) for i in live], format="csr") if live.size else None
    fresh.fill(
        docs,  # type: ignore[arg-type]
        side.vecs[: side.n][live],
        rows if rows is not None else sp.csr_matrix((0, side.n_features), dtype=np.float32),
        codes,
    )
    fresh.top[: live.size] = side.top[: side.n][live]
    fresh.changed()
    return fresh
