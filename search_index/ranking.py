"""Relevance ranking (BM25F-style) computed with NumPy over cached posting lists.

Whoosh's own collector scores matches one at a time in Python, which costs tens of
milliseconds per query on 100,000 items. Here each positive query term contributes a
vectorised BM25 score to the documents in its posting list; a document's score is the
sum over terms, each weighted by its field's boost (title 3, description 1, about 0.7).
Words under ``NOT`` or after ``-`` never add to a score. Phrases are scored as their
words (the phrase itself is enforced by the matching mask).
"""

from __future__ import annotations

import math

import numpy as np
from whoosh import query as wq

from search_index.docsets import Snapshot

K1 = 1.2
B = 0.75


def positive_terms(query: wq.Query) -> list[tuple[str, str, float]]:
    """List the ``(field, text, boost)`` terms that should raise a document's score.

    Args:
        query: The parsed query.

    Returns:
        Terms outside any negation, each with its boost.
    """
    found: list[tuple[str, str, float]] = []

    def walk(node: wq.Query, boost: float) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a, boost)
            return
        if isinstance(node, wq.Term):
            text = node.text if isinstance(node.text, str) else node.text.decode("utf-8")
            found.append((node.fieldname, text, boost * node.boost))
            return
        if isinstance(node, wq.Phrase):
            found.extend((node.fieldname, word, boost * node.boost) for word in node.words)
            return
        for child in node.children():
            walk(child, boost * getattr(node, "boost", 1.0))

    walk(query, 1.0)
    return found


def scores(snapshot: Snapshot, terms: list[tuple[str, str, float]]) -> np.ndarray:
    """BM25 scores of every document for the given terms.

    Args:
        snapshot: The searcher snapshot.
        terms: From :func:`positive_terms`.

    Returns:
        A float array indexed by document number (zero where no term occurs).
    """
    total = np.zeros(snapshot.size, dtype=np.float32)
    documents = max(1, snapshot.live_count)
    for fieldname, text, boost in terms:
        ids, frequencies = snapshot.postings(fieldname, text)
        if not len(ids):
            continue
        idf = math.log(1.0 + (documents - len(ids) + 0.5) / (len(ids) + 0.5))
        lengths, average = snapshot.lengths(fieldname)
        norm = K1 * ((1.0 - B) + B * lengths[ids] / average)
        # A term has one posting per document, so ids are unique and += is safe.
        total[ids] += boost * idf * frequencies * (K1 + 1.0) / (frequencies + norm)
    return total


def top(snapshot: Snapshot, query: wq.Query, allowed: np.ndarray, start: int, count: int) -> list[tuple[int, float]]:
    """Rank the allowed documents by relevance and return one page.

    Ties are broken by document number, newest-indexed first, so pages are stable.

    Args:
        snapshot: The searcher snapshot.
        query: The parsed query.
        allowed: Mask of the documents that may appear (matching, visible, filtered).
        start: Offset of the page.
        count: Page size.

    Returns:
        ``(docnum, score)`` pairs, best first.
    """
    docnums = np.flatnonzero(allowed)
    if not len(docnums) or start >= len(docnums):
        return []
    values = scores(snapshot, positive_terms(query))[docnums]
    wanted = min(len(docnums), start + count)
    if len(docnums) > wanted:
        threshold = np.partition(values, len(values) - wanted)[len(values) - wanted]
        keep = values >= threshold
        docnums, values = docnums[keep], values[keep]
    order = np.lexsort((-docnums, -values))[start:wanted]
    return [(int(docnums[i]), float(values[i])) for i in order]
