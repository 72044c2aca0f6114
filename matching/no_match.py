"""Can a need's "no good match yet" be decided better than by one cut-off on its top score?

A study, run by ``python -m matching.tune A.json B.json --cross`` (first part) and by
``python -m matching.no_match A.json B.json`` (second part: token alignment, conflicts read
from the texts, a per-pair classifier; see the notes before :data:`REMOTE`); nothing here is
used when suggesting. For each set held out in turn, a decision is learnt on the other set only
and judged on the held-out one (no-match accuracy over the needs nothing fits, false
no-match over the needs with an offer that meets them), beside the shipped decision.

Each decision is a logistic regression (scikit-learn, balanced classes) of "nothing fits
this need" on per-need features of its best candidates, with the cut-off on its
probability chosen on the training set by the rule the tune command uses for the top
score (best balanced accuracy with false no-match ≤ 0.05). The features, all read from the
matcher's raw scores and the items' fields (no word lists):

* ``top``: the best raw score; ``gap``: its margin over the second; ``z``: how far the best
  stands above the need's other eligible offers (z-score);
* ``mutual``: 1 / the need's rank among all needs for its best offer (is the need in the
  offer's own top?);
* ``typical``: the best score minus the mean of that offer's five best scores over all needs
  (hubness-corrected: an offer that scores well with everything counts for less);
* ``district``: whether the best offer names the need's own district (not just the county);
* ``coverage``: how much of the need its best offer speaks to: each sentence of the need
  (title included) is embedded on its own and given its best cosine to any sentence of
  the offer; the mean over the need's sentences (an offer that matches the gist but not
  one of the need's requirements scores lower).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matching.encoders import SemanticEncoder
    from matching.evaluation import Dataset
    from matching.scoring import MatchParams

Rankings = Mapping[str, Sequence[tuple[str, float]]]
"""Raw-score rankings by need: ``[(offer id, raw score)]``, best first, eligible offers only."""

FEATURES = ("top", "gap", "z", "mutual", "typical", "district", "coverage")
DECISIONS: dict[str, tuple[str, ...]] = {
    "top score only (shipped)": ("top",),
    "top score + typical": ("top", "typical"),
    "top score + typical + district": ("top", "typical", "district"),
    "top score + coverage": ("top", "coverage"),
    "top score + typical + coverage": ("top", "typical", "coverage"),
    "all seven features": FEATURES,
}
Coverage = Callable[[str, str], float]
"""``coverage(need id, offer id)`` (see the module docstring)."""


def sentences(title: str, description: str) -> list[str]:
    """A text's sentences for :func:`coverage`: the title, then each sentence of three words or more."""
    parts = re.split(r"(?<=[.!?])\s+|\s+[-–]\s+|\n+", description or "")
    return [title, *(p for p in parts if len(p.split()) >= 3)]


def coverage(need: np.ndarray, offer: np.ndarray) -> float:
    """Mean over the need's sentence vectors of the best cosine to any of the offer's."""
    if not len(need) or not len(offer):
        return 0.0
    return float((need @ offer.T).max(axis=1).mean())


MAX_FALSE_NO_MATCH = 0.05


@dataclass(frozen=True)
class Labelled:
    """Per-need features of one set and what the judgments say.

    Attributes:
        x: one row of :data:`FEATURES` per need.
        nothing_fits: 1 for a need without any relevant offer, 0 for one with an offer that
            meets it (relevance 2), -1 for a need with partial matches only (not counted).
    """

    x: np.ndarray
    nothing_fits: np.ndarray


def features(
    raw: Rankings, districts: Mapping[str, str], covered: Mapping[str, Sequence[str]], covers: Coverage
) -> np.ndarray:
    """The per-need features (see the module docstring), in the order of ``raw``.

    Args:
        raw: raw-score rankings by need.
        districts: each need's district.
        covered: each offer's districts.
        covers: the coverage of a need by an offer.

    Returns:
        An array of shape (needs, len(FEATURES)).
    """
    by_offer: dict[str, list[tuple[float, str]]] = {}
    for need_id, ranked in raw.items():
        for offer_id, value in ranked:
            by_offer.setdefault(offer_id, []).append((value, need_id))
    for column in by_offer.values():
        column.sort(reverse=True)
    rows = []
    for need_id, ranked in raw.items():
        if not ranked:
            rows.append([-10.0, 0.0, 0.0, 0.0, -10.0, 0.0, 0.0])
            continue
        scores = np.array([v for _, v in ranked])
        best_offer, top = ranked[0]
        second = scores[1] if scores.size > 1 else top - 1.0
        column = by_offer[best_offer]
        rank = 1 + sum(v > top for v, _ in column)
        typical = float(np.mean([v for v, _ in column[:5]]))
        rows.append(
            [
                top,
                top - second,
                (top - scores.mean()) / (scores.std() + 1e-6),
                1.0 / rank,
                top - typical,
                float(districts[need_id] in covered[best_offer]),
                covers(need_id, best_offer),
            ]
        )
    return np.array(rows, dtype=float)


def labelled(
    raw: Rankings,
    relevance: Mapping[str, Mapping[str, int]],
    districts: Mapping[str, str],
    covered: Mapping[str, Sequence[str]],
    covers: Coverage,
) -> Labelled:
    """Features and labels of one set.

    Args:
        raw: raw-score rankings by need.
        relevance: judged offers by need (``{offer id: 1 or 2}``).
        districts: each need's district.
        covered: each offer's districts.
        covers: the coverage of a need by an offer.

    Returns:
        The labelled features.
    """
    labels = []
    for need_id in raw:
        rels = relevance.get(need_id, {})
        labels.append(1 if not rels else (0 if 2 in rels.values() else -1))
    return Labelled(features(raw, districts, covered, covers), np.array(labels))


def judged(says_no_match: np.ndarray, nothing_fits: np.ndarray) -> tuple[float, float]:
    """``(no-match accuracy, false no-match)`` of a decision."""
    right = says_no_match[nothing_fits == 1]
    wrong = says_no_match[nothing_fits == 0]
    return (float(right.mean()) if right.size else 0.0, float(wrong.mean()) if wrong.size else 0.0)


def learn_and_judge(train: Labelled, test: Labelled, columns: Sequence[str]) -> dict[str, float]:
    """Learn one decision on ``train`` and judge it on ``test`` (and in-sample, for contrast).

    Args:
        train: the set it is learnt on.
        test: the held-out set.
        columns: which features.

    Returns:
        ``{"no_match_accuracy", "false_no_match", "in_sample_accuracy", "in_sample_false"}``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    idx = [FEATURES.index(c) for c in columns]
    counted = train.nothing_fits >= 0
    scaler = StandardScaler().fit(train.x[counted][:, idx])
    model = LogisticRegression(class_weight="balanced").fit(
        scaler.transform(train.x[counted][:, idx]), train.nothing_fits[counted]
    )
    p_train = model.predict_proba(scaler.transform(train.x[:, idx]))[:, 1]
    p_test = model.predict_proba(scaler.transform(test.x[:, idx]))[:, 1]
    best = (-1.0, 1.1)
    for cut in np.unique(p_train[counted]):
        acc, false = judged(p_train >= cut, train.nothing_fits)
        if false <= MAX_FALSE_NO_MATCH and (acc + 1 - false) / 2 > best[0]:
            best = ((acc + 1 - false) / 2, float(cut))
    acc, false = judged(p_test >= best[1], test.nothing_fits)
    in_acc, in_false = judged(p_train >= best[1], train.nothing_fits)
    return {
        "no_match_accuracy": round(acc, 3),
        "false_no_match": round(false, 3),
        "in_sample_accuracy": round(in_acc, 3),
        "in_sample_false": round(in_false, 3),
    }


# --- Second study: token alignment, conflicts read from the texts, a per-pair classifier ---
#
# Run by ``python -m matching.no_match A.json B.json`` (see :func:`main`); nothing here is used
# when suggesting either. The signals, none of them a word list fitted to our sets:
#
# * token alignment (BERTScore-style): the same MiniLM forward pass gives a contextual vector
#   per word piece; stop words (scikit-learn's generic English list) and punctuation dropped;
#   ``recall`` is the IDF-weighted mean over the need's pieces of the best cosine to any of the
#   offer's pieces ("does the offer cover what the need asks"), ``precision`` the reverse,
#   ``f`` their harmonic mean, ``missed`` the IDF share of the need's pieces no piece of the
#   offer reaches (cosine < 0.5), ``recall_vs_rest`` the recall minus the mean over the need's
#   best candidates; IDF over all needs and offers of the set (what a live corpus gives);
# * requirement conflicts: whether the offer serves the need's district (County-wide counts),
#   whether the offer's text names only other districts of the council, whether the need's
#   text names a district the offer does not serve, and how far the need and the offer lean
#   differently between remote and in person (each sentence's cosine to two generic
#   prototypes, below, the most leaning sentence kept);
# * the decision: a classifier (logistic regression, C = 0.1 or 1; or shallow gradient
#   boosting) of "this pair meets the need" over the best ``PAIR_K`` candidates, the need's
#   verdict "no good match" when no pair's probability clears a cut-off chosen on the training
#   data by the usual rule (best balanced accuracy with false no-match ≤ 0.05);
# * and one rule-shaped decision: the single cut-off applied to the best score among the
#   offers that serve the need's district (every relevance-2 pair of both sets has one).

REMOTE = ("by phone or online", "remotely, by video call or telephone")
IN_PERSON = ("in person, on site", "face to face at a venue")
PAIR_K = 3
PAIR_FEATURES = (
    "score",
    "rank",
    "below_best",
    "recall",
    "precision",
    "f",
    "missed",
    "recall_vs_rest",
    "serves_district",
    "offer_names_other",
    "need_names_other",
    "mode_conflict",
)
ALIGNMENT = ("score", "rank", "below_best", "recall", "precision", "f", "missed", "recall_vs_rest")
CONFLICTS = ("score", "serves_district", "offer_names_other", "need_names_other", "mode_conflict")
PAIR_DECISIONS: dict[str, tuple[tuple[str, ...], str, float]] = {
    "top + recall": (("score", "recall"), "logistic", 0.1),
    "top + F": (("score", "f"), "logistic", 0.1),
    "top + recall + precision": (("score", "recall", "precision"), "logistic", 1.0),
    "top + missed": (("score", "missed"), "logistic", 1.0),
    "top + all alignment": (ALIGNMENT, "logistic", 0.1),
    "top + conflicts": (CONFLICTS, "logistic", 0.1),
    "top + mode conflict": (("score", "mode_conflict"), "logistic", 0.1),
    "everything, logistic": (PAIR_FEATURES, "logistic", 0.1),
    "top + alignment, boosting": (ALIGNMENT, "boosting", 0.0),
    "everything, boosting": (PAIR_FEATURES, "boosting", 0.0),
}


@dataclass(frozen=True)
class Tokens:
    """A text's content word pieces and their unit vectors (float16: small enough to keep)."""

    pieces: tuple[str, ...]
    vectors: np.ndarray


def content_tokens(pieces: Sequence[str], vectors: np.ndarray) -> Tokens:
    """Keep the pieces that carry content: no ``[CLS]``/``[SEP]``, punctuation or stop words."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    keep = [
        i
        for i, p in enumerate(pieces)
        if p not in ("[CLS]", "[SEP]") and re.search(r"[a-z0-9]", p) and p.lstrip("#") not in ENGLISH_STOP_WORDS
    ]
    v = vectors[keep]
    v = v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-9)
    return Tokens(tuple(pieces[i] for i in keep), v.astype(np.float16))


def idf(texts: Sequence[Tokens]) -> dict[str, float]:
    """Smoothed inverse document frequency of each piece over ``texts``."""
    df: dict[str, int] = {}
    for t in texts:
        for p in set(t.pieces):
            df[p] = df.get(p, 0) + 1
    n = len(texts)
    return {p: float(np.log((n + 1) / (c + 1)) + 1) for p, c in df.items()}


def alignment(need: Tokens, offer: Tokens, weights: Mapping[str, float]) -> tuple[float, float, float, float]:
    """``(recall, precision, f, missed)`` of a need by an offer (see the notes above)."""
    if not need.pieces or not offer.pieces:
        return 0.0, 0.0, 0.0, 1.0
    sims = need.vectors.astype(np.float32) @ offer.vectors.astype(np.float32).T
    wn = np.array([weights.get(p, 1.0) for p in need.pieces])
    wo = np.array([weights.get(p, 1.0) for p in offer.pieces])
    best_n, best_o = sims.max(axis=1), sims.max(axis=0)
    recall = float(wn @ best_n / wn.sum())
    precision = float(wo @ best_o / wo.sum())
    f = 2 * recall * precision / (recall + precision) if recall + precision > 0 else 0.0
    return recall, precision, f, float(wn @ (best_n < 0.5) / wn.sum())


def mode_lean(sentence_vectors: np.ndarray, remote: np.ndarray, in_person: np.ndarray) -> float:
    """How far a text leans to remote (> 0) or in person (< 0): its most leaning sentence."""
    if not len(sentence_vectors):
        return 0.0
    lean = sentence_vectors @ remote - sentence_vectors @ in_person
    return float(lean[np.argmax(np.abs(lean))])


def named_districts(text: str, districts: Sequence[str]) -> set[str]:
    """The council's districts a text names."""
    low = text.casefold()
    return {d for d in districts if d.casefold() in low}


@dataclass(frozen=True)
class PairSet:
    """Per-pair features of the best candidates of one set's needs, and what is judged.

    Attributes:
        x: one row of :data:`PAIR_FEATURES` per pair.
        need: the row's need (its index in ``nothing_fits``).
        relevance: the pair's judged relevance (0 unjudged, 1 partial, 2 meets the need).
        nothing_fits: per need, as in :class:`Labelled`.
        top_serving: per need, the best score among the offers that serve its district.
        group: per need, a name of the set it comes from (for pooled folds).
    """

    x: np.ndarray
    need: np.ndarray
    relevance: np.ndarray
    nothing_fits: np.ndarray
    top_serving: np.ndarray
    group: np.ndarray

    def subset(self, needs: np.ndarray) -> PairSet:
        """The pairs of the given needs (indices), renumbered."""
        index = {int(n): i for i, n in enumerate(needs)}
        rows = np.array([int(n) in index for n in self.need])
        return PairSet(
            self.x[rows],
            np.array([index[int(n)] for n in self.need[rows]], dtype=int),
            self.relevance[rows],
            self.nothing_fits[needs],
            self.top_serving[needs],
            self.group[needs],
        )

    @staticmethod
    def join(parts: Sequence[PairSet]) -> PairSet:
        """Several sets' pairs as one."""
        offsets = np.cumsum([0, *(len(p.nothing_fits) for p in parts)])
        return PairSet(
            np.vstack([p.x for p in parts]),
            np.concatenate([p.need + o for p, o in zip(parts, offsets, strict=False)]),
            np.concatenate([p.relevance for p in parts]),
            np.concatenate([p.nothing_fits for p in parts]),
            np.concatenate([p.top_serving for p in parts]),
            np.concatenate([p.group for p in parts]),
        )


def choose_cut(match: np.ndarray, nothing_fits: np.ndarray) -> float:
    """The cut-off on a per-need match score ("no good match" below it) by the usual rule."""
    counted = nothing_fits >= 0
    values = np.unique(match[counted])
    if not values.size:
        return 0.0
    cands = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    best: tuple[tuple[bool, float], float] | None = None
    for cut in cands:
        acc, false = judged(match < cut, nothing_fits)
        key = (false <= MAX_FALSE_NO_MATCH, (acc + 1 - false) / 2)
        if best is None or key > best[0]:
            best = (key, float(cut))
    assert best is not None
    return best[1]


def _need_best(values: np.ndarray, need: np.ndarray, needs: int) -> np.ndarray:
    out = np.full(needs, -np.inf)
    np.maximum.at(out, need, values)
    return out


def pair_decision(train: PairSet, test: PairSet, decision: str) -> tuple[np.ndarray, np.ndarray]:
    """Learn one decision on ``train``; its "no good match" verdicts on ``(train, test)``.

    ``decision`` is ``"top score"``, ``"top score serving the district"`` or a key of
    :data:`PAIR_DECISIONS`.
    """
    if decision == "top score":
        score = PAIR_FEATURES.index("score")
        a = _need_best(train.x[:, score], train.need, len(train.nothing_fits))
        b = _need_best(test.x[:, score], test.need, len(test.nothing_fits))
    elif decision == "top score serving the district":
        a, b = train.top_serving, test.top_serving
    else:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        columns, kind, c = PAIR_DECISIONS[decision]
        idx = [PAIR_FEATURES.index(f) for f in columns]
        # Partial matches (relevance 1) are neither a match nor a clear miss: left out.
        fit = train.relevance != 1
        scaler = StandardScaler().fit(train.x[fit][:, idx])
        model = (
            LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
            if kind == "logistic"
            else HistGradientBoostingClassifier(
                max_depth=2, max_iter=60, learning_rate=0.05, l2_regularization=1.0, min_samples_leaf=20
            )
        )
        model.fit(scaler.transform(train.x[fit][:, idx]), train.relevance[fit] == 2)

        def best(s: PairSet) -> np.ndarray:
            p = model.predict_proba(scaler.transform(s.x[:, idx]))[:, 1]
            return _need_best(p, s.need, len(s.nothing_fits))

        a, b = best(train), best(test)
    cut = choose_cut(a, train.nothing_fits)
    return a < cut, b < cut


PAIR_STUDY = ("top score", "top score serving the district", *PAIR_DECISIONS)


def pooled_folds(data: PairSet, decision: str, folds: int = 5, seeds: int = 3) -> dict[str, tuple[float, float]]:
    """Stratified k-fold over the needs of several sets pooled, repeated; mean figures per set.

    Folds are stratified by set and verdict, so each fold has its share of each set's needs
    nothing fits. Returns ``{set name: (no-match accuracy, false no-match)}``.
    """
    from sklearn.model_selection import StratifiedKFold

    counted = np.flatnonzero(data.nothing_fits >= 0)
    strata = [f"{g}:{v}" for g, v in zip(data.group[counted], data.nothing_fits[counted], strict=True)]
    per_set: dict[str, list[tuple[float, float]]] = {}
    for seed in range(seeds):
        says = np.zeros(len(data.nothing_fits), dtype=bool)
        for a, b in StratifiedKFold(folds, shuffle=True, random_state=seed).split(counted, strata):
            _, verdict = pair_decision(data.subset(counted[a]), data.subset(counted[b]), decision)
            says[counted[b]] = verdict
        for g in np.unique(data.group):
            mine = data.group == g
            per_set.setdefault(str(g), []).append(judged(says[mine], data.nothing_fits[mine]))
    return {g: (float(np.mean([r[0] for r in rs])), float(np.mean([r[1] for r in rs]))) for g, rs in per_set.items()}


def pair_set(dataset: Dataset, raw: Rankings, encoder: SemanticEncoder, k: int = PAIR_K) -> PairSet:
    """The per-pair features of one set's best ``k`` candidates (see the notes above).

    Args:
        dataset: the judged set.
        raw: its raw-score rankings by need (eligible offers, best first).
        encoder: the semantic encoder (token vectors and sentence vectors come from it).
        k: candidates per need.

    Returns:
        The pairs, with each need's verdict and best score among the offers serving it.
    """
    from matching.documents import covers, item_text

    items = [*dataset.needs, *dataset.offers]
    texts = [item_text(i) for i in items]
    tokens = {
        (type(i).__name__, i.id): content_tokens(*tv) for i, tv in zip(items, encoder.token_vectors(texts), strict=True)
    }
    weights = idf(list(tokens.values()))
    remote, in_person = (encoder.encode(list(p)).mean(axis=0) for p in (REMOTE, IN_PERSON))
    lean = {}
    for item, text in zip(items, texts, strict=True):
        parts = [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 2] or [text]
        lean[(type(item).__name__, item.id)] = mode_lean(encoder.encode(parts), remote, in_person)
    council = sorted({n.district for n in dataset.needs} | {d for o in dataset.offers for d in o.districts})
    offers = {o.id: o for o in dataset.offers}
    rows, need_of, relevance, verdicts, serving = [], [], [], [], []
    for index, need in enumerate(dataset.needs):
        rels = dataset.relevant(need.id)
        verdicts.append(1 if not rels else (0 if 2 in rels.values() else -1))
        ranked = list(raw.get(need.id, []))
        serving.append(max((s for o, s in ranked if covers(offers[o].districts, need.district)), default=-10.0))
        best = ranked[:k]
        aligned = [alignment(tokens[("Need", need.id)], tokens[("Offer", o)], weights) for o, _ in best]
        named_by_need = named_districts(item_text(need), council)
        for rank, ((offer_id, score), al) in enumerate(zip(best, aligned, strict=True)):
            offer = offers[offer_id]
            named_by_offer = named_districts(item_text(offer), council)
            rows.append(
                [
                    score,
                    rank,
                    best[0][1] - score,
                    *al,
                    al[0] - float(np.mean([a[0] for a in aligned])),
                    float(covers(offer.districts, need.district)),
                    float(bool(named_by_offer) and need.district not in named_by_offer),
                    float(bool(named_by_need) and not any(covers(offer.districts, d) for d in named_by_need)),
                    abs(lean[("Need", need.id)] - lean[("Offer", offer_id)]),
                ]
            )
            need_of.append(index)
            relevance.append(rels.get(offer_id, 0))
    return PairSet(
        np.array(rows, dtype=float).reshape(-1, len(PAIR_FEATURES)),
        np.array(need_of, dtype=int),
        np.array(relevance, dtype=int),
        np.array(verdicts, dtype=int),
        np.array(serving, dtype=float),
        np.array([dataset.name or "unnamed"] * len(dataset.needs)),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m matching.no_match A.json B.json``: the second study's two tables.

    Leave one set out (the matcher's parameters and the decision learnt on the other set), then
    pooled stratified 5-fold (three seeds) over the needs of both sets, with the matcher's
    parameters learnt on both sets (so only the decision is cross-validated there).
    """
    import argparse

    from matching.encoders import load_semantic_encoder
    from matching.evaluation import load_dataset
    from matching.tune import _raw_rankings, tune

    parser = argparse.ArgumentParser(
        prog="python -m matching.no_match",
        description=(
            "The 'no good match' study, second part: decisions over token alignment, conflicts read "
            "from the texts and a per-pair classifier. Prints no-match accuracy / false no-match per "
            "set, leave one set out, then pooled stratified 5-fold over both sets (docs/MATCHING.md)."
        ),
    )
    parser.add_argument("files", nargs=2, metavar="FILE")
    parser.add_argument("--k", type=int, default=PAIR_K, help=f"candidates per need (default {PAIR_K})")
    args = parser.parse_args(argv)
    sets = [load_dataset(f) for f in args.files]
    encoder = load_semantic_encoder()
    if encoder is None:
        parser.error("the study needs the embedding model")

    def pairs(ds: Dataset, params: MatchParams) -> PairSet:
        return pair_set(ds, _raw_rankings(ds, params, encoder, None)[0], encoder, args.k)

    print("leave one set out: matcher parameters and decision learnt on the other set")
    print(f"{'decision':>32} " + " ".join(f"{ds.name + ' acc./false':>26}" for ds in sets))
    crossed = []
    for i, held in enumerate(sets):
        params = tune([sets[1 - i]], encoder)
        crossed.append((pairs(sets[1 - i], params), pairs(held, params)))
    for decision in PAIR_STUDY:
        cells = []
        for train, test in crossed:
            acc, false = judged(pair_decision(train, test, decision)[1], test.nothing_fits)
            cells.append(f"{acc:.3f}/{false:.3f}")
        print(f"{decision:>32} " + " ".join(f"{c:>26}" for c in cells))
    print("pooled stratified 5-fold x 3 seeds over both sets' needs (matcher parameters learnt on both)")
    params = tune(sets, encoder)
    pooled = PairSet.join([pairs(ds, params) for ds in sets])
    for decision in PAIR_STUDY:
        figures = pooled_folds(pooled, decision)
        cells = [f"{acc:.3f}/{false:.3f}" for acc, false in (figures[ds.name or "unnamed"] for ds in sets)]
        print(f"{decision:>32} " + " ".join(f"{c:>26}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
