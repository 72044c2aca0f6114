"""Tune the matcher's few parameters on judged sets and write ``params.json``.

Usage::

    python -m matching.tune shared/eval/dev.json shared/eval/dev-large.json   # writes matching/params.json
    python -m matching.tune A.json B.json --cross    # also: tune on all but one set, evaluate on it
    python -m matching.tune FILE.json --split         # split-half stability check of the first set
    python -m matching.tune FILE.json --out /tmp/params.json

What is learnt, and how (nothing is read from the texts themselves); with several sets each
is ranked on its own (needs only ever meet the offers of their own set):

0. ``hub_prior``: the median hubness over the sets (see ``matching.hubness``);
1. ``lexical_weight`` ∈ {0.5, 1.0, 1.5, 2.0} and ``category_bonus`` ∈ {0.1, 0.2, 0.3}: the
   grid point with the best mean of nDCG@10 and MRR, averaged over the sets (``hub_k`` is
   fixed at 5; the bonus is capped at 0.3, a hint rather than a rule);
2. the calibration: a logistic regression of "judged relevant" on the raw score over all
   pairs the rules allow, so a score estimates how likely an officer is to call it relevant;
3. the no-good-match threshold: the raw cut-off that maximises the balanced accuracy
   ``(no_match_accuracy + 1 − false_no_match) / 2`` subject to ``false_no_match ≤ 0.05``,
   over the needs of every set, taken in the middle of the best interval, then mapped to
   the calibrated scale.

Steps 2–3 are repeated for the lexical-only mode (no embedding model).

``--cross`` is the honest check: for each set, the parameters are learnt on the other sets
only and that set is evaluated beside the fused reference computed in the same run; then
the "no good match" decisions of :mod:`matching.no_match` are learnt and judged the same way.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from matching import hubness, no_match
from matching.encoders import SemanticEncoder, load_semantic_encoder
from matching.evaluation import Dataset, hybrid_rankings, load_dataset, score_system
from matching.matcher import Matcher, embed_items
from matching.scoring import PARAMS_PATH, Calibration, MatchParams

LEXICAL_WEIGHTS = (0.5, 1.0, 1.5, 2.0)
CATEGORY_BONUSES = (0.1, 0.2, 0.3)
MAX_FALSE_NO_MATCH = 0.05
_IDENTITY = Calibration(scale=1.0, offset=0.0, threshold=0.0)


def _raw_rankings(
    dataset: Dataset, params: MatchParams, encoder: SemanticEncoder | None, vectors: tuple | None
) -> tuple[dict[str, list[tuple[str, float]]], Matcher]:
    """Rankings whose scores are the raw fused scores (identity calibration)."""
    p = replace(params, hybrid=_IDENTITY, lexical_only=_IDENTITY)
    ranked, matcher = hybrid_rankings(dataset, encoder, p, vectors)
    # The identity calibration is a logistic of raw: invert it to get raw back.
    raw = {n: [(o, float(np.log(max(s, 1e-12) / max(1 - s, 1e-12)))) for o, s in r] for n, r in ranked.items()}
    return raw, matcher


def _metrics(dataset: Dataset, raw: dict[str, list[tuple[str, float]]], cut: float) -> dict[str, float]:
    return score_system(
        dataset,
        {n: [o for o, _ in r] for n, r in raw.items()},
        {n: not r or r[0][1] < cut for n, r in raw.items()},
    )


def choose_cut(dataset: Dataset, raw: dict[str, list[tuple[str, float]]]) -> float:
    """The raw no-good-match cut-off (see the module docstring, step 3).

    Args:
        dataset: the tuning set.
        raw: raw-score rankings by need.

    Returns:
        The raw cut-off.
    """
    bests = sorted({round(r[0][1], 6) for r in raw.values() if r})
    if not bests:
        return 0.0
    cands = [bests[0] - 0.01, *((a + b) / 2 for a, b in itertools.pairwise(bests)), bests[-1] + 0.01]
    scored = []
    for cut in cands:
        m = _metrics(dataset, raw, cut)
        ok = m["false_no_match"] <= MAX_FALSE_NO_MATCH
        scored.append((ok, (m["no_match_accuracy"] + 1 - m["false_no_match"]) / 2, cut))
    best = max(scored)
    tops = [cut for ok, value, cut in scored if (ok, value) == best[:2]]
    # Middle of the best interval: the cut-offs in it differ only by where ties fall.
    lo, hi = min(tops), max(tops)
    inside = [b for b in bests if lo <= b <= hi]
    return (lo + hi) / 2 if not inside else float(np.median(tops))


def fit_calibration(dataset: Dataset, raw: dict[str, list[tuple[str, float]]], cut: float) -> Calibration:
    """Logistic calibration of raw scores against the judgments, with the threshold mapped.

    Args:
        dataset: the tuning set.
        raw: raw-score rankings by need (every eligible pair).
        cut: the raw no-good-match cut-off.

    Returns:
        The calibration.
    """
    from sklearn.linear_model import LogisticRegression

    x, y = [], []
    for need_id, ranked in raw.items():
        rels = dataset.relevant(need_id)
        for offer_id, score in ranked:
            x.append(score)
            y.append(1 if rels.get(offer_id, 0) > 0 else 0)
    if len(set(y)) < 2:
        return Calibration()
    model = LogisticRegression(C=1.0).fit(np.array(x)[:, None], np.array(y))
    scale = float(model.coef_[0][0])
    offset = float(-model.intercept_[0] / scale) if scale else 0.0
    cal = Calibration(scale=round(scale, 4), offset=round(offset, 4), threshold=0.0)
    return replace(cal, threshold=round(float(cal(cut)), 4))


def pooled(datasets: Sequence[Dataset]) -> Dataset:
    """Several sets as one for scoring needs (ids prefixed by the set's position).

    Only for what is judged per need (the cut-off, the calibration): each set is still
    ranked on its own, as a need never meets another set's offers.

    Args:
        datasets: the sets.

    Returns:
        One set whose ids are ``"<position>/<id>"``.
    """
    if len(datasets) == 1:
        return datasets[0]
    needs: list = []
    offers: list = []
    judged: dict[tuple[str, str], int] = {}
    for k, ds in enumerate(datasets):
        needs += [replace(n, id=f"{k}/{n.id}") for n in ds.needs]
        offers += [replace(o, id=f"{k}/{o.id}") for o in ds.offers]
        judged.update({(f"{k}/{n}", f"{k}/{o}"): r for (n, o), r in ds.judgments.items()})
    return Dataset(" + ".join(ds.name or "unnamed" for ds in datasets), tuple(needs), tuple(offers), judged)


def _pooled_raw(
    datasets: Sequence[Dataset], params: MatchParams, encoder: SemanticEncoder | None, vectors: Sequence[tuple | None]
) -> dict[str, list[tuple[str, float]]]:
    out: dict[str, list[tuple[str, float]]] = {}
    for k, (ds, vecs) in enumerate(zip(datasets, vectors, strict=True)):
        raw, _ = _raw_rankings(ds, params, encoder, vecs)
        prefix = "" if len(datasets) == 1 else f"{k}/"
        out.update({prefix + n: [(prefix + o, v) for o, v in r] for n, r in raw.items()})
    return out


def tune(
    datasets: Dataset | Sequence[Dataset],
    encoder: SemanticEncoder | None,
    base: MatchParams | None = None,
    verbose: bool = False,
) -> MatchParams:
    """Learn the parameters on one or more judged sets.

    Args:
        datasets: the tuning set(s).
        encoder: the semantic encoder.
        base: starting parameters (defaults otherwise).
        verbose: print the grid.

    Returns:
        The tuned parameters.
    """
    sets = [datasets] if isinstance(datasets, Dataset) else list(datasets)
    base = base or MatchParams()
    vectors = [(embed_items(ds.needs, encoder), embed_items(ds.offers, encoder)) if encoder else None for ds in sets]
    best: tuple[float, MatchParams] | None = None
    for lw in LEXICAL_WEIGHTS:
        for cb in CATEGORY_BONUSES:
            p = replace(base, lexical_weight=lw, category_bonus=cb)
            per_set = [
                _metrics(ds, _raw_rankings(ds, p, encoder, vecs)[0], -np.inf)
                for ds, vecs in zip(sets, vectors, strict=True)
            ]
            value = float(np.mean([(m["ndcg@10"] + m["mrr"]) / 2 for m in per_set]))
            if verbose:
                shown = "  ".join(f"ndcg@10={m['ndcg@10']:.3f} mrr={m['mrr']:.3f}" for m in per_set)
                print(f"  lexical_weight={lw:<5} category_bonus={cb:<4} {shown}")
            if best is None or value > best[0] + 1e-9:
                best = (value, p)
    assert best is not None
    params = best[1]
    if encoder is not None:
        hubs = []
        for ds, vecs in zip(sets, vectors, strict=True):
            probe = Matcher.build(ds.needs, ds.offers, *_by_id(ds, vecs), params=params)
            hubs += [hubness.hubs(probe.needs, 0.0), hubness.hubs(probe.offers, 0.0)]
        every = np.concatenate(hubs)
        params = replace(params, hub_prior=round(float(np.median(every)), 2) if every.size else params.hub_prior)
    pool = pooled(sets)
    raw = _pooled_raw(sets, params, encoder, vectors)
    hybrid = fit_calibration(pool, raw, choose_cut(pool, raw))
    lraw = _pooled_raw(sets, params, None, [None] * len(sets))
    lexical_only = fit_calibration(pool, lraw, choose_cut(pool, lraw))
    return replace(
        params,
        hybrid=hybrid,
        lexical_only=lexical_only,
        tuned_on=" + ".join(
            f"{ds.name or 'unnamed set'}: {len(ds.needs)} needs, {len(ds.offers)} offers" for ds in sets
        ),
    )


def cross_validate(
    datasets: Sequence[Dataset], encoder: SemanticEncoder, k: int = 10
) -> list[tuple[str, MatchParams, dict[str, dict[str, float]]]]:
    """Leave one set out: learn on the others, evaluate the held-out set beside the baselines.

    Args:
        datasets: at least two sets.
        encoder: the semantic encoder.
        k: suggestion list length.

    Returns:
        ``[(held-out set name, parameters learnt without it, its evaluation results)]``.
    """
    from matching.evaluation import run_evaluation

    out = []
    for i, held in enumerate(datasets):
        rest = [ds for j, ds in enumerate(datasets) if j != i]
        params = tune(rest, encoder)
        out.append((held.name or f"set {i + 1}", params, run_evaluation(held, k=k, encoder=encoder, params=params)))
    return out


def no_match_study(
    datasets: Sequence[Dataset], encoder: SemanticEncoder, learnt: Sequence[MatchParams]
) -> list[tuple[str, str, dict[str, float]]]:
    """Leave one set out for the "no good match" decisions of :mod:`matching.no_match`.

    Args:
        datasets: at least two sets.
        encoder: the semantic encoder.
        learnt: for each set, the parameters learnt without it (from :func:`cross_validate`).

    Returns:
        ``[(held-out set name, decision, figures)]``.
    """
    out = []
    for i, (held, params) in enumerate(zip(datasets, learnt, strict=True)):
        rest = [ds for j, ds in enumerate(datasets) if j != i]
        sides = []
        for sets in (rest, [held]):
            vectors = [(embed_items(ds.needs, encoder), embed_items(ds.offers, encoder)) for ds in sets]
            pool = pooled(sets)
            raw = _pooled_raw(sets, params, encoder, vectors)
            sides.append(
                no_match.labelled(
                    raw,
                    {n.id: pool.relevant(n.id) for n in pool.needs},
                    {n.id: n.district for n in pool.needs},
                    {o.id: o.districts for o in pool.offers},
                    _coverage(pool, encoder),
                )
            )
        for name, columns in no_match.DECISIONS.items():
            out.append((held.name or f"set {i + 1}", name, no_match.learn_and_judge(*sides, columns)))
    return out


def _coverage(dataset: Dataset, encoder: SemanticEncoder) -> no_match.Coverage:
    # Every sentence of the set embedded once, in one batch.
    texts: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    for item in (*dataset.needs, *dataset.offers):
        parts = no_match.sentences(item.title, item.description)
        spans[f"{type(item).__name__}:{item.id}"] = (len(texts), len(texts) + len(parts))
        texts += parts
    vecs = encoder.encode(texts)

    def covers(need_id: str, offer_id: str) -> float:
        (a, b), (c, d) = spans[f"Need:{need_id}"], spans[f"Offer:{offer_id}"]
        return no_match.coverage(vecs[a:b], vecs[c:d])

    return covers


def _by_id(dataset: Dataset, vectors: tuple | None) -> tuple[dict, dict]:
    if vectors is None:
        return {}, {}
    return (
        {n.id: v for n, v in zip(dataset.needs, vectors[0], strict=True)},
        {o.id: v for o, v in zip(dataset.offers, vectors[1], strict=True)},
    )


def split_halves(dataset: Dataset, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Split a set's needs in two halves (offers shared), balanced by kind of need.

    Args:
        dataset: the set.
        seed: random seed.

    Returns:
        The two halves.
    """
    rng = random.Random(seed)
    groups: dict[str, list] = {}
    for need in dataset.needs:
        rels = dataset.relevant(need.id)
        kind = "none" if not rels else ("full" if 2 in rels.values() else "partial")
        groups.setdefault(kind, []).append(need)
    a, b = [], []
    for kind in sorted(groups):
        members = groups[kind][:]
        rng.shuffle(members)
        half = len(members) // 2 + (len(members) % 2 if len(a) <= len(b) else 0)
        a += members[:half]
        b += members[half:]

    def subset(needs: list) -> Dataset:
        ids = {n.id for n in needs}
        judged = {k: v for k, v in dataset.judgments.items() if k[0] in ids}
        return Dataset(f"{dataset.name}-half", tuple(needs), dataset.offers, judged)

    return subset(a), subset(b)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point (see the module docstring).

    Args:
        argv: arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m matching.tune", description="Tune matching parameters.")
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--out", default=str(PARAMS_PATH), help=f"where to write (default {PARAMS_PATH})")
    parser.add_argument("--model", default=None, help="embedding model (default: configured)")
    parser.add_argument(
        "--cross",
        action="store_true",
        help="also leave each set out in turn, for the parameters and for the no-good-match study (needs 2+ files)",
    )
    parser.add_argument("--split", action="store_true", help="also run the split-half check of the first file")
    parser.add_argument("--seeds", type=int, default=3, help="random splits for --split")
    args = parser.parse_args(argv)
    datasets = [load_dataset(f) for f in args.files]
    encoder = load_semantic_encoder(args.model)
    params = tune(datasets, encoder, verbose=True)
    Path(args.out).write_text(params.to_json(), encoding="utf-8")
    print(f"wrote {args.out}:\n{params.to_json()}")
    keys = ("ndcg@10", "mrr", "recall@10", "no_match_accuracy", "false_no_match")
    if args.cross and len(datasets) > 1 and encoder is not None:
        print("leave-one-set-out: learn on the other sets, evaluate this one (fused: the plain reference)")
        print(f"{'held out':>12} {'system':>7} " + " ".join(f"{k:>17}" for k in keys) + "  params")
        crossed = cross_validate(datasets, encoder)
        for name, p, results in crossed:
            for system in ("hybrid", "fused"):
                m = results[system]
                chosen = (
                    f"  lw={p.lexical_weight} cb={p.category_bonus} thr={p.hybrid.threshold}"
                    if system == "hybrid"
                    else ""
                )
                print(f"{name:>12} {system:>7} " + " ".join(f"{m[k]:>17.3f}" for k in keys) + chosen)
        print("no good match: decisions learnt on the other set (see matching/no_match.py)")
        print(f"{'held out':>12} {'decision':>32} {'no-match acc.':>14} {'false no-match':>15} {'in-sample':>14}")
        for name, decision, m in no_match_study(datasets, encoder, [p for _, p, _ in crossed]):
            print(
                f"{name:>12} {decision:>32} {m['no_match_accuracy']:>14.3f} {m['false_no_match']:>15.3f} "
                f"{m['in_sample_accuracy']:>7.3f}/{m['in_sample_false']:.3f}"
            )
    if args.split:
        dataset = datasets[0]
        print("split-half check: tune on one half, evaluate on the other")
        print(f"{'seed':>4} {'direction':>9} " + " ".join(f"{k:>17}" for k in keys) + "  params")
        for seed in range(args.seeds):
            halves = split_halves(dataset, seed)
            for name, (fit, held) in (("A->B", halves), ("B->A", halves[::-1])):
                p = tune(fit, encoder)
                ranked, _ = hybrid_rankings(held, encoder, p)
                thr = p.hybrid.threshold
                m = score_system(
                    held,
                    {n: [o for o, _ in r] for n, r in ranked.items()},
                    {n: not r or r[0][1] < thr for n, r in ranked.items()},
                )
                print(
                    f"{seed:>4} {name:>9} "
                    + " ".join(f"{m[k]:>17.3f}" for k in keys)
                    + f"  lw={p.lexical_weight} cb={p.category_bonus} thr={thr}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
