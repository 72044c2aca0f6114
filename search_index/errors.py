"""Exceptions raised by the search index library."""

from __future__ import annotations

import gc
import logging
import time
import traceback
import warnings
from collections.abc import Callable

log = logging.getLogger(__name__)

# Whoosh lists a folder, picks the newest table of contents, then opens it and its segments.
# A writer committing meanwhile deletes the older ones, so a reader can meet a file that
# was there a moment ago: that is a race, not corruption, and the next try sees the newer
# files. Only a file missing on every try means the index is broken.
VANISHED_FILE_ATTEMPTS = 8
_VANISHED_FILE_PAUSE = 0.005


class SearchIndexError(Exception):
    """Base class for every error raised by :mod:`search_index`."""


class IndexUnavailable(SearchIndexError):
    """The index directory is missing, empty or corrupt.

    The application should log it and call :meth:`search_index.SearchIndex.rebuild`,
    which never needs to read the broken index.
    """


class IndexBusy(SearchIndexError):
    """Another process held the index's write lock for longer than the configured timeout."""


def unavailable_on_error[T](action: Callable[[], T], what: str) -> T:
    """Run ``action``; turn any exception into :class:`IndexUnavailable`.

    Whoosh leaves files open when it fails half-way through reading garbage. The
    original exception is logged (not chained, which would keep those files alive in
    its traceback) and the leaked files are collected here with their
    ``ResourceWarning`` silenced, rather than at some random later point.

    A ``FileNotFoundError`` is retried a few times first (see ``VANISHED_FILE_ATTEMPTS``):
    a commit or a rebuild's clean-up removing a file under a reader is not corruption.

    Args:
        action: Opens or reads the index.
        what: Describes the index, for the message.

    Returns:
        What ``action`` returned.

    Raises:
        IndexUnavailable: If ``action`` raised anything (a missing file on every attempt).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for attempt in range(1, VANISHED_FILE_ATTEMPTS + 1):
            try:
                return action()
            except FileNotFoundError as exc:
                message = f"{what} is unreadable: {type(exc).__name__}: {exc}"
                if attempt == VANISHED_FILE_ATTEMPTS:
                    log.debug("%s\n%s", message, traceback.format_exc())
                    break
                time.sleep(_VANISHED_FILE_PAUSE * attempt)  # a concurrent commit cleaning up
            except Exception as exc:  # any other read error on index files means "corrupt"
                message = f"{what} is unreadable: {type(exc).__name__}: {exc}"
                # Text only: a record holding exc_info would keep the leaked files alive.
                log.debug("%s\n%s", message, traceback.format_exc())
                break
        gc.collect()
    raise IndexUnavailable(message)
