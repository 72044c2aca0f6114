"""The matcher: stored needs and offers with their vectors, suggesting in both directions.

Built from documents plus precomputed vectors (the application stores one vector per item
with the model's name), it supports adding, updating and removing one item at a time and
never re-encodes the corpus. The work is split by concern:

* :mod:`matching.store`: the vector store (one :class:`~matching.store.Side` per kind of item);
* :mod:`matching.lexical`: the lexical text, IDF weights and sparse cosines;
* :mod:`matching.hubness`: each item's nearest neighbours, kept up to date incrementally;
* :mod:`matching.ranking`: raw scores, eligibility masks, calibrated ranked answers;
* :mod:`matching.first_stage`: on large sides, the approximate first stage (a reduced basis);
* :mod:`matching.explain`: the reasons shown with a suggestion.

This module ties them together behind the public API.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Collection, Iterable, Mapping, Sequence

import numpy as np

from matching import first_stage, hubness, ranking
from matching.documents import Item, Need, Offer, is_current, item_text
from matching.encoders import LexicalEncoder, Progress, SemanticEncoder
from matching.explain import TextWords, pair_reasons
from matching.lexical import IDF_REFRESH, LexicalIndex, Terms, lexical_text
from matching.ranking import Suggestion, Suggestions, rerank_pool
from matching.scoring import Calibration, MatchParams, load_params
from matching.store import Codebook, Side, compacted

__all__ = [
    "IDF_REFRESH",
    "Matcher",
    "Suggestion",
    "Suggestions",
    "embed_items",
    "lexical_text",
    "rerank_pool",
]


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


class Matcher:
    """Suggests offers for needs, needs for offers, and needs for a supplier's offers.

    Args:
        encoder: the semantic encoder used to embed texts that have no stored vector
            (None: lexical matching only, unless vectors are supplied).
        params: scoring parameters; defaults to the shipped, tuned ``params.json``.
        dimension: vector size when vectors are supplied without an encoder.
        lexical: the lexical encoder (default settings if None).
        approximate_from: a top few suggestions are ranked through the approximate first
            stage (:mod:`matching.first_stage`) when the side suggested from holds at least
            this many slots; None: every item is always scored exactly.
    """

    def __init__(
        self,
        encoder: SemanticEncoder | None = None,
        params: MatchParams | None = None,
        dimension: int | None = None,
        lexical: LexicalEncoder | None = None,
        approximate_from: int | None = first_stage.APPROXIMATE_FROM,
    ) -> None:
        self.encoder = encoder
        self.params = params or load_params()
        self.lexical = lexical or LexicalEncoder()
        dim = dimension if dimension is not None else (encoder.dimension if encoder else 0)
        self.dim = int(dim)
        self.hub_k = max(1, int(self.params.hub_k))
        nf = self.lexical.n_features
        self.needs = Side(self.dim, nf, self.hub_k)
        self.offers = Side(self.dim, nf, self.hub_k)
        self.codes = Codebook()
        self.index = LexicalIndex(nf)
        self.approximate_from = approximate_from

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
        approximate_from: int | None = first_stage.APPROXIMATE_FROM,
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
            approximate_from: see :class:`Matcher` (the reduced basis is fitted here when a
                side is already this large).

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
        matcher = cls(encoder=encoder, params=params, dimension=dim, approximate_from=approximate_from)
        for side, docs, stored in ((matcher.needs, needs, need_vectors), (matcher.offers, offers, offer_vectors)):
            # The last of several documents with one id wins, as with upserts.
            keep = sorted({d.id: i for i, d in enumerate(docs)}.values())
            docs = [docs[i] for i in keep]
            rows = matcher.lexical.counts([lexical_text(d) for d in docs])
            side.fill(docs, matcher._vectors(docs, stored, progress), rows, matcher.codes)
            matcher.index.count(rows, +1)
        if matcher.semantic:
            hubness.recompute(matcher.needs, matcher.offers, matcher.hub_k)
            if approximate_from is not None and max(matcher.needs.n, matcher.offers.n) >= approximate_from:
                matcher.reduce()
        return matcher

    def reduce(self) -> None:
        """Fit the approximate first stage's basis to the stored vectors and project both sides.

        Done when the matcher is built large, or on the first query that needs it once a side
        has grown past ``approximate_from``; items added later are projected onto the same
        basis, and the next build fits it again.
        """
        basis = first_stage.fit_basis([self.needs.vecs[: self.needs.n], self.offers.vecs[: self.offers.n]])
        self.needs.reduce(basis)
        self.offers.reduce(basis)

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

    def idf(self, word: str) -> float:
        """How telling a (stemmed) word is in the current corpus (used to order reasons).

        Args:
            word: a stem.

        Returns:
            Its inverse document frequency (large = rare).
        """
        return float(np.sqrt(self.index.idf_sq()[self.lexical.word_index(word)]))

    # ----------------------------------------------------------- incremental API
    def _other(self, side: Side) -> Side:
        return self.offers if side is self.needs else self.needs

    def _insert(self, side: Side, doc: Item, vec: np.ndarray) -> None:
        row = self.lexical.counts([lexical_text(doc)])
        i = side.append(doc, vec, row, self.codes)
        self.index.count(row, +1)
        if self.semantic:
            hubness.added(side, self._other(side), i, self.hub_k)

    def _delete(self, side: Side, item_id: str) -> bool:
        i = side.pos.get(item_id)
        if i is None:
            return False
        vec = side.vecs[i].copy()
        self.index.count(side.row(i), -1)
        side.kill(i)
        if self.semantic:
            hubness.removed(side, self._other(side), vec, self.hub_k)
        if side.wants_compaction():
            fresh = compacted(side, self.codes)
            if side is self.needs:
                self.needs = fresh
            else:
                self.offers = fresh
        return True

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

    def _upsert(self, side: Side, doc: Item, vector: np.ndarray | None) -> None:
        is_need = side is self.needs
        self._delete(side, doc.id)
        if doc.status != "open":
            return
        # Deleting may have compacted the side into a new one: insert into the current one.
        self._insert(self.needs if is_need else self.offers, doc, self._vector_for(doc, vector))

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
        doc = self.needs.doc(need_id)
        return doc if isinstance(doc, Need) else None

    def offer(self, offer_id: str) -> Offer | None:
        """The stored offer with this id, if any."""
        doc = self.offers.doc(offer_id)
        return doc if isinstance(doc, Offer) else None

    # ------------------------------------------------------------------ scoring
    def _query(self, side: Side, query: Item | str) -> ranking.Query:
        if isinstance(query, str):
            i = side.pos.get(query)
            if i is None:
                kind = "need" if side is self.needs else "offer"
                raise KeyError(f"No open {kind} with id {query!r} in the matcher.")
            doc = side.docs[i]
            assert doc is not None
            return ranking.Query(doc, side.vecs[i], side.terms(i), i)
        i = side.pos.get(query.id)
        if i is not None and side.docs[i] == query:
            return ranking.Query(query, side.vecs[i], side.terms(i), i)
        vec = self._vector_for(query, None)
        return ranking.Query(query, vec, Terms.of(self.lexical.counts([lexical_text(query)])), None)

    def _raw(
        self, qside: Side, cside: Side, query: Item | str, today: dt.date | None, limit: int | None = None
    ) -> tuple[Item, np.ndarray, np.ndarray, np.ndarray]:
        """Raw scores of one query against every slot of the other side, and the eligible mask.

        With a ``limit`` (the caller ranks only a top few), a large side goes through the
        approximate first stage: only the slots it kept are left in the mask.
        """
        q = self._query(qside, query)
        approximate = self._approximate(cside, limit)
        return ranking.score(
            q, qside, cside, self.codes, self.index, self.params, self.semantic, today, approximate=approximate
        )

    def _approximate(self, cside: Side, limit: int | None) -> bool:
        # Only for a top few (the shortlist holds at least three times RERANK_MIN slots), and
        # only where the side is large enough for the full product to dominate a query.
        if not self.semantic or self.approximate_from is None or cside.n < self.approximate_from:
            return False
        if limit is None or limit > ranking.RERANK_MIN:
            return False
        if cside.basis is None:
            self.reduce()
        return True

    def _calibration(self) -> Calibration:
        return self.params.hybrid if self.semantic else self.params.lexical_only

    def rank_offers(self, need: Need | str, today: dt.date | None = None) -> list[tuple[str, float]]:
        """Every eligible offer for a need with its calibrated score, best first (no reasons).

        Args:
            need: a stored need's id, or a need (embedded if not stored).
            today: the date to judge expiry by.

        Returns:
            ``[(offer_id, score)]``.
        """
        _, raw, _, ok = self._raw(self.needs, self.offers, need if isinstance(need, Need) else str(need), today)
        return ranking.ranked(self.offers, raw, ok, None, self._calibration())

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
        return self._suggest(self.needs, need, limit, today, explain)

    def suggest_needs(
        self,
        offer: Offer | str,
        limit: int | None = 10,
        today: dt.date | None = None,
        *,
        explain: bool = True,
        exclude: Collection[str] = (),
        pledged: Collection[str] = (),
    ) -> Suggestions:
        """Needs an offer could meet, best first.

        Among needs of similar fit, those that have waited longer and have no pledge yet
        come first (see :func:`matching.ranking.fair_exposure`).

        Args:
            offer: a stored offer's id, or an offer (embedded if it is not stored as it is).
            limit: at most this many suggestions (None: every eligible need).
            today: the date to judge expiry by (default today).
            explain: give each suggestion its reasons (see :meth:`suggest_offers`).
            exclude: ids of needs never to suggest (the supplier already pledged to, met or
                declined them).
            pledged: ids of needs that already have a live pledge.

        Returns:
            The ranked suggestions and whether there is no good match yet.

        Raises:
            KeyError: an id that is not in the matcher.
        """
        return self._suggest(self.offers, offer, limit, today, explain, exclude, pledged)

    def _suggest(
        self,
        qside: Side,
        query: Item | str,
        limit: int | None,
        today: dt.date | None,
        explain: bool,
        exclude: Collection[str] = (),
        pledged: Collection[str] = (),
    ) -> Suggestions:
        # One direction or the other: the query's side and the side suggested from.
        cside = self._other(qside)
        doc, raw, cos, ok = self._raw(qside, cside, query, today, limit)
        if cside is self.needs and raw.size:
            raw = raw + ranking.fair_exposure(self.needs, pledged, self.params, today)
            ok = ranking.without(self.needs, ok, exclude)
        calibration = self._calibration()
        ranking_ = ranking.ranked(cside, raw, ok, limit, calibration)

        def why(item_id: str) -> tuple[str, ...]:
            i = cside.pos[item_id]
            other, words = cside.docs[i], cside.docs.words(i)
            if qside is self.needs:
                return self._pair_reasons(doc, other, float(cos[i]), words=(None, words))  # type: ignore[arg-type]
            return self._pair_reasons(other, doc, float(cos[i]), words=(words, None))  # type: ignore[arg-type]

        kind = "offer" if qside is self.needs else "need"
        return ranking.answer(
            kind,
            ranking_,
            calibration,
            cside.title,
            why if explain else None,
        )

    def suggest_needs_for_offers(
        self,
        offers: Iterable[Offer | str],
        limit: int | None = 10,
        today: dt.date | None = None,
        *,
        explain: bool = True,
        exclude: Collection[str] = (),
        pledged: Collection[str] = (),
    ) -> Suggestions:
        """Needs that best fit any of a supplier's open offers, combined.

        Each need is scored by the offer that fits it best; the suggestion names that offer
        (``via_offer``) and its reasons start with it. Fair exposure as in :meth:`suggest_needs`.

        Args:
            offers: the supplier's offers (ids or documents); closed ones are ignored.
            limit: at most this many suggestions (None: all eligible needs).
            today: the date to judge expiry by.
            explain: give each suggestion its reasons (see :meth:`suggest_offers`).
            exclude: ids of needs never to suggest (already pledged to, met or declined).
            pledged: ids of needs that already have a live pledge.

        Returns:
            The combined ranked suggestions.
        """
        n = self.needs.n
        best = np.full(n, -np.inf, dtype=np.float32)
        best_offer: dict[int, Offer] = {}
        cosines = np.zeros(n, dtype=np.float32)
        any_ok = np.zeros(n, dtype=bool)
        for query in offers:
            try:
                doc, raw, cos, ok = self._raw(self.offers, self.needs, query, today, limit)
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
        calibration = self._calibration()
        best = best + ranking.fair_exposure(self.needs, pledged, self.params, today)
        ok = ranking.without(self.needs, any_ok & np.isfinite(best), exclude)
        ranking_ = ranking.ranked(self.needs, best, ok, limit, calibration)

        def why(need_id: str) -> tuple[str, ...]:
            i = self.needs.pos[need_id]
            need, words = self.needs.docs[i], self.needs.docs.words(i)
            return self._pair_reasons(need, best_offer[i], float(cosines[i]), via_offer=True, words=(words, None))  # type: ignore[arg-type]

        via = {need_id: best_offer[self.needs.pos[need_id]].id for need_id, _ in ranking_}
        return ranking.answer(
            "need",
            ranking_,
            calibration,
            self.needs.title,
            why if explain else None,
            via,
        )

    # -------------------------------------------------------------- explaining
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
        # A page's pairs share one side (the need asked about, or the offer): each item's
        # document and words are read once per call, not once per pair.
        need_of = functools.cache(lambda i: (self.needs.docs[i], self.needs.docs.words(i)))
        offer_of = functools.cache(lambda j: (self.offers.docs[j], self.offers.docs.words(j)))
        for need_id, offer_id in pairs:
            i, j = self.needs.pos.get(need_id), self.offers.pos.get(offer_id)
            if i is None or j is None:
                continue
            cosine = float(self.needs.vecs[i] @ self.offers.vecs[j]) if self.semantic else 0.0
            (need, need_words), (offer, offer_words) = need_of(i), offer_of(j)
            out[(need_id, offer_id)] = self._pair_reasons(
                need, offer, cosine, via_offer=via_offer, words=(need_words, offer_words)
            )
        return out

    def _pair_reasons(
        self,
        need: Need,
        offer: Offer,
        cosine: float,
        *,
        via_offer: bool = False,
        words: tuple[TextWords | None, TextWords | None] = (None, None),
    ) -> tuple[str, ...]:
        # The one place a pairing is explained, for suggest_* and explain_pairs alike. A
        # stored item's words come from its side (a snapshot's record), a query's from its text.
        assert isinstance(need, Need) and isinstance(offer, Offer)
        semantic = cosine if self.semantic else None
        return pair_reasons(need, offer, semantic, self._idf_weight, via_offer=via_offer, words=words)

    def _idf_weight(self, stem_: str) -> float:
        # The suggestion being explained has just refreshed the IDF if it was due (``_raw``).
        return self.index.weight(self.lexical.word_index(stem_))


def _unit(vec: np.ndarray) -> np.ndarray:
    vec = np.nan_to_num(vec.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec
