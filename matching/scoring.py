"""How a need/offer pairing is scored: eligibility rules, the fused score and its calibration.

The raw score of a pairing is

    raw = 2·cos(need, offer) − hub(need) − hub(offer) + w_lex · lexical + b_cat · same_category

where ``cos`` is the cosine of the two sentence embeddings and ``hub(x)`` the mean cosine of
``x`` to its ``hub_k`` nearest items on the other side (cross-domain similarity local
scaling, CSLS): it discounts "hub" texts that look alike to everything and makes scores
comparable across queries. ``lexical`` is the cosine of hashed TF-IDF vectors over stemmed
words, word pairs, character n-grams and domain concept tokens. A logistic curve maps
``raw`` to a 0..1 score; below ``threshold`` the answer is "no good match yet".

The parameters live in ``params.json`` next to this module, written by
``python -m matching.tune FILE.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from matching.documents import LOCAL_CATEGORIES, Need, Offer, covers, is_current

PARAMS_PATH = Path(__file__).with_name("params.json")
"""Where the tuned parameters are shipped."""


@dataclass(frozen=True)
class Calibration:
    """A logistic map from raw score to 0..1 and the no-good-match threshold on that scale.

    Attributes:
        scale: slope of the logistic curve.
        offset: raw score that maps to 0.5.
        threshold: calibrated scores below this mean "no good match yet".
    """

    scale: float = 8.0
    offset: float = 0.45
    threshold: float = 0.5

    def __call__(self, raw: np.ndarray | float) -> np.ndarray:
        """Map raw scores to 0..1.

        Args:
            raw: raw fused scores.

        Returns:
            Calibrated scores in 0..1 (same shape).
        """
        z = np.clip(self.scale * (np.asarray(raw, dtype=np.float64) - self.offset), -40.0, 40.0)
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class MatchParams:
    """The matcher's few parameters.

    Attributes:
        hub_k: neighbours used for the hubness correction.
        hub_prior: hubness assumed for missing neighbours (when the other side has fewer
            than ``hub_k`` items); the median hubness of the tuning set.
        lexical_weight: weight of the lexical cosine beside the semantic term.
        category_bonus: added when need and offer share a category (a hint, not a rule).
        hybrid: calibration when sentence embeddings are available.
        lexical_only: calibration when the matcher runs without a model.
        lexical_only_weight: weight of the lexical cosine when there is no semantic term.
        fairness_weight: when needs are suggested to a supplier, the raw score a need gains
            for having waited ``fairness_days`` or more, and loses for already having a
            pledge (fair exposure; small, so it only reorders suggestions of similar fit).
        fairness_days: the wait at which the waiting bonus is full.
        tuned_on: description of the data the parameters were tuned on.
    """

    hub_k: int = 5
    hub_prior: float = 0.35
    lexical_weight: float = 0.5
    category_bonus: float = 0.2
    hybrid: Calibration = field(default_factory=Calibration)
    lexical_only: Calibration = field(default_factory=lambda: Calibration(8.0, 0.35, 0.5))
    lexical_only_weight: float = 1.5
    fairness_weight: float = 0.05
    fairness_days: int = 90
    tuned_on: str = "defaults"

    def to_json(self) -> str:
        """Serialise for ``params.json``.

        Returns:
            Indented JSON text.
        """
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> MatchParams:
        """Build from a dictionary as written by :meth:`to_json`.

        Args:
            data: the parsed JSON object.

        Returns:
            The parameters; unknown keys are ignored.
        """
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("hybrid", "lexical_only"):
            if isinstance(known.get(key), dict):
                known[key] = Calibration(**known[key])
        return replace(cls(), **known)


def load_params(path: str | Path | None = None) -> MatchParams:
    """Load the shipped (or a given) parameter file, falling back to defaults.

    Args:
        path: a JSON file written by ``matching.tune``; defaults to the shipped one.

    Returns:
        The parameters.
    """
    path = Path(path) if path else PARAMS_PATH
    if not path.exists():
        return MatchParams()
    return MatchParams.from_dict(json.loads(path.read_text(encoding="utf-8")))


def needs_local_help(need: Need) -> bool:
    """Whether a need is for physical help that must come from its own district.

    Args:
        need: the need.

    Returns:
        True for premises, transport and volunteering needs.
    """
    return need.category in LOCAL_CATEGORIES


def district_ok(need: Need, offer: Offer) -> bool:
    """The district rule for one pairing.

    Premises, transport and in-person volunteering only help where the offer covers the
    need's district (or is County-wide); the offer's own category counts too, so a premises
    offer in another district does not meet an "other" need for a room either.

    Args:
        need: the need.
        offer: the offer.

    Returns:
        True when the pairing is allowed by location.
    """
    local = need.category in LOCAL_CATEGORIES or offer.category in LOCAL_CATEGORIES
    return not local or covers(offer.districts, need.district)


def eligible(need: Need, offer: Offer, today: dt.date | None = None) -> bool:
    """Whether a pairing may be suggested at all.

    Args:
        need: the need.
        offer: the offer.
        today: the date to judge expiry by.

    Returns:
        True when both are open and current and the district rule allows it.
    """
    return is_current(need, today) and is_current(offer, today) and district_ok(need, offer)


def raw_scores(
    cos: np.ndarray,
    query_hub: float,
    candidate_hubs: np.ndarray,
    lexical: np.ndarray,
    same_category: np.ndarray,
    params: MatchParams,
    semantic: bool = True,
) -> np.ndarray:
    """The fused raw score of a query against many candidates.

    Args:
        cos: semantic cosines, one per candidate (ignored when ``semantic`` is False).
        query_hub: the query's hubness (mean cosine to its nearest candidates).
        candidate_hubs: each candidate's hubness.
        lexical: lexical cosines, one per candidate.
        same_category: 1.0 where the categories agree, else 0.0.
        params: the parameters.
        semantic: whether embeddings are in use.

    Returns:
        Raw scores (float32), larger is better.
    """
    if semantic:
        base = 2.0 * cos - query_hub - candidate_hubs + params.lexical_weight * lexical
    else:
        base = params.lexical_only_weight * lexical
    return (base + params.category_bonus * same_category).astype(np.float32)


def hubness(sims: np.ndarray, k: int) -> float:
    """Mean of the ``k`` largest similarities (0 when there are none).

    Args:
        sims: similarities of one item to the other side.
        k: neighbours to average.

    Returns:
        The hubness value.
    """
    if sims.size == 0:
        return 0.0
    k = min(k, sims.size)
    top = np.partition(sims, sims.size - k)[sims.size - k :]
    return float(top.mean())


def is_finite(x: float) -> bool:
    """Whether a number is finite (guards against NaN from broken vectors).

    Args:
        x: a number.

    Returns:
        True for finite values.
    """
    return math.isfinite(x)
