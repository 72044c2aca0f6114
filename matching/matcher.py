"""The matcher: stored needs and offers with their vectors, suggesting in both directions.

Built from documents plus precomputed vectors (the application stores one vector per item
with the model's name), it supports adding, updating and removing one item at a time and
never re-encodes the corpus: a suggestion is one matrix-vector product for the semantic
side, a sparse product over the query's own terms for the lexical side, and a few
vectorised masks for the rules. Hubness values (see :mod:`matching.scoring`) are kept up to
date incrementally.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching.documents import COUNTY_WIDE, LOCAL_CATEGORIES, Item, Need, Offer, is_current, item_text
from matching.encoders import LexicalEncoder, Progress, SemanticEncoder, stem
from matching.explain import reasons
from matching.scoring import MatchParams, load_params, raw_scores
from matching.vocabulary import MEASURE_CATEGORIES, concept_tokens

_NEVER = dt.date.max.toordinal()
_DELTA_LIMIT = 256
IDF_REFRESH = 0.02
"""Share of the corpus that must change before lexical IDF weights are recomputed."""
RERANK_POOL = 500
"""With embeddings, lexical similarity is computed for this many best semantic candidates."""


@dataclass(frozen=True)
class Suggestion:
    """One suggested pairing.

    Attributes:
        kind: ``"offer"`` when offers are suggested for a need, ``"need"`` the other way.
        id: the suggested item's id.
        title: the suggested item's title.
        score: 0..1, comparable across queries.
        good: whether the score reaches the no-good-match threshold.
        reasons: short phrases a person can check.
        via_offer: for supplier-wide suggestions, the supplier's offer that fits best.
    """

    kind: str
    id: str
    title: str
    score: float
    good: bool
    reasons: tuple[str, ...] = ()
    via_offer: str | None = None


@dataclass(frozen=True)
class Suggestions:
    """A ranked answer.

    Attributes:
        items: suggestions, best first (weak ones included, marked ``good=False``).
        no_good_match: True when no suggestion reaches the threshold ("no good match yet").
        threshold: the calibrated threshold used.
    """

    items: tuple[Suggestion, ...]
    no_good_match: bool
    threshold: float

    @property
    def good(self) -> tuple[Suggestion, ...]:
        """The suggestions at or above the threshold."""
        return tuple(s for s in self.items if s.good)


def lexical_text(item: Item) -> str:
    """The text whose words feed the lexical side: the item text plus concept tokens.

    Args:
        item: a need or an offer.

    Returns:
        Text with domain concept tokens appended (query expansion).
    """
    text = item_text(item)
    categories = [item.category]
    if isinstance(item, Offer) and item.measure in MEASURE_CATEGORIES:
        categories.append(MEASURE_CATEGORIES[item.measure])
    return f"{text} {concept_tokens(text, categories)}".strip()


def embed_items(items: Sequence[Item], encoder: SemanticEncoder, progress: Progress | None = None) -> np.ndarray:
    """Compute the vectors the application stores for items.

    Args:
        items: needs and/or offers.
        encoder: the semantic encoder (its ``model_name`` is stored beside the vectors).
        progress: optional ``progress(done, total)`` callback.

    Returns:
        Unit-length float32 vectors, one row per item (zero for empty text).
    """
    return encoder.encode([item_text(i) for i in items], progress=progress)


class _Side:
    """Documents, vectors, lexical rows and rule attributes of one kind of item."""

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
        self.until = np.full(cap, _NEVER, dtype=np.int64)
        # Lexical rows: a merged CSR block for slots [0, main_n) plus recent rows.
        self.main = sp.csr_matrix((0, n_features), dtype=np.float32)
        self.main_t: sp.csr_matrix | None = None
        self.main_norm: np.ndarray | None = None
        self.delta: list[sp.csr_matrix] = []
        self._delta_block: tuple[sp.csr_matrix, np.ndarray, int] | None = None
        self._norm_version = -1
        self._lookup: np.ndarray | None = None

    def _grow(self) -> None:
        cap = len(self.alive) * 2

        def grow(a: np.ndarray, fill: object) -> np.ndarray:
            shape = (cap, *a.shape[1:])
            b = np.full(shape, fill, dtype=a.dtype)
            b[: len(a)] = a
            return b

        self.vecs = grow(self.vecs, 0)
        self.alive = grow(self.alive, False)
        self.top = grow(self.top, -np.inf)
        self.cat = grow(self.cat, 0)
        self.cat2 = grow(self.cat2, -1)
        self.local = grow(self.local, False)
        self.county = grow(self.county, False)
        self.bits = grow(self.bits, 0)
        self.until = grow(self.until, _NEVER)

    def append(self, doc: Item, vec: np.ndarray, row: sp.csr_matrix) -> int:
        if self.n == len(self.alive):
            self._grow()
        i = self.n
        self.n += 1
        self.docs.append(doc)
        self.pos[doc.id] = i
        self.vecs[i] = vec
        self.alive[i] = True
        self.top[i] = -np.inf
        self.delta.append(row)
        self._delta_block = None
        return i

    def kill(self, i: int) -> None:
        doc = self.docs[i]
        if doc is not None:
            self.pos.pop(doc.id, None)
        self.docs[i] = None
        self.alive[i] = False
        self.vecs[i] = 0.0
        self.top[i] = -np.inf

    def hubs(self, prior: float) -> np.ndarray:
        """Mean of each item's k best cosines; missing neighbours count as ``prior``."""
        return _smoothed_mean(self.top[: self.n], prior)

    def merge_delta(self) -> None:
        if self.delta:
            self.main = sp.vstack([self.main, *self.delta], format="csr", dtype=np.float32)
            self.delta = []
            self._delta_block = None
            self.main_t = None
            self.main_norm = None

    def _norms(self, idf2: np.ndarray, idf_version: int) -> None:
        if self.main_norm is None or self._norm_version != idf_version:
            sq = self.main.copy()
            sq.data = sq.data.astype(np.float64) ** 2
            self.main_norm = np.sqrt(sq @ idf2) + 1e-9
            self._norm_version = idf_version
        if self.delta and (self._delta_block is None or self._delta_block[2] != idf_version):
            block = sp.vstack(self.delta, format="csr")
            sq = block.copy()
            sq.data = sq.data.astype(np.float64) ** 2
            self._delta_block = (block, np.sqrt(sq @ idf2) + 1e-9, idf_version)

    def lexical_scores(
        self, q: sp.csr_matrix, idf2: np.ndarray, idf_version: int, slots: np.ndarray | None = None
    ) -> np.ndarray:
        """Cosine of the (IDF-weighted) query row with every slot's row (or only ``slots``)."""
        if len(self.delta) > _DELTA_LIMIT:
            self.merge_delta()
        size = self.n if slots is None else len(slots)
        out = np.zeros(size, dtype=np.float32)
        if q.nnz == 0 or self.n == 0:
            return out
        self._norms(idf2, idf_version)
        cols, vals = q.indices, q.data.astype(np.float64)
        qnorm = float(np.sqrt((vals**2 * idf2[cols]).sum())) or 1.0
        weights = vals * idf2[cols]
        m = self.main.shape[0]
        if slots is not None:
            # Sparse dot products of a few rows via a dense lookup of the query's weights.
            lookup = np.zeros(self.n_features, dtype=np.float64) if self._lookup is None else self._lookup
            self._lookup = lookup
            lookup[cols] = weights
            in_main = slots < m
            for mask, matrix, norms, offset in (
                (in_main, self.main, self.main_norm, 0),
                (
                    ~in_main,
                    self._delta_block[0] if self._delta_block else None,
                    self._delta_block[1] if self._delta_block else None,
                    m,
                ),
            ):
                if matrix is None or not mask.any():
                    continue
                idx = slots[mask] - offset
                sub = matrix[idx]
                prod = sub.data * lookup[sub.indices]
                sums = np.add.reduceat(prod, sub.indptr[:-1]) if prod.size else np.zeros(len(idx))
                sums[np.diff(sub.indptr) == 0] = 0.0  # reduceat repeats a value for empty rows
                out[mask] = sums / norms[idx] / qnorm
            lookup[cols] = 0.0
            return out
        if m:
            if self.main_t is None:
                self.main_t = self.main.T.tocsr()
            dots = self.main_t[cols].T @ weights
            out[:m] = dots / self.main_norm / qnorm
        if self.delta:
            block, norms, _ = self._delta_block  # type: ignore[misc]
            dots = block[:, cols] @ weights
            out[m : m + block.shape[0]] = dots / norms / qnorm
        return out

    def row(self, i: int) -> sp.csr_matrix:
        m = self.main.shape[0]
        return self.main[i] if i < m else self.delta[i - m]


class Matcher:
    """Suggests offers for needs, needs for offers, and needs for a supplier's offers.

    Args:
        encoder: the semantic encoder used to embed texts that have no stored vector
            (None: lexical matching only, unless vectors are supplied).
        params: scoring parameters; defaults to the shipped, tuned ``params.json``.
        dimension: vector size when vectors are supplied without an encoder.
        lexical: the lexical encoder (default settings if None).
    """

    def __init__(
        self,
        encoder: SemanticEncoder | None = None,
        params: MatchParams | None = None,
        dimension: int | None = None,
        lexical: LexicalEncoder | None = None,
    ) -> None:
        self.encoder = encoder
        self.params = params or load_params()
        self.lexical = lexical or LexicalEncoder()
        dim = dimension if dimension is not None else (encoder.dimension if encoder else 0)
        self.dim = int(dim)
        k = max(1, int(self.params.hub_k))
        nf = self.lexical.n_features
        self.needs = _Side(self.dim, nf, k)
        self.offers = _Side(self.dim, nf, k)
        self._df = np.zeros(nf, dtype=np.float64)
        self._ndocs = 0
        self._idf_version = 0
        self._weights: dict[str, float] = {}
        self._weights_version = -1
        self._idf2: np.ndarray | None = None
        self._changes = 0
        self._codes: dict[str, int] = {}
        self._district_bits: dict[str, int] = {}

    # ----------------------------------------------------------------- building
    @property
    def model_name(self) -> str:
        """The name of the embedding model in use (``none`` when lexical only)."""
        return self.encoder.model_name if self.encoder else ("vectors" if self.dim else "none")

    @property
    def semantic(self) -> bool:
        """Whether sentence embeddings take part in scoring."""
        return self.dim > 0

    @classmethod
    def build(
        cls,
        needs: Iterable[Need],
        offers: Iterable[Offer],
        need_vectors: Mapping[str, np.ndarray] | None = None,
        offer_vectors: Mapping[str, np.ndarray] | None = None,
        encoder: SemanticEncoder | None = None,
        params: MatchParams | None = None,
        progress: Progress | None = None,
    ) -> Matcher:
        """Build a matcher from documents and their stored vectors.

        Items whose vector is missing are embedded with ``encoder`` (if there is one);
        nothing else is encoded. Items that are not open are skipped.

        Args:
            needs: the needs.
            offers: the offers.
            need_vectors: stored vectors by need id.
            offer_vectors: stored vectors by offer id.
            encoder: the semantic encoder (None: vectors only, or lexical only if none given).
            params: scoring parameters (default: the shipped ones).
            progress: ``progress(done, total)`` while embedding missing vectors.

        Returns:
            The matcher.

        Raises:
            ValueError: stored vectors have inconsistent dimensions.
        """
        needs = [n for n in needs if n.status == "open"]
        offers = [o for o in offers if o.status == "open"]
        need_vectors = dict(need_vectors or {})
        offer_vectors = dict(offer_vectors or {})
        dims = {np.asarray(v).reshape(-1).shape[0] for v in [*need_vectors.values(), *offer_vectors.values()]}
        if encoder is not None:
            dims.add(encoder.dimension)
        if len(dims) > 1:
            raise ValueError(
                f"Stored vectors have different sizes {sorted(dims)}: they come from different "
                "models. Re-embed the items with the configured model."
            )
        dim = dims.pop() if dims else 0
        matcher = cls(encoder=encoder, params=params, dimension=dim)
        nv = matcher._vectors(needs, need_vectors, progress)
        ov = matcher._vectors(offers, offer_vectors, progress)
        for side, docs, vecs in ((matcher.needs, needs, nv), (matcher.offers, offers, ov)):
            matcher._insert_many(side, docs, vecs)
        matcher._recompute_hubs()
        return matcher

    def _vectors(self, docs: Sequence[Item], stored: Mapping[str, np.ndarray], progress: Progress | None) -> np.ndarray:
        out = np.zeros((len(docs), self.dim), dtype=np.float32)
        if not self.dim:
            return out
        missing = []
        for i, doc in enumerate(docs):
            vec = stored.get(doc.id)
            if vec is None:
                missing.append(i)
            else:
                out[i] = _unit(np.asarray(vec, dtype=np.float32).reshape(-1))
        if missing and self.encoder is not None:
            out[missing] = self.encoder.encode([item_text(docs[i]) for i in missing], progress=progress)
        return out

    def _recompute_hubs(self, block: int = 2048) -> None:
        """Exact hubness for every item (used at build time)."""
        k = self.params.hub_k
        for side in (self.needs, self.offers):
            side.top[: side.n] = -np.inf
        if not self.semantic or not self.needs.n or not self.offers.n:
            return
        nv = self.needs.vecs[: self.needs.n]
        ov = self.offers.vecs[: self.offers.n]
        for start in range(0, self.needs.n, block):
            sims = nv[start : start + block] @ ov.T
            sims[:, ~self.offers.alive[: self.offers.n]] = -np.inf
            self.needs.top[start : start + len(sims)] = _topk_rows(sims, k)
        for start in range(0, self.offers.n, block):
            sims = ov[start : start + block] @ nv.T
            sims[:, ~self.needs.alive[: self.needs.n]] = -np.inf
            self.offers.top[start : start + len(sims)] = _topk_rows(sims, k)

    # -------------------------------------------------------------- lexical idf
    def _idf_sq(self) -> np.ndarray:
        # IDF is refreshed once the documents changed by more than IDF_REFRESH of the corpus:
        # one new item barely moves it, and a refresh re-normalises every stored row.
        stale = self._changes > IDF_REFRESH * max(self._ndocs, 1)
        if self._idf2 is None or stale:
            idf = np.log((1.0 + self._ndocs) / (1.0 + self._df)) + 1.0
            self._idf2 = idf**2
            self._changes = 0
            self._idf_version += 1
        return self._idf2

    def _count(self, row: sp.csr_matrix, sign: int) -> None:
        self._df[row.indices] += sign
        self._ndocs += sign
        self._changes += 1

    def idf(self, word: str) -> float:
        """How telling a (stemmed) word is in the current corpus (used to order reasons).

        Args:
            word: a stem.

        Returns:
            Its inverse document frequency (large = rare).
        """
        return float(np.sqrt(self._idf_sq()[self.lexical.word_index(word)]))

    # ----------------------------------------------------------- incremental API
    def _code(self, category: str | None) -> int:
        if not category:
            return -1
        return self._codes.setdefault(category, len(self._codes))

    def _bit(self, district: str) -> int:
        key = district.strip().casefold()
        index = self._district_bits.setdefault(key, len(self._district_bits))
        return 1 << (index % 62)

    def _insert_many(self, side: _Side, docs: Sequence[Item], vecs: np.ndarray) -> None:
        """Bulk insert into an empty side (build time): one lexical transform, no hub updates."""
        assert side.n == 0
        unique = {d.id: i for i, d in enumerate(docs)}
        docs = [docs[i] for i in sorted(unique.values())]
        vecs = vecs[sorted(unique.values())] if len(vecs) else vecs
        rows = self.lexical.counts([lexical_text(d) for d in docs])
        while len(side.alive) < len(docs):
            side._grow()
        n = len(docs)
        side.docs = list(docs)
        side.pos = {d.id: i for i, d in enumerate(docs)}
        side.n = n
        if self.dim:
            side.vecs[:n] = vecs
        side.alive[:n] = True
        side.main = rows.astype(np.float32)
        side.delta = []
        self._df += np.bincount(rows.indices, minlength=self.lexical.n_features)
        self._ndocs += n
        self._changes += n
        for i, doc in enumerate(docs):
            self._set_attributes(side, i, doc)

    def _set_attributes(self, side: _Side, i: int, doc: Item) -> None:
        side.cat[i] = self._code(doc.category)
        if isinstance(doc, Need):
            side.local[i] = doc.category in LOCAL_CATEGORIES
            side.county[i] = doc.district.strip().casefold() == COUNTY_WIDE.casefold()
            side.bits[i] = self._bit(doc.district)
            side.until[i] = doc.needed_by.toordinal() if doc.needed_by else _NEVER
        else:
            side.cat2[i] = self._code(MEASURE_CATEGORIES.get(doc.measure or ""))
            side.local[i] = doc.category in LOCAL_CATEGORIES
            side.county[i] = any(d.strip().casefold() == COUNTY_WIDE.casefold() for d in doc.districts)
            bits = 0
            for d in doc.districts:
                bits |= self._bit(d)
            side.bits[i] = bits
            side.until[i] = doc.available_until.toordinal() if doc.available_until else _NEVER

    def _insert(
        self,
        side: _Side,
        doc: Item,
        vec: np.ndarray,
        update_hubs: bool = True,
        row: sp.csr_matrix | None = None,
    ) -> None:
        if row is None:
            row = self.lexical.counts([lexical_text(doc)])
        i = side.append(doc, vec, row)
        self._count(row, +1)
        self._set_attributes(side, i, doc)
        if update_hubs and self.semantic:
            other = self.offers if side is self.needs else self.needs
            sims = other.vecs[: other.n] @ vec
            sims[~other.alive[: other.n]] = -np.inf
            side.top[i] = _topk_rows(sims[None, :], self.params.hub_k)[0]
            if other.n:
                merged = np.concatenate([other.top[: other.n], sims[:, None]], axis=1)
                merged.sort(axis=1)
                keep = other.alive[: other.n]
                other.top[: other.n][keep] = merged[keep, 1:]

    def _delete(self, side: _Side, item_id: str) -> bool:
        i = side.pos.get(item_id)
        if i is None:
            return False
        vec = side.vecs[i].copy()
        self._count(side.row(i), -1)
        side.kill(i)
        if self.semantic:
            other = self.offers if side is self.needs else self.needs
            if other.n:
                sims = other.vecs[: other.n] @ vec
                affected = np.flatnonzero(other.alive[: other.n] & (sims >= other.top[: other.n, 0]))
                if affected.size:
                    mine = side.vecs[: side.n]
                    block = other.vecs[affected] @ mine.T
                    block[:, ~side.alive[: side.n]] = -np.inf
                    other.top[affected] = _topk_rows(block, self.params.hub_k)
        self._maybe_compact(side)
        return True

    def _maybe_compact(self, side: _Side) -> None:
        dead = side.n - int(side.alive[: side.n].sum())
        if side.n >= 64 and dead > side.n // 4:
            docs = [d for d in side.docs if d is not None]
            vecs = side.vecs[: side.n][side.alive[: side.n]].copy()
            top = side.top[: side.n][side.alive[: side.n]].copy()
            fresh = _Side(side.dim, side.n_features, side.hub_k)
            target = self.needs if side is self.needs else self.offers
            m = side.main.shape[0]
            rows = [side.row(i) for i in range(side.n) if side.alive[i]] if side.n else []
            for doc, vec, row in zip(docs, vecs, rows, strict=True):
                self._count(row, -1)
                self._insert(fresh, doc, vec, update_hubs=False, row=row)
            del m
            fresh.top[: len(docs)] = top
            fresh.merge_delta()
            if target is self.needs:
                self.needs = fresh
            else:
                self.offers = fresh

    def upsert_need(self, need: Need, vector: np.ndarray | None = None) -> None:
        """Add or replace one need (a need that is not open is removed).

        Args:
            need: the need as it now is.
            vector: its stored vector; embedded with the encoder when None.
        """
        self._upsert(self.needs, need, vector)

    def upsert_offer(self, offer: Offer, vector: np.ndarray | None = None) -> None:
        """Add or replace one offer (an offer that is not open is removed).

        Args:
            offer: the offer as it now is.
            vector: its stored vector; embedded with the encoder when None.
        """
        self._upsert(self.offers, offer, vector)

    def remove_need(self, need_id: str) -> bool:
        """Forget a need.

        Args:
            need_id: its id.

        Returns:
            True if it was there.
        """
        return self._delete(self.needs, str(need_id))

    def remove_offer(self, offer_id: str) -> bool:
        """Forget an offer.

        Args:
            offer_id: its id.

        Returns:
            True if it was there.
        """
        return self._delete(self.offers, str(offer_id))

    def _upsert(self, side: _Side, doc: Item, vector: np.ndarray | None) -> None:
        self._delete(side, doc.id)
        if doc.status != "open":
            return
        vec = self._vector_for(doc, vector)
        self._insert(side, doc, vec)

    def _vector_for(self, doc: Item, vector: np.ndarray | None) -> np.ndarray:
        if not self.dim:
            return np.zeros(0, dtype=np.float32)
        if vector is not None:
            vec = np.asarray(vector, dtype=np.float32).reshape(-1)
            if vec.shape[0] != self.dim:
                raise ValueError(
                    f"Vector for {type(doc).__name__.lower()} {doc.id} has {vec.shape[0]} values, "
                    f"the matcher uses {self.dim}: it was made by another model; re-embed it."
                )
            return _unit(vec)
        if self.encoder is None:
            return np.zeros(self.dim, dtype=np.float32)
        return self.encoder.encode([item_text(doc)])[0]

    def __len__(self) -> int:
        """Number of open items held (needs plus offers)."""
        return len(self.needs.pos) + len(self.offers.pos)

    def need(self, need_id: str) -> Need | None:
        """The stored need with this id, if any."""
        i = self.needs.pos.get(str(need_id))
        doc = self.needs.docs[i] if i is not None else None
        return doc if isinstance(doc, Need) else None

    def offer(self, offer_id: str) -> Offer | None:
        """The stored offer with this id, if any."""
        i = self.offers.pos.get(str(offer_id))
        doc = self.offers.docs[i] if i is not None else None
        return doc if isinstance(doc, Offer) else None

    # ------------------------------------------------------------------ scoring
    def _query(self, side: _Side, query: Item | str) -> tuple[Item, np.ndarray, sp.csr_matrix, int | None]:
        if isinstance(query, str):
            i = side.pos.get(query)
            if i is None:
                kind = "need" if side is self.needs else "offer"
                raise KeyError(f"No open {kind} with id {query!r} in the matcher.")
            doc = side.docs[i]
            assert doc is not None
            return doc, side.vecs[i], side.row(i), i
        i = side.pos.get(query.id)
        stored = side.docs[i] if i is not None else None
        if i is not None and stored == query:
            return query, side.vecs[i], side.row(i), i
        vec = self._vector_for(query, None)
        return query, vec, self.lexical.counts([lexical_text(query)]), None

    def _raw(
        self, qside: _Side, cside: _Side, query: Item | str, today: dt.date | None
    ) -> tuple[Item, np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores of one query against every slot of the other side, and the eligible mask."""
        doc, vec, row, slot = self._query(qside, query)
        n = cside.n
        if n == 0:
            empty = np.zeros(0, dtype=np.float32)
            return doc, empty, empty, np.zeros(0, dtype=bool)
        idf2 = self._idf_sq()
        if self.semantic:
            cos = cside.vecs[:n] @ vec
            prior = self.params.hub_prior
            if slot is not None:
                qhub = float(qside.hubs(prior)[slot])
            else:
                masked = np.where(cside.alive[:n], cos, -np.inf)
                qhub = float(_smoothed_mean(_topk_rows(masked[None, :], self.params.hub_k), prior)[0])
            chub = cside.hubs(prior)
        else:
            cos = np.zeros(n, dtype=np.float32)
            qhub, chub = 0.0, np.zeros(n, dtype=np.float32)
        code = self._codes.get(doc.category, -2)
        if isinstance(doc, Need):
            same = (cside.cat[:n] == code) | (cside.cat2[:n] == code)
        else:
            code2 = self._codes.get(MEASURE_CATEGORIES.get(doc.measure or "", ""), -2)
            same = (cside.cat[:n] == code) | (cside.cat[:n] == code2)
        ok = self._eligible(doc, cside, today)
        same_f = same.astype(np.float32)
        if self.semantic and int(ok.sum()) > RERANK_POOL:
            # Re-rank: the lexical term (bounded by lexical_weight) only reorders the best
            # semantic candidates, so it is computed for those alone.
            zero = np.zeros(n, dtype=np.float32)
            first = np.where(ok, raw_scores(cos, qhub, chub, zero, same_f, self.params), -np.inf)
            pool = np.argpartition(-first, RERANK_POOL - 1)[:RERANK_POOL]
            lex = zero
            lex[pool] = cside.lexical_scores(row, idf2, self._idf_version, pool)
        else:
            lex = cside.lexical_scores(row, idf2, self._idf_version)
        raw = raw_scores(cos, qhub, chub, lex, same_f, self.params, self.semantic)
        raw = np.where(np.isfinite(raw), raw, -np.inf).astype(np.float32)
        return doc, raw, cos, ok

    def _eligible(self, doc: Item, cside: _Side, today: dt.date | None) -> np.ndarray:
        n = cside.n
        if not is_current(doc, today):
            return np.zeros(n, dtype=bool)
        day = (today or dt.date.today()).toordinal()
        ok = cside.alive[:n] & (cside.until[:n] >= day)
        if isinstance(doc, Need):
            local = doc.category in LOCAL_CATEGORIES
            county = doc.district.strip().casefold() == COUNTY_WIDE.casefold()
            bit = self._district_bits.get(doc.district.strip().casefold())
            reach = cside.county[:n] | county
            if bit is not None:
                reach = reach | ((cside.bits[:n] & (1 << (bit % 62))) != 0)
            return ok & ((~cside.local[:n] & (not local)) | reach)
        county = any(d.strip().casefold() == COUNTY_WIDE.casefold() for d in doc.districts)
        bits = 0
        for d in doc.districts:
            b = self._district_bits.get(d.strip().casefold())
            if b is not None:
                bits |= 1 << (b % 62)
        local = doc.category in LOCAL_CATEGORIES
        reach = cside.county[:n] | county | ((cside.bits[:n] & bits) != 0)
        return ok & ((~cside.local[:n] & (not local)) | reach)

    def rank_offers(self, need: Need | str, today: dt.date | None = None) -> list[tuple[str, float]]:
        """Every eligible offer for a need with its calibrated score, best first (no reasons).

        Args:
            need: a stored need's id, or a need (embedded if not stored).
            today: the date to judge expiry by.

        Returns:
            ``[(offer_id, score)]``.
        """
        _, raw, _, ok = self._raw(self.needs, self.offers, need if isinstance(need, Need) else str(need), today)
        return self._ranked(self.offers, raw, ok, None)

    def _calibration(self):
        return self.params.hybrid if self.semantic else self.params.lexical_only

    def _ranked(self, side: _Side, raw: np.ndarray, ok: np.ndarray, limit: int | None) -> list[tuple[str, float]]:
        idx = np.flatnonzero(ok)
        if limit is not None and idx.size > limit:
            part = np.argpartition(-raw[idx], limit - 1)[:limit]
            idx = idx[part]
        idx = idx[np.argsort(-raw[idx], kind="stable")]
        scores = self._calibration()(raw[idx])
        return [(side.docs[i].id, float(s)) for i, s in zip(idx, scores, strict=True)]  # type: ignore[union-attr]

    def _answer(
        self,
        kind: str,
        ranked: list[tuple[str, float]],
        explain: Callable[[str], tuple[str, ...]] | None,
        titles: Callable[[str], str],
        via: Mapping[str, str] | None = None,
    ) -> Suggestions:
        threshold = self._calibration().threshold
        items = tuple(
            Suggestion(
                kind=kind,
                id=item_id,
                title=titles(item_id),
                score=round(score, 4),
                good=score >= threshold,
                reasons=explain(item_id) if explain is not None else (),
                via_offer=(via or {}).get(item_id),
            )
            for item_id, score in ranked
        )
        return Suggestions(items=items, no_good_match=not any(s.good for s in items), threshold=threshold)

    def _weight(self, word: str) -> float:
        return self.idf(stem(word))

    def suggest_offers(
        self, need: Need | str, limit: int | None = 10, today: dt.date | None = None, *, explain: bool = True
    ) -> Suggestions:
        """Offers that could meet a need, best first.

        Args:
            need: a stored need's id, or a need (embedded if it is not stored as it is).
            limit: at most this many suggestions (None: every eligible offer).
            today: the date to judge expiry by (default today).
            explain: give each suggestion its reasons; False leaves them empty, for a caller
                that shows only some of the suggestions and asks :meth:`explain_pairs` for those.

        Returns:
            The ranked suggestions and whether there is no good match yet.

        Raises:
            KeyError: an id that is not in the matcher.
        """
        doc, raw, cos, ok = self._raw(self.needs, self.offers, need, today)
        ranked = self._ranked(self.offers, raw, ok, limit)
        assert isinstance(doc, Need)

        def why(offer_id: str) -> tuple[str, ...]:
            i = self.offers.pos[offer_id]
            return self._pair_reasons(doc, self.offers.docs[i], float(cos[i]))  # type: ignore[arg-type]

        return self._answer("offer", ranked, why if explain else None, lambda i: self.offer(i).title)  # type: ignore[union-attr]

    def suggest_needs(
        self, offer: Offer | str, limit: int | None = 10, today: dt.date | None = None, *, explain: bool = True
    ) -> Suggestions:
        """Needs an offer could meet, best first.

        Args:
            offer: a stored offer's id, or an offer (embedded if it is not stored as it is).
            limit: at most this many suggestions (None: every eligible need).
            today: the date to judge expiry by (default today).
            explain: give each suggestion its reasons (see :meth:`suggest_offers`).

        Returns:
            The ranked suggestions and whether there is no good match yet.

        Raises:
            KeyError: an id that is not in the matcher.
        """
        doc, raw, cos, ok = self._raw(self.offers, self.needs, offer, today)
        ranked = self._ranked(self.needs, raw, ok, limit)
        assert isinstance(doc, Offer)

        def why(need_id: str) -> tuple[str, ...]:
            i = self.needs.pos[need_id]
            return self._pair_reasons(self.needs.docs[i], doc, float(cos[i]))  # type: ignore[arg-type]

        return self._answer("need", ranked, why if explain else None, lambda i: self.need(i).title)  # type: ignore[union-attr]

    def suggest_needs_for_offers(
        self,
        offers: Iterable[Offer | str],
        limit: int | None = 10,
        today: dt.date | None = None,
        *,
        explain: bool = True,
    ) -> Suggestions:
        """Needs that best fit any of a supplier's open offers, combined.

        Each need is scored by the offer that fits it best; the suggestion names that offer
        (``via_offer``) and its reasons start with it.

        Args:
            offers: the supplier's offers (ids or documents); closed ones are ignored.
            limit: at most this many suggestions (None: all eligible needs).
            today: the date to judge expiry by.
            explain: give each suggestion its reasons (see :meth:`suggest_offers`).

        Returns:
            The combined ranked suggestions.
        """
        best = np.full(self.needs.n, -np.inf, dtype=np.float32)
        best_offer: dict[int, Offer] = {}
        cosines = np.zeros(self.needs.n, dtype=np.float32)
        any_ok = np.zeros(self.needs.n, dtype=bool)
        for query in offers:
            try:
                doc, raw, cos, ok = self._raw(self.offers, self.needs, query, today)
            except KeyError:
                continue
            if not is_current(doc, today) or not raw.size:
                continue
            raw = np.where(ok, raw, -np.inf)
            better = raw > best
            for i in np.flatnonzero(better):
                best_offer[int(i)] = doc  # type: ignore[assignment]
            best = np.where(better, raw, best)
            cosines = np.where(better, cos, cosines)
            any_ok |= ok
        ranked = self._ranked(self.needs, best, any_ok & np.isfinite(best), limit)

        def why(need_id: str) -> tuple[str, ...]:
            i = self.needs.pos[need_id]
            return self._pair_reasons(self.needs.docs[i], best_offer[i], float(cosines[i]), via_offer=True)  # type: ignore[arg-type]

        via = {self.needs.docs[self.needs.pos[i]].id: best_offer[self.needs.pos[i]].id for i, _ in ranked}  # type: ignore[union-attr]
        return self._answer("need", ranked, why if explain else None, lambda i: self.need(i).title, via)  # type: ignore[union-attr]

    def explain_pairs(
        self, pairs: Iterable[tuple[str, str]], *, via_offer: bool = False
    ) -> dict[tuple[str, str], tuple[str, ...]]:
        """Reasons for stored (need id, offer id) pairs, as the ``suggest_*`` methods give them.

        For a caller that asked for suggestions with ``explain=False`` and shows only some:
        explaining costs more than ranking once the texts are long, so only what is shown
        is explained.

        Args:
            pairs: (need id, offer id) pairs.
            via_offer: the pairs come from :meth:`suggest_needs_for_offers` (the offer is
                the ``via_offer``); the reasons then start with it, as there.

        Returns:
            The reasons by pair; a pair with an item no longer stored is left out.
        """
        out: dict[tuple[str, str], tuple[str, ...]] = {}
        for need_id, offer_id in pairs:
            i, j = self.needs.pos.get(need_id), self.offers.pos.get(offer_id)
            if i is None or j is None:
                continue
            cosine = float(self.needs.vecs[i] @ self.offers.vecs[j]) if self.semantic else 0.0
            out[(need_id, offer_id)] = self._pair_reasons(
                self.needs.docs[i],  # type: ignore[arg-type]
                self.offers.docs[j],  # type: ignore[arg-type]
                cosine,
                via_offer=via_offer,
            )
        return out

    def _pair_reasons(self, need: Need, offer: Offer, cosine: float, *, via_offer: bool = False) -> tuple[str, ...]:
        # The one place a pairing is explained, for suggest_* and explain_pairs alike.
        assert isinstance(need, Need) and isinstance(offer, Offer)
        because = reasons(need, offer, cosine if self.semantic else None, self._idf_weight)
        return (f"fits your offer “{offer.title}”", *because) if via_offer else because

    def suggest_needs_for_supplier(
        self, supplier: str, limit: int | None = 10, today: dt.date | None = None
    ) -> Suggestions:
        """Needs that best fit all open offers whose ``supplier`` is the given name.

        Args:
            supplier: the supplier's name as stored on its offers.
            limit: at most this many suggestions.
            today: the date to judge expiry by.

        Returns:
            The combined ranked suggestions (no_good_match when it has no open offers).
        """
        mine = [d for d in self.offers.docs if isinstance(d, Offer) and d.supplier == supplier]
        return self.suggest_needs_for_offers(mine, limit, today)

    def _idf_weight(self, stem_: str) -> float:
        # Reasons order every shared word by its IDF, a few hundred look-ups per suggestion:
        # kept per IDF version, which changes only when the IDF is recomputed.
        # The suggestion being explained has just refreshed the IDF if it was due (``_raw``).
        idf2 = self._idf2 if self._idf2 is not None else self._idf_sq()
        if self._weights_version != self._idf_version:
            self._weights = {}
            self._weights_version = self._idf_version
        weight = self._weights.get(stem_)
        if weight is None:
            weight = self._weights[stem_] = float(np.sqrt(idf2[self.lexical.word_index(stem_)]))
        return weight


def _unit(vec: np.ndarray) -> np.ndarray:
    vec = np.nan_to_num(vec.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def _smoothed_mean(top: np.ndarray, prior: float) -> np.ndarray:
    """Row means of top-k arrays padded with -inf, the padding counted as ``prior``.

    With few items on the other side (a new marketplace) this keeps hubness from falling to
    zero, which would inflate every score.
    """
    finite = np.isfinite(top)
    total = np.where(finite, top, prior).sum(axis=1)
    return (total / max(1, top.shape[1])).astype(np.float32)


def _topk_rows(sims: np.ndarray, k: int) -> np.ndarray:
    """The k largest values of each row, ascending, padded with -inf."""
    rows, cols = sims.shape
    out = np.full((rows, k), -np.inf, dtype=np.float32)
    if cols == 0:
        return out
    kk = min(k, cols)
    part = np.partition(sims, cols - kk, axis=1)[:, cols - kk :]
    part.sort(axis=1)
    out[:, k - kk :] = part
    return out
