"""Ranking: the raw score of one query against every stored item of the other side, the
eligibility rules as vectorised masks, and the calibrated, ranked answer.

The formula itself is :func:`matching.scoring.raw_scores`; this module gathers its inputs
(cosines, hubness, lexical cosines, category agreement) for a whole side at once.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import numpy as np

from matching import first_stage, hubness
from matching.documents import LOCAL_CATEGORIES, Item, Need, is_current
from matching.lexical import LexicalIndex, Terms
from matching.scoring import Calibration, MatchParams, raw_scores
from matching.store import Codebook, Side, is_county_wide
from matching.vocabulary import MEASURE_CATEGORIES

RERANK_SHARE = 0.05
"""With embeddings, the lexical term is computed for this share of the eligible items: the
best by the rest of the score (see :func:`rerank_pool`)..."""
RERANK_MIN = 200
"""...for at least this many (all of them when fewer are eligible)..."""
RERANK_MAX = 1000
"""...and at most this many (from 20,000 eligible items: the pool's cost stays below the
product's, which grows with the side)."""


def rerank_pool(eligible: int) -> int:
    """How many of the best first-stage candidates get the lexical term, of ``eligible``.

    A share rather than a fixed number: the hybrid top 10 is drawn from a semantic rank that
    grows with the other side, so a fixed pool misses more of it as the marketplace grows.
    Measured on the synthetic corpus (400 queries each; the top 10 against the one with the
    lexical term for every eligible item): a fixed 500 kept 1.000 of it at 10k items, 0.9985
    at 30k and 0.9975 at 45k (0.8 at worst); 5 % with at least 200 kept 0.9997 at 10k (223
    candidates on average) and 1.000 at 30k and 45k (571 and 778).

    Args:
        eligible: how many items of the other side are eligible.

    Returns:
        The pool's size.
    """
    return min(RERANK_MAX, max(RERANK_MIN, math.ceil(RERANK_SHARE * eligible)))


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


@dataclass(frozen=True)
class Query:
    """What a query brings to scoring: its document, vector, lexical terms and stored slot."""

    doc: Item
    vec: np.ndarray
    row: Terms
    slot: int | None


def eligible(doc: Item, cside: Side, codes: Codebook, today: dt.date | None) -> np.ndarray:
    """Which slots of ``cside`` may be paired with ``doc`` at all (open, current, district rule).

    Args:
        doc: the query (a need or an offer).
        cside: the other side.
        codes: the shared codebook.
        today: the date to judge expiry by.

    Returns:
        A boolean mask over the slots (read-only: it is cached until the side changes).
    """
    n = cside.n
    if not is_current(doc, today):
        return np.zeros(n, dtype=bool)
    day = (today or dt.date.today()).toordinal()
    local = doc.category in LOCAL_CATEGORIES
    if isinstance(doc, Need):
        county = is_county_wide(doc.district)
        bits = codes.known_bits([doc.district])
    else:
        county = any(is_county_wide(d) for d in doc.districts)
        bits = codes.known_bits(doc.districts)

    def mask() -> np.ndarray:
        ok = cside.alive[:n] & (cside.until[:n] >= day)
        reach = cside.county[:n] | county | ((cside.bits[:n] & bits) != 0)
        return ok & ((~cside.local[:n] & (not local)) | reach)

    # Queries share a handful of place rules (a district or a few, local help or not): the
    # mask is kept per rule until the side changes or the day turns.
    return cside.cached(f"eligible {local} {county} {bits}", day, mask)


def same_category(doc: Item, cside: Side, codes: Codebook) -> np.ndarray:
    """Where the categories agree (an offer's measure may imply the need's category)."""
    n = cside.n
    code = codes.known_code(doc.category)
    if isinstance(doc, Need):
        return (cside.cat[:n] == code) | (cside.cat2[:n] == code)
    code2 = codes.known_code(MEASURE_CATEGORIES.get(doc.measure or "", ""))
    return (cside.cat[:n] == code) | (cside.cat[:n] == code2)


def score(
    query: Query,
    qside: Side,
    cside: Side,
    codes: Codebook,
    lexical: LexicalIndex,
    params: MatchParams,
    semantic: bool,
    today: dt.date | None,
    *,
    approximate: bool = False,
) -> tuple[Item, np.ndarray, np.ndarray, np.ndarray]:
    """Raw scores of one query against every slot of the other side, and the eligible mask.

    Args:
        approximate: only the best candidates are wanted (a top few, not every item ranked):
            with a reduced basis fitted and a stored query, an approximate first stage picks
            which eligible slots are scored (see :mod:`matching.first_stage`); the others are
            left out of the returned mask, with a raw score of -inf and a cosine of 0.

    Returns:
        ``(query document, raw scores, cosines, eligible mask)``, one value per slot.
    """
    doc = query.doc
    n = cside.n
    if n == 0:
        empty = np.zeros(0, dtype=np.float32)
        return doc, empty, empty, np.zeros(0, dtype=bool)
    idf2 = lexical.idf_sq()
    if semantic and approximate and query.slot is not None and cside.basis is not None:
        return doc, *_shortlisted(query, qside, cside, codes, lexical, params, today)
    if semantic:
        cos = cside.vecs[:n] @ query.vec
        prior = params.hub_prior
        if query.slot is not None:
            qhub = float(hubness.hubs(qside, prior)[query.slot])
        else:
            qhub = hubness.query_hub(cside, cos, params.hub_k, prior)
        chub = hubness.hubs(cside, prior)
    else:
        cos = np.zeros(n, dtype=np.float32)
        qhub, chub = 0.0, np.zeros(n, dtype=np.float32)
    same = same_category(doc, cside, codes).astype(np.float32)
    ok = eligible(doc, cside, codes, today)
    # The lexical term is computed for eligible slots only (elsewhere it is 0, and the raw
    # score is masked out by ``ok`` wherever it is read).
    count = int(ok.sum())
    size = rerank_pool(count)
    if semantic and count > size:
        # Re-rank: the lexical term (bounded by lexical_weight) only reorders the best
        # semantic candidates, so it is computed for those alone.
        raw = _pooled(query, cside, lexical, idf2, params, cos, qhub, chub, same, size, ok=ok)
    else:
        lex = np.zeros(n, dtype=np.float32)
        slots = np.flatnonzero(ok)
        lex[slots] = cside.lex.scores(query.row, idf2, lexical.version, slots, lexical.lookup())
        raw = raw_scores(cos, qhub, chub, lex, same, params, semantic)
    raw = np.where(np.isfinite(raw), raw, -np.inf).astype(np.float32)
    return doc, raw, cos, ok


def _shortlisted(
    query: Query,
    qside: Side,
    cside: Side,
    codes: Codebook,
    lexical: LexicalIndex,
    params: MatchParams,
    today: dt.date | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`score` through the approximate first stage: the same values for the slots it keeps.

    The eligible slots are shortlisted in the reduced space (several times the re-rank pool),
    then scored as :func:`score` scores every slot: the exact cosine from the full vectors, the
    pool by the exact first-stage score, the lexical term for the pool. Where no more slots are
    eligible than the shortlist holds, all of them are scored exactly and nothing is approximate.
    """
    assert query.slot is not None and cside.basis is not None
    n = cside.n
    prior = params.hub_prior
    qhub = float(hubness.hubs(qside, prior)[query.slot])
    chub = hubness.hubs(cside, prior)
    same = same_category(query.doc, cside, codes)
    ok = eligible(query.doc, cside, codes, today)
    count = int(ok.sum())
    size = rerank_pool(count)
    wanted = first_stage.shortlist_size(size)
    if count > wanted:
        reduced_query = query.vec @ cside.basis
        slots = first_stage.shortlist(cside.reduced[:n], reduced_query, chub, params.category_bonus, same, ok, wanted)
    else:
        slots = np.flatnonzero(ok)
    cos = first_stage.cosines(cside.vecs, n, query.vec, slots)
    chub_, same_ = chub[slots], same[slots].astype(np.float32)
    raw = _pooled(query, cside, lexical, lexical.idf_sq(), params, cos, qhub, chub_, same_, size, slots=slots)
    out_raw = np.full(n, -np.inf, dtype=np.float32)
    out_raw[slots] = np.where(np.isfinite(raw), raw, -np.inf)
    out_cos = np.zeros(n, dtype=np.float32)
    out_cos[slots] = cos
    kept = np.zeros(n, dtype=bool)
    kept[slots] = True
    return out_raw, out_cos, kept


def _pooled(
    query: Query,
    cside: Side,
    lexical: LexicalIndex,
    idf2: np.ndarray,
    params: MatchParams,
    cos: np.ndarray,
    qhub: float,
    chub: np.ndarray,
    same: np.ndarray,
    size: int,
    *,
    ok: np.ndarray | None = None,
    slots: np.ndarray | None = None,
) -> np.ndarray:
    """Raw scores of candidate rows with the lexical term computed for the re-rank pool only.

    The pool is the best ``size`` rows by the first-stage score (rows where ``ok`` is False
    never enter it); outside it the raw score is the first-stage one, inside it is recomputed
    element by element with the lexical term, so each value is what the whole-side formula
    gives.

    Args:
        cos, chub, same: one value per candidate row (``same`` as float32).
        ok: which rows may enter the pool (all of them when None).
        slots: the side's slot of each row (row ``i`` is slot ``i`` when None).
    """
    raw = raw_scores(cos, qhub, chub, np.zeros(cos.size, dtype=np.float32), same, params)
    if raw.size > size:
        order = -raw if ok is None else np.where(ok, -raw, np.inf)
        # In slot order: the lexical rows are then read front to back (a seventh less time
        # than in the partition's order at 100,000 items); each value is computed alone.
        pool = np.sort(np.argpartition(order, size - 1)[:size])
    else:
        pool = np.arange(raw.size)
    lex = cside.lex.scores(query.row, idf2, lexical.version, pool if slots is None else slots[pool], lexical.lookup())
    raw[pool] = raw_scores(cos[pool], qhub, chub[pool], lex, same[pool], params)
    return raw


def fair_exposure(needs: Side, pledged: Collection[str], params: MatchParams, today: dt.date | None) -> np.ndarray:
    """The fairness term added to needs' raw scores when they are suggested to a supplier.

    A need gains up to ``fairness_weight`` as it waits (full at ``fairness_days``) and loses
    ``fairness_weight`` once it has a pledge, so among suggestions of similar fit the needs
    nobody has answered yet come first. Small by design: it never lifts a poor fit over a
    good one.

    Args:
        needs: the needs' side.
        pledged: ids of needs that already have a live pledge.
        params: the parameters (``fairness_weight``, ``fairness_days``).
        today: the date waits are counted to.

    Returns:
        One value per slot (zeros when the weight is 0).
    """
    n = needs.n
    if not params.fairness_weight:
        return np.zeros(n, dtype=np.float32)
    day = (today or dt.date.today()).toordinal()

    def waits() -> np.ndarray:
        return np.clip((day - needs.posted[:n]) / max(1, params.fairness_days), 0.0, 1.0).astype(np.float32)

    waited = needs.cached("waited", (day, params.fairness_days), waits).copy()
    slots = [needs.pos[i] for i in pledged if i in needs.pos]
    waited[slots] -= 1.0
    return params.fairness_weight * waited


def without(side: Side, ok: np.ndarray, exclude: Collection[str]) -> np.ndarray:
    """The eligible mask with the given ids taken out (needs a supplier has already answered)."""
    slots = [side.pos[i] for i in exclude if i in side.pos]
    if not slots:
        return ok
    ok = ok.copy()
    ok[slots] = False
    return ok


def ranked(
    side: Side, raw: np.ndarray, ok: np.ndarray, limit: int | None, calibration: Calibration
) -> list[tuple[str, float]]:
    """The eligible slots, best first, as ``(id, calibrated score)`` (at most ``limit``)."""
    idx = np.flatnonzero(ok)
    if limit is not None and idx.size > limit:
        values = raw[idx]
        last = values[np.argpartition(-values, limit - 1)[limit - 1]]
        # Every slot scoring as high as the last one kept, in slot order: equal scores at the
        # cut are then kept as with no limit, whichever slots were scored (the approximate
        # first stage scores fewer), not as the partition happened to leave them.
        idx = idx[values >= last]
    idx = idx[np.argsort(-raw[idx], kind="stable")][:limit]
    scores = calibration(raw[idx])
    return [(side.docs.id(i), float(s)) for i, s in zip(idx.tolist(), scores.tolist(), strict=True)]  # type: ignore[misc]


def answer(
    kind: str,
    ranking: list[tuple[str, float]],
    calibration: Calibration,
    titles: Callable[[str], str],
    explain: Callable[[str], tuple[str, ...]] | None = None,
    via: Mapping[str, str] | None = None,
) -> Suggestions:
    """The ranked suggestions, each marked good or not, with reasons when asked for."""
    threshold = calibration.threshold
    items = tuple(
        Suggestion(
            kind=kind,
            id=item_id,
            title=titles(item_id),
            score=round(value, 4),
            good=value >= threshold,
            reasons=explain(item_id) if explain is not None else (),
            via_offer=(via or {}).get(item_id),
        )
        for item_id, value in ranking
    )
    return Suggestions(items=items, no_good_match=not any(s.good for s in items), threshold=threshold)
