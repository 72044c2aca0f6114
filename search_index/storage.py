"""The on-disk layout: generations of Whoosh indexes behind an atomic pointer.

::

    <path>/CURRENT          name of the live generation, replaced atomically
    <path>/gen-<stamp>/     one complete Whoosh index per generation
    <path>/REBUILD.lock     held while a rebuild runs
    <path>/journal.jsonl    exists only during a rebuild: batches written meanwhile

A rebuild writes a new generation beside the live one and then replaces ``CURRENT``
(``os.replace`` is atomic), so readers never see a half-built index. The replaced
generation gets a ``RETIRED`` marker so that writers which opened it before the swap
notice and move to the new one; it is deleted at the next rebuild, giving open readers
a grace period.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh.util.filelock import FileLock

from search_index.errors import IndexBusy, IndexUnavailable

CURRENT = "CURRENT"
RETIRED = "RETIRED"
JOURNAL = "journal.jsonl"
REBUILD_LOCK = "REBUILD.lock"
_PREFIX = "gen-"


def current_generation(root: Path) -> Path | None:
    """Return the live generation directory, or ``None`` if none was ever created.

    Args:
        root: The index path.

    Returns:
        The generation directory named by ``CURRENT``.

    Raises:
        IndexUnavailable: If ``CURRENT`` is unreadable or names a missing directory.
    """
    pointer = root / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexUnavailable(f"cannot read {pointer}: {exc}") from exc
    if not name.startswith(_PREFIX) or "/" in name or "\\" in name or "\x00" in name:
        raise IndexUnavailable(f"{pointer} is corrupt")
    generation = root / name
    if not generation.is_dir():
        raise IndexUnavailable(f"{pointer} names missing directory {generation}")
    return generation


def new_generation(root: Path) -> Path:
    """Create an empty, uniquely named generation directory.

    Args:
        root: The index path (created if missing).

    Returns:
        The new directory.
    """
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    generation = root / f"{_PREFIX}{stamp}-{secrets.token_hex(4)}"
    generation.mkdir()
    return generation


def point_to(root: Path, generation: Path) -> None:
    """Atomically make a generation the live one.

    Args:
        root: The index path.
        generation: A directory inside ``root``.
    """
    tmp = root / f"{CURRENT}.{secrets.token_hex(4)}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(generation.name)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, root / CURRENT)


def retire(generation: Path) -> None:
    """Mark a replaced generation, so writers that still hold it move on.

    Args:
        generation: The generation that is no longer live.
    """
    (generation / RETIRED).touch()


def is_retired(generation: Path) -> bool:
    """Tell whether a generation has been replaced by a rebuild.

    Args:
        generation: A generation directory.

    Returns:
        True if a rebuild has swapped it out.
    """
    return (generation / RETIRED).exists()


def remove_old_generations(root: Path, keep: set[Path]) -> None:
    """Delete generation directories other than ``keep`` (and stray CURRENT temp files).

    Args:
        root: The index path.
        keep: Generations to keep (the live one and the one it just replaced).
    """
    for child in root.iterdir():
        if child.name.startswith(_PREFIX) and child.is_dir() and child not in keep:
            shutil.rmtree(child, ignore_errors=True)
        elif child.name.startswith(f"{CURRENT}.") and child.name.endswith(".tmp"):
            child.unlink(missing_ok=True)


@contextmanager
def rebuild_lock(root: Path, timeout: float) -> Iterator[None]:
    """Hold the lock that lets one rebuild run at a time.

    Args:
        root: The index path.
        timeout: Seconds to wait for another rebuild to finish.

    Yields:
        Nothing; the lock is held inside the ``with`` block.

    Raises:
        IndexBusy: If another rebuild held the lock for longer than ``timeout``.
    """
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / REBUILD_LOCK))
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise IndexBusy(f"another rebuild of {root} is running")
        time.sleep(0.1)
    try:
        yield
    finally:
        lock.release()


def start_journal(root: Path) -> None:
    """Create an empty journal: from now on writers also record their batches in it.

    Args:
        root: The index path.
    """
    (root / JOURNAL).write_bytes(b"")


def journal_active(root: Path) -> bool:
    """Tell whether a rebuild is collecting a journal.

    Args:
        root: The index path.

    Returns:
        True while a rebuild runs.
    """
    return (root / JOURNAL).exists()


def append_journal(root: Path, docs: list[dict[str, object]], deletes: list[str]) -> None:
    """Record one applied batch so a running rebuild can replay it.

    Args:
        root: The index path.
        docs: The documents written.
        deletes: The keys deleted.
    """
    line = json.dumps({"docs": docs, "deletes": deletes}, ensure_ascii=False)
    with open(root / JOURNAL, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_journal(root: Path) -> Iterator[tuple[list[dict[str, object]], list[str]]]:
    """Read the batches recorded during a rebuild, oldest first.

    Args:
        root: The index path.

    Yields:
        ``(docs, deletes)`` per batch.
    """
    path = root / JOURNAL
    if not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                batch = json.loads(line)
                yield batch["docs"], batch["deletes"]


def end_journal(root: Path) -> None:
    """Delete the journal when a rebuild finishes or fails.

    Args:
        root: The index path.
    """
    (root / JOURNAL).unlink(missing_ok=True)


def rebuild_running(root: Path) -> bool:
    """Tell whether some process (this one included) holds the rebuild lock.

    Args:
        root: The index path.

    Returns:
        True if a rebuild is in progress; a journal left by a crashed rebuild is then
        recognisable as stale.
    """
    path = root / REBUILD_LOCK
    if not path.exists():
        return False
    lock = FileLock(str(path))
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True
