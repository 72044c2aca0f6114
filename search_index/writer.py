"""Writing to the live index: batched, idempotent, safe with several writer processes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import LockError
from whoosh.writing import SegmentWriter

from search_index import storage
from search_index.documents import IndexedItem
from search_index.errors import IndexBusy, IndexUnavailable, unavailable_on_error
from search_index.mapped import open_mapped
from search_index.schema import to_document

Document = dict[str, object]


def prepare_batch(upserts: Iterable[IndexedItem], deletes: Iterable[str]) -> tuple[list[Document], list[str]]:
    """Turn a batch into documents and keys, deduplicated.

    The last upsert of a key wins, and a key that is also deleted is only deleted
    (Whoosh cannot see documents added in the same uncommitted writer, so duplicates
    inside a batch must be removed before writing).

    Args:
        upserts: Items to add or replace.
        deletes: Keys to remove.

    Returns:
        ``(documents, keys_to_delete)``.
    """
    docs: dict[str, Document] = {}
    for item in upserts:
        docs[item.key] = to_document(item)
    keys = list(dict.fromkeys(deletes))
    for key in keys:
        docs.pop(key, None)
    return list(docs.values()), keys


def merge_batches(batches: Iterable[tuple[list[Document], list[str]]]) -> tuple[list[Document], list[str]]:
    """Collapse a sequence of batches into one with the same final effect.

    Args:
        batches: ``(documents, keys_to_delete)`` pairs, oldest first.

    Returns:
        One ``(documents, keys_to_delete)`` pair.
    """
    state: dict[str, Document | None] = {}
    for docs, deletes in batches:
        for doc in docs:
            state[str(doc["key"])] = doc
        for key in deletes:
            state[key] = None
    return [d for d in state.values() if d is not None], [k for k, d in state.items() if d is None]


def write_batch(writer: SegmentWriter, docs: list[Document], deletes: list[str]) -> None:
    """Apply deduplicated documents and deletions to an open writer.

    Args:
        writer: A Whoosh writer holding the index lock.
        docs: Documents from :func:`prepare_batch`.
        deletes: Keys from :func:`prepare_batch`.
    """
    for doc in docs:
        writer.update_document(**doc)
    for key in deletes:
        writer.delete_by_term("key", key)


def open_generation(generation: Path) -> whoosh_index.Index:
    """Open the Whoosh index of one generation, its files read in place (shared between processes).

    Args:
        generation: A generation directory.

    Returns:
        The Whoosh index.

    Raises:
        IndexUnavailable: If the directory holds no readable index.
    """
    return unavailable_on_error(lambda: open_mapped(str(generation)), f"search index at {generation}")


@contextmanager
def locked_writer(ix: whoosh_index.Index, timeout: float) -> Iterator[SegmentWriter]:
    """Acquire the index's write lock, waiting up to ``timeout`` seconds.

    Whoosh reads the index's table of contents only after taking the lock, so a writer
    that waited always builds on every earlier commit: no update is lost.

    Args:
        ix: The Whoosh index.
        timeout: Seconds to wait for other writers.

    Yields:
        The writer; the caller commits it, otherwise it is cancelled on exit.

    Raises:
        IndexBusy: If the lock was not free in time.
    """
    try:
        writer = ix.writer(timeout=timeout, delay=0.02)
    except LockError as exc:
        raise IndexBusy(f"search index write lock still held after {timeout} s") from exc
    try:
        yield writer
    finally:
        if not writer.is_closed:
            writer.cancel()


def apply_batch(root: Path, docs: list[Document], deletes: list[str], timeout: float) -> None:
    """Write one batch to the live generation in a single commit.

    Follows a concurrent rebuild: if the generation was swapped out while this writer
    waited for its lock, it retries on the new one; while a rebuild runs, batches are
    also journaled so the rebuild can replay them before it swaps.

    Args:
        root: The index path.
        docs: Documents to add or replace.
        deletes: Keys to delete.
        timeout: Seconds to wait for the write lock.

    Raises:
        IndexUnavailable: If there is no readable index.
        IndexBusy: If the lock was not free in time.
    """
    if not docs and not deletes:
        return
    deadline = time.monotonic() + timeout
    while True:
        generation = storage.current_generation(root)
        if generation is None:
            raise IndexUnavailable(f"no search index at {root}")
        try:
            ix = open_generation(generation)
        except IndexUnavailable:
            if storage.current_generation(root) != generation:
                continue  # swapped (and deleted) meanwhile: follow the pointer
            raise
        remaining = max(0.0, deadline - time.monotonic())
        with locked_writer(ix, remaining) as writer:
            if storage.is_retired(generation):
                continue  # a rebuild swapped it out while we waited: use the new one
            write_batch(writer, docs, deletes)
            if storage.journal_active(root) and storage.rebuild_running(root):
                storage.append_journal(root, docs, deletes)
            writer.commit()
            return


def build_generation(
    generation: Path,
    schema: object,
    items: Iterable[IndexedItem],
    progress: object = None,
    *,
    memory_mb: int = 256,
    every: int = 1000,
    workers: int = 1,
) -> tuple[int, int]:
    """Write every item into a new, empty generation in one commit.

    Args:
        generation: An empty directory.
        schema: The schema to create.
        items: The items; a later duplicate key is skipped.
        progress: Optional callable given the number of items written so far.
        memory_mb: Memory for Whoosh's indexing pool.
        every: Call ``progress`` every this many items.
        workers: Indexing processes; more than 1 forks Whoosh's multiprocessing writer, which
            leaves one segment per worker instead of merging them (about 1.8 times faster on
            2 idle cores). Only for large rebuilds from a process that can safely fork.

    Returns:
        ``(items_written, duplicates_skipped)``.
    """
    ix = whoosh_index.create_in(str(generation), schema)
    if workers > 1:
        writer = ix.writer(limitmb=memory_mb, procs=workers, multisegment=True)
    else:
        writer = ix.writer(limitmb=memory_mb)
    seen: set[str] = set()
    duplicates = 0
    try:
        for item in items:
            key = item.key
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            writer.add_document(**to_document(item))
            if progress is not None and len(seen) % every == 0:
                progress(len(seen))  # type: ignore[operator]
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    if progress is not None:
        progress(len(seen))  # type: ignore[operator]
    return len(seen), duplicates
