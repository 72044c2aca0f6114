"""The search request and the safe parsing of user query strings.

Users get a small, forgiving language: words (all must match, stemmed and
accent-folded), ``"quoted phrases"``, ``-word`` or ``NOT word`` to exclude, ``OR``
between alternatives, and brackets for grouping. Field syntax (``status:withdrawn``),
wildcards, ranges and boosts are deliberately not parsed: they are just words. Any
string parses; anything Whoosh's parser still chokes on falls back to a plain bag of
words.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Literal

import numpy as np
from whoosh import query as wq
from whoosh.qparser import (
    GroupPlugin,
    MultifieldPlugin,
    OperatorsPlugin,
    PhrasePlugin,
    PlusMinusPlugin,
    QueryParser,
    WhitespacePlugin,
)
from whoosh.query.qcore import _NullQuery

from search_index.docsets import Snapshot
from search_index.schema import TEXT_FIELD_BOOSTS

# A query string longer than this is cut (at a word boundary where possible).
MAX_QUERY_CHARS = 256
# At most this many words (and operators) are kept from a query string.
MAX_QUERY_WORDS = 16
# The status filter value that means "every status the viewer may see".
ANY_STATUS = "*"

Sort = Literal["relevance", "newest"]
_SPACE_LIKE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclasses.dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search request.

    ``None`` filters do not filter. ``status=None`` applies the index's default statuses
    (``("open",)`` unless configured otherwise); ``status=ANY_STATUS`` ("*") shows every
    status the viewer may see. Visibility rules apply whatever the filters say.
    """

    q: str = ""
    kind: str | None = None
    category: str | None = None
    district: str | None = None
    outcome: str | None = None
    status: str | None = None
    sort: Sort = "relevance"
    page: int = 1
    per_page: int = 20

    def filters(self) -> dict[str, str | None]:
        """The facet filters by facet field name (status excluded)."""
        return {
            "kind": self.kind,
            "category": self.category,
            "district": self.district,
            "outcome": self.outcome,
        }


def sanitise(q: str) -> str:
    """Make a user query string safe to hand to the parser.

    Control characters (NUL included) become spaces, the text is NFC-normalised, and it
    is cut to :data:`MAX_QUERY_CHARS` characters and :data:`MAX_QUERY_WORDS` words.

    Args:
        q: The raw query string.

    Returns:
        The cleaned query string (possibly empty).
    """
    q = unicodedata.normalize("NFC", _SPACE_LIKE.sub(" ", q))
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
    words = q.split()
    return " ".join(words[:MAX_QUERY_WORDS])


def make_parser(schema: object) -> QueryParser:
    """Build the query parser with only the safe plugins.

    Args:
        schema: The index schema.

    Returns:
        A parser over the text fields, AND between words by default.
    """
    return QueryParser(
        None,
        schema,
        plugins=[
            WhitespacePlugin(),
            PhrasePlugin(),
            GroupPlugin(),
            OperatorsPlugin(),
            PlusMinusPlugin(),
            MultifieldPlugin(tuple(TEXT_FIELD_BOOSTS), fieldboosts=TEXT_FIELD_BOOSTS),
        ],
    )


_WORD = re.compile(r"\w+")


def parse(parser: QueryParser, q: str) -> wq.Query | None:
    """Parse a sanitised query string, never raising.

    Args:
        parser: A parser from :func:`make_parser`.
        q: A string from :func:`sanitise`.

    Returns:
        The Whoosh query, or ``None`` when the string holds no searchable word (empty,
        only stop words, only operators or punctuation).
    """
    if not q:
        return None
    try:
        parsed = parser.parse(q)
    except Exception:  # whoosh's parser has a few crashes on odd operators
        # Fall back to the plain words, without any operator meaning.
        words = [w for w in _WORD.findall(q) if w not in ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")]
        try:
            parsed = parser.parse(" ".join(words))
        except Exception:  # give up on the text rather than fail the search
            return None
    if parsed is None or isinstance(parsed, _NullQuery):
        return None
    return parsed


def matching_mask(query: wq.Query, snapshot: Snapshot) -> np.ndarray:
    """Compute which live documents match a query, as a boolean mask.

    Terms come from cached posting lists; ``And``/``Or``/``Not`` become vectorised set
    operations. Phrases and any other query type use Whoosh's own matcher.

    Args:
        query: A parsed query.
        snapshot: The searcher snapshot.

    Returns:
        A new boolean mask over the snapshot's documents.
    """
    if isinstance(query, _NullQuery):
        return snapshot.empty()
    if isinstance(query, wq.Term):
        return snapshot.term(query.fieldname, query.text)
    if isinstance(query, wq.AndNot):
        return matching_mask(query.a, snapshot) & ~matching_mask(query.b, snapshot)
    if isinstance(query, (wq.AndMaybe,)):
        return matching_mask(query.a, snapshot)
    if isinstance(query, wq.Require):
        return matching_mask(query.a, snapshot) & matching_mask(query.b, snapshot)
    if isinstance(query, wq.Not):
        return snapshot.live & ~matching_mask(query.query, snapshot)
    if isinstance(query, wq.Every):
        return snapshot.live.copy()
    if isinstance(query, wq.And):
        masks = [matching_mask(sub, snapshot) for sub in query.subqueries]
        return _reduce(masks, np.logical_and, snapshot)
    if isinstance(query, (wq.Or, wq.DisjunctionMax)) and getattr(query, "minmatch", 0) in (0, 1, None):
        masks = [matching_mask(sub, snapshot) for sub in query.subqueries]
        return _reduce(masks, np.logical_or, snapshot)
    mask = snapshot.empty()
    ids = np.fromiter(snapshot.searcher.docs_for_query(query), dtype=np.int64)
    mask[ids] = True
    return mask


def _reduce(masks: list[np.ndarray], op: np.ufunc, snapshot: Snapshot) -> np.ndarray:
    if not masks:
        return snapshot.empty()
    result = masks[0].copy()
    for mask in masks[1:]:
        op(result, mask, out=result)
    return result


def highlight_terms(query: wq.Query, fieldname: str) -> frozenset[str]:
    """The indexed (stemmed) words of a query in one field, for highlighting.

    Terms under a ``NOT`` are left out: they never occur in a matching document.

    Args:
        query: The parsed query.
        fieldname: The field whose terms are wanted.

    Returns:
        The set of term texts.
    """
    found: set[str] = set()

    def walk(node: wq.Query) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
            return
        if isinstance(node, wq.Term):
            if node.fieldname == fieldname:
                found.add(node.text if isinstance(node.text, str) else node.text.decode())
            return
        if isinstance(node, wq.Phrase):
            if node.fieldname == fieldname:
                found.update(node.words)
            return
        for child in node.children():
            walk(child)

    walk(query)
    return frozenset(found)
