"""Matching speed: suggesting for one stored item against 10,000 stored items.

Run: ``python benchmarks/matching_bench.py [--offers 10000] [--needs 2000] [--queries 200]``.
Vectors are random unit vectors (no model needed) and texts are synthetic sentences built
from a small word list, so only the matcher's own work is timed. A brute-force numpy top-10
(one matrix-vector product and an argpartition) is printed beside it as a yardstick.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np

from matching.documents import Need, Offer
from matching.matcher import Matcher

WORDS = [
    "room",
    "hall",
    "meeting",
    "storage",
    "van",
    "minibus",
    "driver",
    "volunteer",
    "garden",
    "laptop",
    "computer",
    "training",
    "course",
    "advice",
    "accounts",
    "legal",
    "marketing",
    "poster",
    "advert",
    "funding",
    "grant",
    "food",
    "parcel",
    "furniture",
    "paint",
    "repair",
    "youth",
    "older",
    "carers",
    "club",
    "football",
    "school",
    "weekend",
    "evening",
    "weekly",
    "monthly",
    "free",
    "charity",
    "community",
    "kitchen",
    "office",
    "space",
    "desk",
    "printer",
    "transport",
    "delivery",
    "trees",
    "litter",
    "energy",
    "solar",
    "job",
    "placement",
    "cv",
]
CATEGORIES = ("premises", "goods", "volunteering", "expertise", "skills-and-jobs", "transport", "environment")
DISTRICTS = ("Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Melton", "County-wide")


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def timings(fn, queries) -> list[float]:
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def show(name: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[int(0.95 * (len(ms) - 1))]
    print(f"{name:<44} median {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--needs", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=384)
    args = parser.parse_args()
    rng = random.Random(0)
    np_rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        v = np_rng.standard_normal((n, args.dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    needs = [
        Need(str(i), text(rng, 6), text(rng, 40), rng.choice(CATEGORIES), rng.choice(DISTRICTS[:-1]))
        for i in range(args.needs)
    ]
    offers = [
        Offer(str(i), text(rng, 6), text(rng, 50), rng.choice(CATEGORIES), (rng.choice(DISTRICTS),))
        for i in range(args.offers)
    ]
    nv, ov = unit(len(needs)), unit(len(offers))
    t = time.perf_counter()
    matcher = Matcher.build(
        needs,
        offers,
        {n.id: v for n, v in zip(needs, nv, strict=True)},
        {o.id: v for o, v in zip(offers, ov, strict=True)},
    )
    print(f"build from stored vectors: {len(needs)} needs, {len(offers)} offers in {time.perf_counter() - t:.2f} s")

    need_ids = [rng.choice(needs).id for _ in range(args.queries)]
    offer_ids = [rng.choice(offers).id for _ in range(args.queries)]
    matcher.suggest_offers(need_ids[0])  # warm caches (transposed lexical matrix, norms)
    show(f"suggest_offers(need) over {len(offers)} offers", timings(matcher.suggest_offers, need_ids))
    matcher.suggest_needs(offer_ids[0])
    show(f"suggest_needs(offer) over {len(needs)} needs", timings(matcher.suggest_needs, offer_ids))

    def brute(i: str) -> np.ndarray:
        sims = ov @ nv[int(i)]
        top = np.argpartition(-sims, 10)[:10]
        return top[np.argsort(-sims[top])]

    show(f"yardstick: numpy top-10 over {len(offers)} vectors", timings(brute, need_ids))

    new = [
        Offer(f"new{i}", text(rng, 6), text(rng, 50), rng.choice(CATEGORIES), (rng.choice(DISTRICTS),))
        for i in range(50)
    ]
    vecs = unit(len(new))
    show(
        "upsert_offer (one new offer, stored vector)",
        timings(lambda k: matcher.upsert_offer(new[k], vecs[k]), range(50)),
    )
    show("suggest_offers after 50 upserts", timings(matcher.suggest_offers, need_ids))
    show("remove_offer", timings(lambda k: matcher.remove_offer(new[k].id), range(50)))


if __name__ == "__main__":
    main()
