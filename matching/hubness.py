"""Hubness (cross-domain similarity local scaling): each item's mean cosine to its nearest
items on the other side, kept up to date as items come and go.

Generic texts look alike to everything; subtracting their hubness from a pairing's score
discounts them, and subtracting the query's own makes scores comparable across queries.
Each :class:`matching.store.Side` keeps its items' ``hub_k`` best cosines (``top``,
ascending, padded with -inf); these functions maintain them incrementally.
"""

from __future__ import annotations

import numpy as np

from matching.store import Side


def smoothed_mean(top: np.ndarray, prior: float) -> np.ndarray:
    """Row means of top-k arrays padded with -inf, the padding counted as ``prior``.

    With few items on the other side (a new marketplace) this keeps hubness from falling to
    zero, which would inflate every score.
    """
    finite = np.isfinite(top)
    total = np.where(finite, top, prior).sum(axis=1)
    return (total / max(1, top.shape[1])).astype(np.float32)


def topk_rows(sims: np.ndarray, k: int) -> np.ndarray:
    """The k largest values of each row, ascending, padded with -inf."""
    rows, cols = sims.shape
    out = np.full((rows, k), -np.inf, dtype=np.float32)
    if cols == 0:
        return out
    kk = min(k, cols)
    part = np.partition(sims, cols - kk, axis=1)[:, cols - kk :]
    part.sort(axis=1)
    out[:, k - kk :] = part
    return out


def hubs(side: Side, prior: float) -> np.ndarray:
    """The hubness of every slot of a side (read-only; cached until the side changes)."""
    # Every query reads all of them; recomputing was a quarter of a suggestion at 100k items.
    return side.cached("hubs", prior, lambda: smoothed_mean(side.top[: side.n], prior))


def query_hub(side: Side, cos: np.ndarray, k: int, prior: float) -> float:
    """The hubness of a query that is not stored, from its cosines to every slot of ``side``."""
    masked = np.where(side.alive[: side.n], cos, -np.inf)
    return float(smoothed_mean(topk_rows(masked[None, :], k), prior)[0])


def recompute(a: Side, b: Side, k: int) -> None:
    """Compute every item's neighbours on both sides from scratch (build time)."""
    for side in (a, b):
        side.top[: side.n] = -np.inf
        side.changed()
    if not a.n or not b.n:
        return
    for side, other in ((a, b), (b, a)):
        n, m = side.n, other.n
        for start in range(0, n, 2048):  # blocks bound the memory of the similarity matrix
            stop = min(n, start + 2048)
            sims = side.vecs[start:stop] @ other.vecs[:m].T
            sims[:, ~other.alive[:m]] = -np.inf
            side.top[start:stop] = topk_rows(sims, k)
        side.changed()


def added(side: Side, other: Side, i: int, k: int) -> None:
    """Slot ``i`` of ``side`` is new: find its neighbours and offer it to the other side's."""
    vec = side.vecs[i]
    sims = other.vecs[: other.n] @ vec
    sims[~other.alive[: other.n]] = -np.inf
    side.top[i] = topk_rows(sims[None, :], k)[0]
    if other.n:
        merged = np.concatenate([other.top[: other.n], sims[:, None]], axis=1)
        merged.sort(axis=1)
        keep = other.alive[: other.n]
        other.top[: other.n][keep] = merged[keep, 1:]
    side.changed()
    other.changed()


def removed(side: Side, other: Side, vec: np.ndarray, k: int) -> None:
    """An item with vector ``vec`` left ``side`` (already killed): recompute the other side's
    items that had it among their neighbours.
    """
    if not other.n:
        return
    sims = other.vecs[: other.n] @ vec
    affected = np.flatnonzero(other.alive[: other.n] & (sims >= other.top[: other.n, 0]))
    if affected.size:
        block = other.vecs[affected] @ side.vecs[: side.n].T
        block[:, ~side.alive[: side.n]] = -np.inf
        other.top[affected] = topk_rows(block, k)
        other.changed()
