"""Exceptions raised by the search index library."""


class SearchIndexError(Exception):
    """Base class for every error raised by :mod:`search_index`."""


class IndexUnavailable(SearchIndexError):
    """The index directory is missing, empty or corrupt.

    The application should log it and call :meth:`search_index.SearchIndex.rebuild`,
    which never needs to read the broken index.
    """


class IndexBusy(SearchIndexError):
    """Another process held the index's write lock for longer than the configured timeout."""
