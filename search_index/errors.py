"""Exceptions raised by the search index library."""

from __future__ import annotations

import gc
import logging
import traceback
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class SearchIndexError(Exception):
    """Base class for every error raised by :mod:`search_index`."""


class IndexUnavailable(SearchIndexError):
    """The index directory is missing, empty or corrupt.

    The application should log it and call :meth:`search_index.SearchIndex.rebuild`,
    which never needs to read the broken index.
    """


class IndexBusy(SearchIndexError):
    """Another process held the index's write lock for longer than the configured timeout."""


def unavailable_on_error(action: Callable[[], T], what: str) -> T:
    """Run ``action``; turn any exception into :class:`IndexUnavailable`.

    Whoosh leaves files open when it fails half-way through reading garbage. The
    original exception is logged (not chained, which would keep those files alive in
    its traceback) and the leaked files are collected here with their
    ``ResourceWarning`` silenced, rather than at some random later point.

    Args:
        action: Opens or reads the index.
        what: Describes the index, for the message.

    Returns:
        What ``action`` returned.

    Raises:
        IndexUnavailable: If ``action`` raised anything.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return action()
        except Exception as exc:  # any read error on index files means "corrupt"
            message = f"{what} is unreadable: {type(exc).__name__}: {exc}"
            # Text only: a record holding exc_info would keep the leaked files alive.
            log.debug("%s\n%s", message, traceback.format_exc())
        gc.collect()
    raise IndexUnavailable(message)
