"""What a search returns: hits, facet counts and paging."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching need or offer.

    ``title_html`` and ``snippet`` are safe HTML: the item's text is escaped and the only
    tags are the ``<mark>`` elements around matched words.
    """

    kind: str
    id: int
    title: str
    title_html: str
    snippet: str
    score: float | None  # None when the results are not ranked by relevance


@dataclasses.dataclass(frozen=True, slots=True)
class FacetValue:
    """How many visible results a facet value would give."""

    value: str
    count: int
    selected: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class SearchResults:
    """One page of results, with facet counts over the whole filtered result set.

    Facet counts of a field are computed under every filter except that field's own, so
    a user who picked one category still sees how many results each other category
    would give (the usual faceted-search behaviour).
    """

    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    facets: dict[str, tuple[FacetValue, ...]]  # kind, category, district, outcome, status
    suggestion: str | None = None  # "did you mean …", when the query found little
    query: str = ""  # the query string actually searched (sanitised)

    @property
    def pages(self) -> int:
        """The number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))
