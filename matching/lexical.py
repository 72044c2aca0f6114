"""The lexical side of matching: the text whose words count, IDF weights and sparse cosines.

Items are hashed into term counts by :class:`matching.encoders.LexicalEncoder` (no fitted
vocabulary, so they are added one at a time). :class:`LexicalIndex` keeps the document
frequencies of the whole corpus and turns them into IDF weights, refreshed once enough of
the corpus has changed. :class:`LexicalRows` holds one side's rows and computes IDF-weighted
cosines of a query row against all of them or against a few slots (re-ranking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from matching.documents import Item, item_text

IDF_REFRESH = 0.02
"""Share of the corpus that must change before lexical IDF weights are recomputed."""
DELTA_LIMIT = 256
"""Rows added one at a time are merged into the main block beyond this many."""


def lexical_text(item: Item) -> str:
    """The text whose words feed the lexical side: the item's own words, nothing added.

    Earlier versions appended concept tokens from the hand-written vocabulary
    (:mod:`matching.vocabulary`) here. Measured on dev.json and dev-large.json the expansion
    gained nothing once the lexical weight was re-learnt (nDCG@10 0.935 / 0.898 without it,
    0.936 / 0.896 with it), and a vocabulary written beside our sets is what fails on texts
    written nothing like them, so ranking no longer depends on it.

    Args:
        item: a need or an offer.

    Returns:
        "Title. Description".
    """
    return item_text(item)


@dataclass(frozen=True)
class Terms:
    """One text's lexical row: its feature indices and their counts, in row order.

    A stored slot's terms are views of the side's arrays (taking a row out of the CSR block
    as a matrix costs more than the rest of the query's preparation).
    """

    indices: np.ndarray
    data: np.ndarray

    @classmethod
    def of(cls, row: sp.csr_matrix) -> Terms:
        """The terms of a one-row matrix (a text not stored)."""
        return cls(row.indices, row.data)

    @property
    def nnz(self) -> int:
        """How many features the text has."""
        return len(self.indices)


class LexicalIndex:
    """Document frequencies over both sides and the IDF weights made from them.

    Args:
        n_features: size of the hashed feature space.
    """

    def __init__(self, n_features: int) -> None:
        self.n_features = n_features
        self.df = np.zeros(n_features, dtype=np.float64)
        self.ndocs = 0
        self.version = 0
        self.changes = 0
        self._idf2: np.ndarray | None = None
        self._saved_idf2: np.ndarray | None = None
        self._weights: dict[int, float] = {}
        self._weights_version = -1
        self._lookup: np.ndarray | None = None

    def count(self, rows: sp.csr_matrix, sign: int) -> None:
        """Add (+1) or remove (-1) documents' rows from the frequencies."""
        # np.add.at counts a feature once per row it is in, without a dense pass per upsert.
        np.add.at(self.df, rows.indices, sign)
        self.ndocs += sign * rows.shape[0]
        self.changes += rows.shape[0]

    def idf_sq(self) -> np.ndarray:
        """Squared IDF per feature, recomputed when the corpus has changed enough."""
        # One new item barely moves the IDF, and a refresh re-normalises every stored row.
        stale = self.changes > IDF_REFRESH * max(self.ndocs, 1)
        if self._idf2 is None or stale:
            # A snapshot's copy is what this computes from its frequencies, until they change.
            unchanged = self._saved_idf2 is not None and self.changes == 0
            self._idf2 = self._saved_idf2 if unchanged else self.fresh_idf_sq()
            self._saved_idf2 = None
            self.changes = 0
            self.version += 1
        return self._idf2  # type: ignore[return-value]

    def fresh_idf_sq(self) -> np.ndarray:
        """Squared IDF per feature from the frequencies as they are now."""
        idf = np.log((1.0 + self.ndocs) / (1.0 + self.df)) + 1.0
        return idf**2

    def saved_idf_sq(self, idf2: np.ndarray) -> None:
        """Frequencies were just loaded from a snapshot, and this their :meth:`fresh_idf_sq`
        (its shared copy): used if nothing changes before the weights are first needed.
        """
        self._saved_idf2 = idf2

    def lookup(self) -> np.ndarray:
        """A dense all-zero table of ``n_features`` query weights, for :meth:`LexicalRows.scores`.

        One per matcher, shared by both sides' rows (a query is scored on one side at a time,
        under the engine's lock): 8 MiB at the default feature space, which every worker holds
        privately once queries have touched its pages, so once rather than once per side.
        """
        if self._lookup is None:
            self._lookup = np.zeros(self.n_features, dtype=np.float64)
        return self._lookup

    def weight(self, index: int) -> float:
        """The IDF of one feature, cached per IDF version (reasons look up hundreds)."""
        idf2 = self._idf2 if self._idf2 is not None else self.idf_sq()
        if self._weights_version != self.version:
            self._weights = {}
            self._weights_version = self.version
        found = self._weights.get(index)
        if found is None:
            found = self._weights[index] = float(np.sqrt(idf2[index]))
        return found


def norms(rows: sp.csr_matrix, idf2: np.ndarray) -> np.ndarray:
    """Each row's IDF-weighted length (the cosine's denominator; never zero)."""
    sq = rows.copy()
    sq.data = sq.data.astype(np.float64) ** 2
    return np.sqrt(sq @ idf2) + 1e-9


class LexicalRows:
    """One side's lexical rows: a merged CSR block for the first slots plus recent rows.

    Args:
        n_features: size of the hashed feature space.
    """

    def __init__(self, n_features: int) -> None:
        self.n_features = n_features
        self.main = sp.csr_matrix((0, n_features), dtype=np.float32)
        self.main_t: sp.csr_matrix | None = None
        self.main_norm: np.ndarray | None = None
        self._saved_norm: tuple[np.ndarray, np.ndarray] | None = None
        # Rows added since the main block was made, merged (a block of this worker's own: the
        # main block may be a snapshot's shared map, which merging would copy whole).
        self.tail = sp.csr_matrix((0, n_features), dtype=np.float32)
        self._tail_norm: tuple[np.ndarray, int] | None = None
        self.delta: list[sp.csr_matrix] = []
        self._delta_block: tuple[sp.csr_matrix, np.ndarray, int] | None = None
        self._norm_version = -1
        self._lookup: np.ndarray | None = None  # used when the caller gives none

    @property
    def n(self) -> int:
        """Number of rows (one per slot, dead slots included)."""
        return self.main.shape[0] + self.tail.shape[0] + len(self.delta)

    def load(self, rows: sp.csr_matrix) -> None:
        """Replace everything by one block of rows."""
        self.main = rows.astype(np.float32).tocsr()
        self.tail = self.tail[:0]
        self._tail_norm = None
        self.delta = []
        self._delta_block = None
        self.main_t = None
        self.main_norm = self._saved_norm = None

    def adopt(self, rows: sp.csr_matrix) -> None:
        """Use this block of rows as it is, without a copy (a snapshot's shared map)."""
        self.main = rows
        self.tail = self.tail[:0]
        self._tail_norm = None
        self.delta = []
        self._delta_block = None
        self.main_t = None
        self.main_norm = self._saved_norm = None

    def append(self, row: sp.csr_matrix) -> None:
        """Add the row of a new slot."""
        self.delta.append(row)
        self._delta_block = None

    def row(self, i: int) -> sp.csr_matrix:
        """The row of slot ``i``."""
        block, j = self._place(i)
        return block[j]

    def terms(self, i: int) -> Terms:
        """The terms of slot ``i`` (views, no copy)."""
        block, j = self._place(i)
        start, stop = block.indptr[j], block.indptr[j + 1]
        return Terms(block.indices[start:stop], block.data[start:stop])

    def _place(self, i: int) -> tuple[sp.csr_matrix, int]:
        # The block holding slot i and its row there (a recent row is a one-row block).
        m, t = self.main.shape[0], self.tail.shape[0]
        if i < m:
            return self.main, i
        if i < m + t:
            return self.tail, i - m
        return self.delta[i - m - t], 0

    def merge_delta(self) -> None:
        """Fold the recent rows into the tail block."""
        if self.delta:
            self.tail = sp.vstack([self.tail, *self.delta], format="csr", dtype=np.float32)
            self._tail_norm = None
            self.delta = []
            self._delta_block = None

    def rows(self) -> sp.csr_matrix:
        """Every slot's row in one block (a copy unless they are all in the main block)."""
        if not self.tail.shape[0] and not self.delta:
            return self.main
        return sp.vstack([self.main, self.tail, *self.delta], format="csr", dtype=np.float32)

    def saved_norms(self, norms: np.ndarray, idf2: np.ndarray) -> None:
        """The main block was just adopted from a snapshot, and these its :func:`norms` with
        ``idf2`` (the snapshot's IDF): used while that very IDF is (reading every row of a
        side to compute them made a worker's first suggestion take about a second at 100k).
        """
        self._saved_norm = (norms, idf2)

    def _norms(self, idf2: np.ndarray, idf_version: int) -> None:
        if self.main_norm is None or self._norm_version != idf_version:
            saved = self._saved_norm
            self.main_norm = saved[0] if saved is not None and saved[1] is idf2 else norms(self.main, idf2)
            self._norm_version = idf_version
        if self.tail.shape[0] and (self._tail_norm is None or self._tail_norm[1] != idf_version):
            self._tail_norm = (norms(self.tail, idf2), idf_version)
        if self.delta and (self._delta_block is None or self._delta_block[2] != idf_version):
            block = sp.vstack(self.delta, format="csr")
            self._delta_block = (block, norms(block, idf2), idf_version)

    def scores(
        self,
        q: Terms | sp.csr_matrix,
        idf2: np.ndarray,
        idf_version: int,
        slots: np.ndarray | None = None,
        lookup: np.ndarray | None = None,
    ) -> np.ndarray:
        """Cosine of the (IDF-weighted) query row with every slot's row (or only ``slots``).

        Both ways give the same values bit for bit: each row's products are summed in the
        row's order (its indices are sorted), and the ones outside the query add zero.
        ``lookup``: the all-zero table of query weights to use for ``slots``
        (:meth:`LexicalIndex.lookup`, left all zero again); by default one of these rows' own.
        """
        if len(self.delta) > DELTA_LIMIT:
            self.merge_delta()
        n = self.n
        size = n if slots is None else len(slots)
        out = np.zeros(size, dtype=np.float32)
        if q.nnz == 0 or n == 0 or size == 0:
            return out
        self._norms(idf2, idf_version)
        cols, vals = q.indices, q.data.astype(np.float64)
        qnorm = float(np.sqrt((vals**2 * idf2[cols]).sum())) or 1.0
        weights = vals * idf2[cols]
        m = self.main.shape[0]
        # The blocks in slot order, each with its rows' lengths and its first slot.
        blocks = [(self.main, self.main_norm, 0)]
        if self.tail.shape[0]:
            blocks.append((self.tail, self._tail_norm[0], m))  # type: ignore[index]
        if self.delta:
            block, block_norms, _ = self._delta_block  # type: ignore[misc]
            blocks.append((block, block_norms, m + self.tail.shape[0]))
        if slots is not None:
            # Sparse dot products of a few rows via a dense lookup of the query's weights.
            # SciPy's compiled sparse product sums each row in order, as a loop would: twice
            # as fast as gathering the weights and reducing in NumPy.
            if lookup is None:
                if self._lookup is None:
                    self._lookup = np.zeros(self.n_features, dtype=np.float64)
                lookup = self._lookup
            lookup[cols] = weights
            if int(slots.max()) < m:  # the usual case: every slot in the main block
                out[:] = (self.main[slots] @ lookup) / self.main_norm[slots] / qnorm  # type: ignore[index]
            else:
                for matrix, matrix_norms, offset in blocks:
                    mask = (slots >= offset) & (slots < offset + matrix.shape[0])
                    if mask.any():
                        idx = slots[mask] - offset
                        out[mask] = (matrix[idx] @ lookup) / matrix_norms[idx] / qnorm  # type: ignore[index]
            lookup[cols] = 0.0
            return out
        for matrix, matrix_norms, offset in blocks:
            if not matrix.shape[0]:
                continue
            if matrix is self.main:
                if self.main_t is None:
                    self.main_t = self.main.T.tocsr()
                dots = self.main_t[cols].T @ weights
            else:
                dots = matrix[:, cols] @ weights
            out[offset : offset + matrix.shape[0]] = dots / matrix_norms / qnorm  # type: ignore[operator]
        return out
