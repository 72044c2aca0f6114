"""Can a need's "no good match yet" be decided better than by one cut-off on its top score?

A study, run by ``python -m matching.tune A.json B.json --cross``; nothing here is used
when suggesting. For each set held out in turn, a decision is learnt on the other set only
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

import numpy as np

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
