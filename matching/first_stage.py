"""The approximate first stage for large sides: which items are worth scoring exactly.

Scoring a query exactly reads every vector of the other side: at 50,000 items of 384 float32
values that is 73 MiB per query, bound by memory bandwidth (about 4.7 ms on one core), most
of a suggestion's cost. Past :data:`APPROXIMATE_FROM` items on the side ranked, the matcher
first scores every eligible item in a reduced space: each vector projected onto a basis of
:data:`REDUCED_DIMENSION` directions fitted to the stored vectors (:func:`fit_basis`: the
directions holding most of their energy, an uncentred principal component analysis), with
the other terms of the first-stage score (hubness, category) added exactly. The best
:func:`shortlist_size` of those, several times the re-rank pool, are then scored exactly from
their full vectors and ranked as every item would be (:func:`matching.ranking.score`). So
the approximation only decides which items are scored; the scores shown are exact.

What it costs in answers is measured, not assumed: ``marketplace bench`` reports the share
of the exact path's top 10 that the matcher's top 10 holds ("recall@10 vs exact top-10")
at the sizes where this stage is on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from threadpoolctl import threadpool_limits

APPROXIMATE_FROM = 20_000
"""The first stage is approximate when the side ranked holds at least this many slots (the
evaluation sets, a few hundred items, and a marketplace of 10,000 items are scored exactly)."""
REDUCED_DIMENSION = 96
"""Directions kept. On the bench's corpus 96 of MiniLM's 384 hold 94 % of the vectors' energy
and a cosine in the reduced space is within about 0.007 of the exact one (one standard
deviation); the product reads a quarter of the bytes. Fewer were measured on 5 December (100k
bench items, 400 queries a side): 64 directions kept recall@10 at 0.9995 and took 0.3 ms off a
query, but on the development sets' texts, written by people rather than from templates, 64
hold 80 % of the energy (96: 88 %) and the reduced cosine's error doubles (0.019 against 0.011),
so the margin for a council's real texts is kept."""
OVERFETCH = 2
"""Candidates scored exactly, as a multiple of the re-rank pool (see :func:`shortlist_size`).
At 100,000 bench items (500 queries a side, 5 December) 3, 2 and 1.5 pools all kept a recall@10
of 1.0000 against exact; 2 instead of 3 took 0.2-0.5 ms off a query (gathering a third fewer
full vectors), and the test on blended real vectors still gets the exact answers."""
FIT_SAMPLE = 20_000
"""At most this many stored vectors, evenly spread, fit the basis (a second or less)."""


def fit_basis(blocks: Sequence[np.ndarray], dimension: int = REDUCED_DIMENSION, sample: int = FIT_SAMPLE) -> np.ndarray:
    """The directions that hold most of the stored vectors' energy.

    Uncentred, because the first stage approximates inner products, not distances from the
    mean: the direction that all sentence vectors share is kept, as the first one.

    Args:
        blocks: the stored unit vectors (rows), e.g. both sides' vector matrices (a removed
            item's row is zero and weighs nothing).
        dimension: how many directions to keep (at most the vectors' own size).
        sample: at most about this many rows, taken evenly from each block, are used.

    Returns:
        A ``(size, k)`` float32 matrix with orthonormal columns, the strongest first.
    """
    total = sum(block.shape[0] for block in blocks)
    size = blocks[0].shape[1] if blocks else 0
    gram = np.zeros((size, size), dtype=np.float64)
    # One BLAS thread: the eigensolver on two threads of a busy machine took 3 s, on one 0.03.
    with threadpool_limits(limits=1, user_api="blas"):
        for block in blocks:
            if total > sample and block.shape[0]:
                # Evenly spread rows, in proportion to the block: a side's share of the sample.
                picked = np.linspace(0, block.shape[0] - 1, max(1, block.shape[0] * sample // total))
                block = block[picked.astype(np.int64)]
            rows = np.asarray(block, dtype=np.float32)
            gram += rows.T @ rows  # float32 products (BLAS-blocked sums): ample for directions
        _, vectors = np.linalg.eigh(gram)  # ascending
    keep = min(dimension, size)
    return np.ascontiguousarray(vectors[:, ::-1][:, :keep], dtype=np.float32)


def shortlist_size(pool: int) -> int:
    """How many first-stage candidates are scored exactly when the re-rank pool is ``pool``."""
    return OVERFETCH * pool


def shortlist(
    reduced: np.ndarray,
    query: np.ndarray,
    hubs: np.ndarray,
    bonus: float,
    same: np.ndarray,
    ok: np.ndarray,
    size: int,
) -> np.ndarray:
    """The ``size`` eligible slots with the best approximate first-stage score, in slot order.

    The score is ``2 · cos~ − hub + bonus · same``, the first-stage score with ``cos~``, the
    cosine in the reduced space, for the exact one; the query's own hubness is the same for
    every slot and is left out.

    Args:
        reduced: the side's projected vectors, one row per slot.
        query: the query's projected vector.
        hubs: each slot's hubness.
        bonus: added where the categories agree.
        same: where the categories agree.
        ok: which slots are eligible (more than ``size`` of them).
        size: how many to keep.

    Returns:
        The slots, ascending.
    """
    eligible = np.flatnonzero(ok)
    doubled = (2.0 * query).astype(np.float32)
    # Only the eligible slots are ranked: a partition over a side of mostly -inf (a local
    # need's district rule leaves an eighth) took twenty times as long. Where few are
    # eligible, only their rows are read.
    few = eligible.size * 4 < reduced.shape[0]
    scores = reduced[eligible] @ doubled if few else (reduced @ doubled)[eligible]
    scores -= hubs[eligible]
    # Adding 0 where they disagree: the same values as a masked add, in a fifth of the time.
    scores += np.float32(bonus) * same[eligible]
    best = np.argpartition(scores, scores.size - size)[scores.size - size :]
    return np.sort(eligible[best])


def cosines(vecs: np.ndarray, n: int, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """``(vecs[:n] @ query)[slots]``, without the product over every slot.

    With one BLAS thread (as queries run) each value is bit for bit the one the whole-side
    product gives, so the shortlist's exact scores are the exact path's, ties and the re-rank
    pool's edge included: OpenBLAS's matrix-vector kernel takes rows four at a time and the
    last ``n % 4`` another way, so the gathered rows are padded to a multiple of four and the
    last rows are computed as the end of a product. (A last-bit difference at the pool's edge
    moves an item in or out of the pool, and so up or down by its lexical term.)

    Args:
        vecs: the side's vectors (at least ``n`` rows).
        n: the side's slots.
        query: the query's vector.
        slots: ascending slots below ``n``.

    Returns:
        One cosine per slot, float32.
    """
    main = n - n % 4
    out = np.empty(slots.size, dtype=np.float32)
    inside = slots < main
    rows = slots[inside]
    padded = np.concatenate([rows, np.zeros((-rows.size) % 4, dtype=rows.dtype)])
    out[inside] = (vecs[padded] @ query)[: rows.size]
    if not inside.all():
        start = max(0, main - 4)
        out[~inside] = (vecs[start:n] @ query)[slots[~inside] - start]
    return out
