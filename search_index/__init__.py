"""Full-text search over needs and offers, on a Whoosh index directory.

A pure library: frozen dataclasses in (:class:`IndexedItem`, :class:`SearchQuery`,
:class:`Viewer`), results out (:class:`SearchResults`, :class:`CheckReport`). It imports
neither Flask nor SQLAlchemy; the application reads its database and calls
:class:`SearchIndex`.
"""

from search_index.check import CheckReport
from search_index.documents import PUBLIC, IndexedItem, Viewer, item_key, parse_key
from search_index.errors import IndexBusy, IndexUnavailable, SearchIndexError
from search_index.index import RebuildReport, SearchIndex
from search_index.query import ANY_STATUS, MAX_QUERY_CHARS, SearchQuery
from search_index.results import FacetValue, SearchHit, SearchResults

__all__ = [
    "ANY_STATUS",
    "MAX_QUERY_CHARS",
    "PUBLIC",
    "CheckReport",
    "FacetValue",
    "IndexBusy",
    "IndexUnavailable",
    "IndexedItem",
    "RebuildReport",
    "SearchHit",
    "SearchIndex",
    "SearchIndexError",
    "SearchQuery",
    "SearchResults",
    "Viewer",
    "item_key",
    "parse_key",
]
