"""Offline evaluation of the matcher against judged need/offer pairs, beside three baselines.

``run_evaluation`` is the single entry point (the ``marketplace evaluate-matching``
command calls it). The set format is described in ``shared/eval/FORMAT.md``: needs,
offers and judgments with relevance 2 (meets the need) or 1 (partly meets it).

Systems compared, all in the same run:

* ``hybrid``: :class:`matching.matcher.Matcher` with the shipped parameters.
* ``lexical``: plain scikit-learn TF-IDF (English stop words) cosine, no rules;
  "no good match" when the best cosine is under ``LEXICAL_THRESHOLD``.
* ``semantic``: plain embedding cosine, no rules; threshold ``SEMANTIC_THRESHOLD``.
* ``fused``: the plain reference — per-need z-scored TF-IDF cosine plus embedding cosine,
  offers outside the need's district dropped for premises, transport and volunteering,
  ``FUSED_CATEGORY_BONUS`` added for the same category; threshold ``FUSED_THRESHOLD`` on
  the best fused score.

The baseline thresholds are fixed round numbers, not tuned.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import math
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from matching.documents import LOCAL_CATEGORIES, Need, Offer, covers, item_text
from matching.encoders import SemanticEncoder, load_semantic_encoder
from matching.matcher import Matcher, embed_items
from matching.scoring import MatchParams, load_params

METRICS = ("recall@5", "recall@10", "mrr", "ndcg@10", "no_match_accuracy", "false_no_match")
"""The keys of each system's result, in display order."""

SYSTEMS = ("hybrid", "lexical", "semantic", "fused")
"""The systems compared, in display order."""

LEXICAL_THRESHOLD = 0.10
SEMANTIC_THRESHOLD = 0.35
FUSED_CATEGORY_BONUS = 0.5
FUSED_THRESHOLD = 3.0

CATEGORIES = frozenset(
    [
        "premises",
        "advertising",
        "goods",
        "volunteering",
        "expertise",
        "skills-and-jobs",
        "environment",
        "transport",
        "funding",
        "other",
    ]
)
_DEFAULT = object()


class DatasetError(ValueError):
    """An evaluation set is malformed; the message lists every problem found."""


@dataclass(frozen=True)
class Dataset:
    """A parsed, validated evaluation set.

    Attributes:
        name: the set's name.
        needs: its needs.
        offers: its offers.
        judgments: relevance (1 or 2) by ``(need_id, offer_id)``.
    """

    name: str
    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    judgments: Mapping[tuple[str, str], int]

    def relevant(self, need_id: str) -> dict[str, int]:
        """Judged offers of one need.

        Args:
            need_id: the need.

        Returns:
            ``{offer_id: relevance}``.
        """
        return {o: r for (n, o), r in self.judgments.items() if n == need_id}


def _text(obj: Mapping[str, Any], key: str, where: str, errors: list[str], required: bool = True) -> str:
    value = obj.get(key)
    if value is None:
        if required:
            errors.append(f"{where}: missing {key!r}")
        return ""
    if not isinstance(value, str):
        errors.append(f"{where}: {key!r} must be a string")
        return ""
    return value


def parse_dataset(data: Any) -> Dataset:
    """Validate and convert a parsed evaluation set.

    Args:
        data: the JSON object (as from ``json.load``).

    Returns:
        The dataset.

    Raises:
        DatasetError: listing every problem (missing fields, unknown ids, bad relevance...).
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise DatasetError("An evaluation set must be a JSON object with needs, offers and judgments.")
    for key in ("needs", "offers", "judgments"):
        if not isinstance(data.get(key), list):
            errors.append(f"{key!r} must be a list")
    if errors:
        raise DatasetError("; ".join(errors))
    needs: list[Need] = []
    offers: list[Offer] = []
    for i, raw in enumerate(data["needs"]):
        where = f"needs[{i}]"
        if not isinstance(raw, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        nid = raw.get("id")
        if not isinstance(nid, str | int) or str(nid) == "":
            errors.append(f"{where}: missing 'id'")
            continue
        where = f"need {nid}"
        cat = _text(raw, "category", where, errors)
        if cat and cat not in CATEGORIES:
            errors.append(f"{where}: unknown category {cat!r}")
        outcomes = raw.get("outcomes", [])
        if not isinstance(outcomes, list) or not all(isinstance(x, str) for x in outcomes):
            errors.append(f"{where}: 'outcomes' must be a list of strings")
            outcomes = []
        needs.append(
            Need(
                id=str(nid),
                title=_text(raw, "title", where, errors),
                description=_text(raw, "description", where, errors, required=False),
                category=cat or "other",
                district=_text(raw, "district", where, errors) or "County-wide",
                outcomes=tuple(outcomes),
                quantity=_text(raw, "quantity", where, errors, required=False),
            )
        )
    for i, raw in enumerate(data["offers"]):
        where = f"offers[{i}]"
        if not isinstance(raw, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        oid = raw.get("id")
        if not isinstance(oid, str | int) or str(oid) == "":
            errors.append(f"{where}: missing 'id'")
            continue
        where = f"offer {oid}"
        cat = _text(raw, "category", where, errors)
        if cat and cat not in CATEGORIES:
            errors.append(f"{where}: unknown category {cat!r}")
        districts = raw.get("districts")
        if not isinstance(districts, list) or not districts or not all(isinstance(d, str) for d in districts):
            errors.append(f"{where}: 'districts' must be a non-empty list of strings")
            districts = ["County-wide"]
        offers.append(
            Offer(
                id=str(oid),
                title=_text(raw, "title", where, errors),
                description=_text(raw, "description", where, errors, required=False),
                category=cat or "other",
                districts=tuple(districts),
                measure=raw.get("measure") if isinstance(raw.get("measure"), str) else None,
                supplier=raw.get("supplier") if isinstance(raw.get("supplier"), str) else None,
            )
        )
    for kind, docs in (("need", needs), ("offer", offers)):
        seen: set[str] = set()
        for doc in docs:
            if doc.id in seen:
                errors.append(f"duplicate {kind} id {doc.id!r}")
            seen.add(doc.id)
    need_ids = {n.id for n in needs}
    offer_ids = {o.id for o in offers}
    judgments: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(data["judgments"]):
        where = f"judgments[{i}]"
        if not isinstance(raw, Mapping):
            errors.append(f"{where}: must be an object")
            continue
        n, o, r = str(raw.get("need", "")), str(raw.get("offer", "")), raw.get("relevance")
        if n not in need_ids:
            errors.append(f"{where}: unknown need {n!r}")
        if o not in offer_ids:
            errors.append(f"{where}: unknown offer {o!r}")
        if r not in (0, 1, 2) or isinstance(r, bool):
            errors.append(f"{where}: relevance must be 0, 1 or 2, not {r!r}")
            continue
        if (n, o) in judgments:
            errors.append(f"{where}: pair ({n}, {o}) judged twice")
        if r:
            judgments[(n, o)] = int(r)
    if not needs:
        errors.append("the set has no needs")
    if not offers:
        errors.append("the set has no offers")
    if errors:
        shown = errors[:20]
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise DatasetError("Malformed evaluation set: " + "; ".join(shown) + more)
    return Dataset(str(data.get("name", "")), tuple(needs), tuple(offers), judgments)


def load_dataset(path_or_dataset: str | Path | Mapping[str, Any] | Dataset) -> Dataset:
    """Read and validate an evaluation set.

    Args:
        path_or_dataset: a JSON file path, an already parsed JSON object, or a Dataset.

    Returns:
        The dataset.

    Raises:
        DatasetError: the file is missing, not JSON, or malformed.
    """
    if isinstance(path_or_dataset, Dataset):
        return path_or_dataset
    if isinstance(path_or_dataset, Mapping):
        return parse_dataset(path_or_dataset)
    path = Path(path_or_dataset)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(f"No such evaluation set: {path}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path} is not a UTF-8 JSON file: {exc}") from exc
    return parse_dataset(data)


# ------------------------------------------------------------------------- metrics
def ndcg(ranked: Sequence[str], rels: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (relevance 2 and 1).

    Args:
        ranked: offer ids, best first.
        rels: relevance by offer id.
        k: cut-off.

    Returns:
        0..1 (0 when nothing is relevant).
    """
    dcg = sum(rels.get(o, 0) / math.log2(i + 2) for i, o in enumerate(ranked[:k]))
    ideal = sorted(rels.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: Sequence[str], rels: Mapping[str, int], k: int) -> float:
    """Share of the relevant offers found in the top k.

    Args:
        ranked: offer ids, best first.
        rels: relevance by offer id (any positive relevance counts).
        k: cut-off.

    Returns:
        0..1.
    """
    wanted = {o for o, r in rels.items() if r > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def reciprocal_rank(ranked: Sequence[str], rels: Mapping[str, int]) -> float:
    """Reciprocal rank of the first offer of relevance 2 (0 when none is ranked).

    Args:
        ranked: offer ids, best first.
        rels: relevance by offer id.

    Returns:
        0..1.
    """
    for i, o in enumerate(ranked):
        if rels.get(o) == 2:
            return 1.0 / (i + 1)
    return 0.0


def score_system(
    dataset: Dataset, rankings: Mapping[str, Sequence[str]], no_match: Mapping[str, bool], k: int = 10
) -> dict[str, float]:
    """The six metrics of one system.

    Args:
        dataset: the evaluation set.
        rankings: offer ids best first, by need id (already cut to the suggestion list length).
        no_match: whether the system says "no good match" for each need.
        k: length of the suggestion list (cut-off for every ranking metric).

    Returns:
        ``{metric: value}`` with exactly the keys in :data:`METRICS`.
    """
    sums = dict.fromkeys(("recall@5", "recall@10", "mrr", "ndcg@10"), 0.0)
    judged = nomatch_total = nomatch_right = full_total = full_wrong = 0
    for need in dataset.needs:
        rels = dataset.relevant(need.id)
        ranked = list(rankings.get(need.id, ()))[:k]
        if not rels:
            nomatch_total += 1
            nomatch_right += bool(no_match.get(need.id, True))
            continue
        judged += 1
        sums["recall@5"] += recall(ranked, rels, 5)
        sums["recall@10"] += recall(ranked, rels, 10)
        sums["mrr"] += reciprocal_rank(ranked, rels)
        sums["ndcg@10"] += ndcg(ranked, rels, 10)
        if 2 in rels.values():
            full_total += 1
            full_wrong += bool(no_match.get(need.id, True))
    out = {key: (value / judged if judged else 0.0) for key, value in sums.items()}
    out["no_match_accuracy"] = nomatch_right / nomatch_total if nomatch_total else 0.0
    out["false_no_match"] = full_wrong / full_total if full_total else 0.0
    return {key: round(out[key], 4) for key in METRICS}


# ------------------------------------------------------------------------- systems
def hybrid_rankings(
    dataset: Dataset,
    encoder: SemanticEncoder | None,
    params: MatchParams | None = None,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[dict[str, list[tuple[str, float]]], Matcher]:
    """Rank every eligible offer for every need with the hybrid matcher.

    Args:
        dataset: the evaluation set.
        encoder: the semantic encoder (None: lexical only).
        params: scoring parameters (default: the shipped ones).
        vectors: precomputed need and offer vectors, if any.

    Returns:
        ``({need_id: [(offer_id, score)]}, matcher)``.
    """
    nv = ov = None
    if vectors is not None:
        nv = {n.id: v for n, v in zip(dataset.needs, vectors[0], strict=True)}
        ov = {o.id: v for o, v in zip(dataset.offers, vectors[1], strict=True)}
    matcher = Matcher.build(dataset.needs, dataset.offers, nv, ov, encoder=encoder, params=params)
    return {n.id: matcher.rank_offers(n.id) for n in dataset.needs}, matcher


def _tfidf(dataset: Dataset) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [item_text(n) for n in dataset.needs] + [item_text(o) for o in dataset.offers]
    vec = TfidfVectorizer(stop_words="english")
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # every text empty or stop words only
        return np.zeros((len(dataset.needs), len(dataset.offers)))
    return (x[: len(dataset.needs)] @ x[len(dataset.needs) :].T).toarray()


def _rank_matrix(
    dataset: Dataset, scores: np.ndarray, threshold: float
) -> tuple[dict[str, list[str]], dict[str, bool]]:
    rankings: dict[str, list[str]] = {}
    no_match: dict[str, bool] = {}
    for i, need in enumerate(dataset.needs):
        row = scores[i]
        order = [j for j in np.argsort(-row, kind="stable") if np.isfinite(row[j])]
        rankings[need.id] = [dataset.offers[j].id for j in order]
        no_match[need.id] = not order or float(row[order[0]]) < threshold
    return rankings, no_match


def baseline_scores(dataset: Dataset, need_vecs: np.ndarray, offer_vecs: np.ndarray) -> dict[str, np.ndarray]:
    """Score matrices (needs × offers) of the three baselines; -inf marks dropped pairs.

    Args:
        dataset: the evaluation set.
        need_vecs: embeddings of the needs.
        offer_vecs: embeddings of the offers.

    Returns:
        ``{"lexical": ..., "semantic": ..., "fused": ...}``.
    """
    lex = _tfidf(dataset)
    sem = need_vecs @ offer_vecs.T

    def z(m: np.ndarray) -> np.ndarray:
        return (m - m.mean(axis=1, keepdims=True)) / (m.std(axis=1, keepdims=True) + 1e-9)

    same = np.array([[n.category == o.category for o in dataset.offers] for n in dataset.needs], dtype=float)
    allowed = np.array(
        [
            [n.category not in LOCAL_CATEGORIES or covers(o.districts, n.district) for o in dataset.offers]
            for n in dataset.needs
        ]
    )
    fused = np.where(allowed, z(lex) + z(sem) + FUSED_CATEGORY_BONUS * same, -np.inf)
    return {"lexical": lex, "semantic": sem, "fused": fused}


def run_evaluation(
    path_or_dataset: str | Path | Mapping[str, Any] | Dataset,
    k: int = 10,
    encoder: SemanticEncoder | str | object | None = _DEFAULT,
    params: MatchParams | None = None,
) -> dict[str, dict[str, float]]:
    """Evaluate the hybrid matcher and the three baselines on one set.

    Args:
        path_or_dataset: a JSON file, a parsed JSON object or a :class:`Dataset`.
        k: length of the suggestion list; every ranking metric is cut there (default 10).
        encoder: a loaded semantic encoder, or a model name/path for
            :func:`matching.encoders.load_semantic_encoder` (default: the configured model).
        params: hybrid scoring parameters (default: the shipped ones).

    Returns:
        ``{"hybrid": {...}, "lexical": {...}, "semantic": {...}, "fused": {...}}``, each with
        the keys ``recall@5``, ``recall@10``, ``mrr``, ``ndcg@10``, ``no_match_accuracy`` and
        ``false_no_match``.

    Raises:
        DatasetError: the set is missing or malformed.
        ModelUnavailable: the embedding model cannot be loaded.
        ValueError: ``k`` is not positive, or no embedding model is configured.
    """
    if not isinstance(k, int) or k < 1:
        raise ValueError("k must be a positive whole number")
    dataset = load_dataset(path_or_dataset)
    if encoder is _DEFAULT:
        encoder = load_semantic_encoder(None)
    elif isinstance(encoder, str):
        encoder = load_semantic_encoder(encoder)
    if not isinstance(encoder, SemanticEncoder):
        raise ValueError(
            "The evaluation compares against embedding baselines and needs an embedding model; "
            "configure one (MARKETPLACE_EMBEDDING_MODEL is 'none')."
        )
    need_vecs = embed_items(dataset.needs, encoder)
    offer_vecs = embed_items(dataset.offers, encoder)
    ranked, matcher = hybrid_rankings(dataset, encoder, params, (need_vecs, offer_vecs))
    threshold = matcher.params.hybrid.threshold
    results = {
        "hybrid": score_system(
            dataset,
            {n: [o for o, _ in r] for n, r in ranked.items()},
            {n: not r or r[0][1] < threshold for n, r in ranked.items()},
            k,
        )
    }
    thresholds = {"lexical": LEXICAL_THRESHOLD, "semantic": SEMANTIC_THRESHOLD, "fused": FUSED_THRESHOLD}
    for name, scores in baseline_scores(dataset, need_vecs, offer_vecs).items():
        rankings, no_match = _rank_matrix(dataset, scores, thresholds[name])
        results[name] = score_system(dataset, rankings, no_match, k)
    return results


FAIRNESS = ("share_exposed", "gini", "pledged_needs")
"""The keys of each fairness row, in display order."""


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient of non-negative values (0: all equal; near 1: one takes all).

    Args:
        values: e.g. how many suppliers see each need.

    Returns:
        0..1 (0 for an empty or all-zero list).
    """
    x = np.sort(np.asarray(values, dtype=float))
    n, total = len(x), float(x.sum())
    if not n or total == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1).dot(x) / (n * total))


def exposure(matcher: Matcher, dataset: Dataset, k: int = 10) -> dict[str, float]:
    """Fair exposure on a judged set (see :func:`supplier_exposure`).

    Offers are grouped by supplier (an offer without one is its own supplier), in the set's
    order.

    Args:
        matcher: the matcher, built on the set.
        dataset: the set.
        k: suggestion list length.

    Returns:
        ``{"share_exposed", "gini", "pledged_needs"}``.
    """
    suppliers: dict[str, list[str]] = {}
    for offer in dataset.offers:
        suppliers.setdefault(offer.supplier or f"offer:{offer.id}", []).append(offer.id)
    return supplier_exposure(matcher, suppliers.values(), [n.id for n in dataset.needs], k)


def supplier_exposure(
    matcher: Matcher,
    suppliers: Iterable[Sequence[str]],
    need_ids: Sequence[str],
    k: int = 10,
    today: dt.date | None = None,
    pledged: Collection[str] = (),
) -> dict[str, float]:
    """Fair exposure as suppliers arrive one after another and each pledges to its best need.

    Each supplier in turn is shown its top ``k`` needs across its offers, with the needs
    already pledged to passed to the matcher, and pledges to its best good suggestion.
    Measured: the share of needs that appear in at least one supplier's top ``k``, the Gini
    coefficient of how many suppliers see each need, and the share of needs that end with a
    pledge. The one place these figures are computed (the evaluation and the bench).

    Args:
        matcher: the matcher holding the needs and offers.
        suppliers: each supplier's offer ids, in the order they arrive.
        need_ids: the open needs counted (a need no supplier sees counts as 0).
        k: suggestion list length.
        today: the date expiry and waiting are judged by (default today).
        pledged: needs that already have a live pledge when the first supplier arrives.

    Returns:
        ``{"share_exposed", "gini", "pledged_needs"}``.
    """
    seen = dict.fromkeys(need_ids, 0)
    pledged = set(pledged)
    for offer_ids in suppliers:
        answer = matcher.suggest_needs_for_offers(offer_ids, limit=k, today=today, explain=False, pledged=pledged)
        for s in answer.items:
            if s.id in seen:
                seen[s.id] += 1
        if answer.good:
            pledged.add(answer.good[0].id)
    counts = list(seen.values())
    total = max(1, len(counts))
    return {
        "share_exposed": round(sum(c > 0 for c in counts) / total, 4),
        "gini": round(gini(counts), 4),
        "pledged_needs": round(len(pledged & seen.keys()) / total, 4),
    }


def without_fairness(matcher: Matcher) -> Matcher:
    """The same matcher (sharing its stored items) with the fairness term switched off.

    Args:
        matcher: a built matcher.

    Returns:
        A shallow copy whose ``fairness_weight`` is 0, for "beside the same figures without it".
    """
    plain = copy.copy(matcher)
    plain.params = replace(matcher.params, fairness_weight=0.0)
    return plain


def run_fairness(
    path_or_dataset: str | Path | Mapping[str, Any] | Dataset,
    k: int = 10,
    encoder: SemanticEncoder | str | object | None = _DEFAULT,
    params: MatchParams | None = None,
) -> dict[str, dict[str, float]]:
    """Exposure figures (see :func:`exposure`) with the fairness term and without it.

    Args:
        path_or_dataset: the set.
        k: suggestion list length.
        encoder: as for :func:`run_evaluation`.
        params: the parameters (default: the shipped ones).

    Returns:
        ``{"with fairness": {...}, "without": {...}}``.
    """
    dataset = load_dataset(path_or_dataset)
    if encoder is _DEFAULT:
        encoder = load_semantic_encoder(None)
    elif isinstance(encoder, str):
        encoder = load_semantic_encoder(encoder)
    assert encoder is None or isinstance(encoder, SemanticEncoder)
    params = params or load_params()
    need_vecs = embed_items(dataset.needs, encoder) if encoder else None
    offer_vecs = embed_items(dataset.offers, encoder) if encoder else None
    vectors = (need_vecs, offer_vecs) if need_vecs is not None else None
    _, matcher = hybrid_rankings(dataset, encoder, params, vectors)
    return {
        "with fairness": exposure(matcher, dataset, k),
        "without": exposure(without_fairness(matcher), dataset, k),
    }


def format_fairness(results: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table of :func:`run_fairness` figures.

    Args:
        results: as returned by :func:`run_fairness`.

    Returns:
        The table (no trailing newline).
    """
    labels = {
        "share_exposed": "needs in a top 10",
        "gini": "gini of exposure",
        "pledged_needs": "needs pledged to",
    }
    width = max(len("fair exposure"), *map(len, results))
    head = "fair exposure".ljust(width) + "".join(f"  {labels[m]:>17}" for m in FAIRNESS)
    lines = [head, "-" * len(head)]
    for name, row in results.items():
        lines.append(name.ljust(width) + "".join(f"  {row[m]:>17.3f}" for m in FAIRNESS))
    return "\n".join(lines)


def format_table(results: Mapping[str, Mapping[str, float]]) -> str:
    """A plain-text table of evaluation results, one row per system.

    Args:
        results: as returned by :func:`run_evaluation`.

    Returns:
        The table (no trailing newline).
    """
    names = [s for s in SYSTEMS if s in results] + [s for s in results if s not in SYSTEMS]
    width = max([len("system"), *map(len, names)])
    head = "system".ljust(width) + "".join(f"  {m:>17}" for m in METRICS)
    lines = [head, "-" * len(head)]
    for name in names:
        row = results[name]
        cells = "".join(
            f"  {row[m]:>17.3f}" if isinstance(row.get(m), int | float) else f"  {'-':>17}" for m in METRICS
        )
        lines.append(name.ljust(width) + cells)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m matching.evaluation FILE.json [--k 10] [--json]``.

    Args:
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m matching.evaluation", description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--model", default=None, help="embedding model (default: configured)")
    args = parser.parse_args(argv)
    try:
        encoder = args.model if args.model else _DEFAULT
        results = run_evaluation(args.file, k=args.k, encoder=encoder)
        fairness = run_fairness(args.file, k=args.k, encoder=encoder)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**results, "fairness": fairness}, indent=2))
    else:
        print(format_table(results) + "\n\n" + format_fairness(fairness))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
