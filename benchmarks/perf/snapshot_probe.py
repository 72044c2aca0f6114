"""Worker start and memory at a size the bench cannot load in time: the matcher alone.

``python -m benchmarks.perf.snapshot_probe 100000`` builds a matcher from the first N synthetic
needs and offers (the texts a bench load would post, their vectors from the bench's vector
cache, random unit vectors for texts not cached yet), times the build, saves the snapshot, then starts two worker
processes one after the other that open it, as gunicorn workers of one machine do. Each
reports how long opening took and its memory once a few suggestions were made: resident
size (RSS), proportional share (PSS) and private memory (USS, what that worker adds). No
database: a worker's check of the snapshot against the database (one narrow query per side)
is not included. The first worker then times the matcher alone as the bench does (30
ranked, no reasons; needs and offers alternately) beside the exact numpy top-10 over the same
vectors, in CPU time per call (the machine's other work does not count) with one BLAS
thread as the application runs it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SOURCE = "synthetic-probe"


def _documents(items: int):
    """The first ``items`` planned needs and offers as matcher documents, with their texts."""
    import matching
    from benchmarks.perf.synthetic import planned_items

    categories = ["premises", "advertising", "goods", "volunteering", "expertise"]
    categories += ["skills-and-jobs", "environment", "transport", "funding", "other"]
    districts = ["Blaby", "Charnwood", "Harborough", "Hinckley and Bosworth", "Melton"]
    districts += ["North West Leicestershire", "Oadby and Wigston", "County-wide"]
    today = dt.date.today()
    needs, offers = [], []
    for number, planned in enumerate(itertools.islice(planned_items(categories, districts), items)):
        if planned.kind == "need":
            needed_by = today + dt.timedelta(days=30 + number % 270)
            needs.append(
                matching.Need(
                    id=str(number),
                    title=planned.title,
                    description=planned.description,
                    category=planned.category,
                    district=planned.districts[0],
                    needed_by=needed_by,
                    posted=today,
                )
            )
        else:
            offers.append(
                matching.Offer(
                    id=str(number),
                    title=planned.title,
                    description=planned.description,
                    category=planned.category,
                    districts=planned.districts,
                    supplier=f"organisation:{number % 997}",
                )
            )
    return needs, offers


def build_and_save(items: int, folder: Path) -> dict[str, float]:
    """Build the matcher from cached vectors, save its snapshot; the seconds each took."""
    import matching
    from benchmarks.perf.vectors import CachedEncoder, _key, cache_dir

    needs, offers = _documents(items)
    real = matching.lazy_semantic_encoder()
    assert real is not None
    cached = CachedEncoder(real, cache_dir())
    texts = [matching.item_text(d) for d in [*needs, *offers]]
    found = [cached.vectors.get(_key(text)) for text in texts]
    # Texts not in the cache get random unit vectors rather than minutes of encoding: start-up
    # time and memory do not depend on the values (the suggestions would, and are not measured).
    rng = np.random.default_rng(15)
    random = sum(vector is None for vector in found)
    vectors = np.vstack(
        [vector if vector is not None else _unit(rng.standard_normal(real.dimension)) for vector in found]
    ).astype(np.float32)
    need_vectors = {d.id: v for d, v in zip(needs, vectors[: len(needs)], strict=True)}
    offer_vectors = {d.id: v for d, v in zip(offers, vectors[len(needs) :], strict=True)}
    started = time.perf_counter()
    matcher = matching.Matcher.build(needs, offers, need_vectors, offer_vectors, encoder=real)
    built = time.perf_counter() - started
    started = time.perf_counter()
    matching.snapshot.save(matcher, folder, {}, SOURCE)
    return {"build_s": built, "save_s": time.perf_counter() - started, "random_vectors": float(random)}


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def worker(folder: Path) -> tuple[dict[str, float], object]:
    """What one worker does at start: open the snapshot; then a few suggestions; its memory.

    Returns the figures and the matcher, which the caller keeps while another worker measures
    (once it is dropped its mapped pages are unmapped and no longer shared).
    """
    import psutil

    import matching

    started = time.perf_counter()
    encoder = matching.lazy_semantic_encoder()
    empty = matching.Matcher(encoder=encoder, dimension=encoder.dimension if encoder else 0)
    opened = matching.snapshot.open_snapshot(folder, matching.snapshot.describe(empty, SOURCE), empty)
    assert opened is not None, "the snapshot opened"
    ready = time.perf_counter() - started
    matcher = opened.matcher
    for need_id in list(matcher.needs.pos)[:: max(1, len(matcher.needs.pos) // 20)]:
        matcher.suggest_offers(need_id, 30, explain=False)
    memory = psutil.Process().memory_full_info()
    figures = {
        "ready_s": ready,
        "rss_mib": memory.rss / 2**20,
        "pss_mib": memory.pss / 2**20,
        "uss_mib": memory.uss / 2**20,
        "model_loaded": float(bool(getattr(encoder, "loaded", True))),
    }
    return figures, matcher


def matcher_alone(matcher, queries: int = 200) -> dict[str, float]:
    """p50 and p95 of the matcher alone and of the numpy top-10 (CPU ms per call), and the ratio."""
    import random

    from threadpoolctl import ThreadpoolController

    rng = random.Random(7)
    needs, offers = list(matcher.needs.pos), list(matcher.offers.pos)
    picks = [(True, rng.choice(needs)) if i % 2 == 0 else (False, rng.choice(offers)) for i in range(queries)]
    ours, exact = [], []
    with ThreadpoolController().limit(limits=1, user_api="blas"):
        for is_need, item_id in picks[:5] + picks:
            side, other = (matcher.needs, matcher.offers) if is_need else (matcher.offers, matcher.needs)
            started = time.thread_time()
            (matcher.suggest_offers if is_need else matcher.suggest_needs)(item_id, 30, explain=False)
            ours.append(time.thread_time() - started)
            query = np.array(side.vecs[side.pos[item_id]])
            started = time.thread_time()
            sims = other.vecs[: other.n] @ query  # every slot is live in an opened snapshot
            top = np.argpartition(-sims, 9)[:10]
            top[np.argsort(-sims[top])]
            exact.append(time.thread_time() - started)
    ours, exact = ours[5:], exact[5:]

    def ms(values: list[float], q: float) -> float:
        return float(np.percentile(values, q)) * 1000

    return {
        "matcher_alone_p50_ms": ms(ours, 50),
        "matcher_alone_p95_ms": ms(ours, 95),
        "numpy_top10_p50_ms": ms(exact, 50),
        "numpy_top10_p95_ms": ms(exact, 95),
        "ratio_p95": ms(ours, 95) / ms(exact, 95),
    }


def main(argv: list[str]) -> None:
    if argv[:1] == ["--worker"]:
        folder = Path(argv[1])
        figures, matcher = worker(folder)
        if argv[2:] == ["--hold"]:  # the first worker, its memory measured
            figures.update(matcher_alone(matcher))
        print(json.dumps(figures), flush=True)
        if argv[2:] == ["--hold"]:
            sys.stdin.read()  # stay alive, sharing the map, until the next worker has measured
        del matcher
        return
    if argv[:1] in (["-h"], ["--help"]) or (argv and not argv[0].isdigit()):
        print(
            "usage: python -m benchmarks.perf.snapshot_probe [ITEMS [--reuse FOLDER]]\n\n"
            + (__doc__ or "").split("\n\n")[0]
            + "\n\nITEMS defaults to 100000; --reuse FOLDER opens a snapshot this probe saved before instead "
            "of building one."
        )
        return
    items = int(argv[0]) if argv else 100_000
    reuse = Path(argv[2]) if argv[1:2] == ["--reuse"] else None  # a snapshot this probe saved before
    with tempfile.TemporaryDirectory(prefix="svm-snapshot-probe-") as tmp:
        folder = reuse or Path(tmp) / "matcher"
        figures: dict[str, object] = {"items": items}
        if reuse is None:
            figures.update(build_and_save(items, folder))
        first = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.perf.snapshot_probe", "--worker", str(folder), "--hold"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert first.stdout is not None and first.stdin is not None
        figures["first worker"] = json.loads(first.stdout.readline())
        second = subprocess.run(
            [sys.executable, "-m", "benchmarks.perf.snapshot_probe", "--worker", str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures["second worker (the first still running)"] = json.loads(second.stdout.splitlines()[0])
        first.stdin.close()
        first.wait()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:])
