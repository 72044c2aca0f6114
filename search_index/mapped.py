"""Index files read in place from read-only memory maps, so the processes of a machine share one copy.

Whoosh opens a segment's compound file with ``mmap`` and then wraps each of its parts in a
``BytesIO``, which copies the part: every process that searched held a private copy of the
whole index (about 77 MiB at 100,000 items, per gunicorn worker). Here every index file, and
every part of a compound file, is read straight from a read-only map of the file instead. Its
pages are the operating system's page cache, which every process on the machine shares (and
which the kernel may drop and read again under memory pressure); a read copies only the bytes
it asks for. Indexes on disk are unchanged, so an existing index (compound or not) is read the
same way without being converted.

A map stays valid after its file is deleted (POSIX), so a rebuild may remove a retired
generation while a process still reads it, as before.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import FileIndex


class MappedFile(StructFile):
    """A read-only Whoosh file: a window of a memory map, read without copying the whole of it.

    Positional reads (``get``) leave the position alone, so they are safe from several threads;
    sequential reads keep a position per instance, as a file object does.

    Args:
        source: The whole file's map (shared by the windows made from it).
        offset: Where the window starts in the map.
        length: The window's size in bytes.
        name: The file's name, for messages.
        onclose: Called with this file when it is closed.
    """

    def __init__(self, source: mmap.mmap, offset: int, length: int, name: str | None = None, onclose=None) -> None:
        self._source = source
        self._start = offset
        self._end = offset + length
        self._pos = offset  # absolute, in the map
        self._name = name
        self.onclose = onclose
        self.file = None  # no file object: everything below reads the map
        self.is_real = False
        self.is_closed = False

    # -- what a file object offers ----------------------------------------------------

    def read(self, size: int | None = -1) -> bytes:
        """Read ``size`` bytes (the rest when negative or None) from the position."""
        start = self._pos
        end = self._end if size is None or size < 0 else min(start + size, self._end)
        if end <= start:
            return b""
        self._pos = end
        return self._source[start:end]

    def readline(self, size: int | None = -1) -> bytes:
        """Read up to and including the next newline."""
        start = self._pos
        limit = self._end if size is None or size < 0 else min(start + size, self._end)
        newline = self._source.find(b"\n", start, limit)
        end = limit if newline < 0 else newline + 1
        self._pos = max(start, end)
        return self._source[start:end]

    def seek(self, where: int, whence: int = os.SEEK_SET) -> int:
        """Move the position, like a file's ``seek``."""
        if whence == os.SEEK_SET:
            pos = self._start + where
        elif whence == os.SEEK_CUR:
            pos = self._pos + where
        elif whence == os.SEEK_END:
            pos = self._end + where
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if pos < self._start:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos - self._start

    def tell(self) -> int:
        """The position from the window's start."""
        return self._pos - self._start

    def __iter__(self):
        """Lines, as iterating a file gives them."""
        while line := self.readline():
            yield line

    def raw_file(self) -> MappedFile:
        """The file object to read: the window itself."""
        return self

    def flush(self) -> None:
        """Nothing to flush in a read-only file."""

    def write(self, *args: object, **kwargs: object) -> int:
        """Refused: index files are immutable once written."""
        raise io.UnsupportedOperation("a mapped index file is read-only")

    truncate = write

    def close(self) -> None:
        """Close this window; the map is unmapped when no window of it remains."""
        if self.is_closed:
            raise Exception("This file is already closed")  # as Whoosh's files say it
        if self.onclose:
            self.onclose(self)
        # Other windows (the parts of a compound file) may still read the map: leave it to
        # be unmapped when the last of them lets go of it.
        self._source = None  # type: ignore[assignment]
        self.is_closed = True

    # -- Whoosh's structured reads, positional and without a file object ---------------

    def get(self, position: int, length: int) -> bytes:
        """``length`` bytes at ``position``, without moving the position."""
        start = self._start + position
        return self._source[start : min(start + length, self._end)]

    def read_pickle(self) -> object:
        """Read one pickled object from the position."""
        return pickle.load(self)

    def subset(self, offset: int, length: int, name: str | None = None) -> MappedFile:
        """A window on a part of this file (a compound file's part), sharing the map."""
        return MappedFile(self._source, self._start + offset, length, name=name or self._name)


class MappedStorage(FileStorage):
    """Whoosh's directory storage whose files are opened as :class:`MappedFile` windows.

    Writing works as in :class:`FileStorage`; only reading differs. ``supports_mmap`` is
    False so that Whoosh's compound storage asks this storage's file for windows
    (``subset``) instead of mapping the file again and copying each part into memory.
    """

    supports_mmap = False

    def __init__(self, path: str, readonly: bool = False) -> None:
        super().__init__(path, supports_mmap=False, readonly=readonly)

    def open_file(self, name: str, **kwargs: object) -> StructFile:
        """Open an existing file of the index for reading.

        Args:
            name: The file's name in the directory.
            **kwargs: ``onclose`` (the only option Whoosh passes).

        Returns:
            A :class:`MappedFile`; an empty file (which cannot be mapped) as an in-memory one.
        """
        with open(self._fpath(name), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return StructFile(io.BytesIO(b""), name=name, **kwargs)  # type: ignore[arg-type]
            source = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return MappedFile(source, 0, size, name=name, **kwargs)  # type: ignore[arg-type]


def open_mapped(directory: str) -> FileIndex:
    """Open the Whoosh index in ``directory`` with its files read in place.

    Args:
        directory: A directory holding one Whoosh index (the default index name).

    Returns:
        The index; its searchers and writers read through :class:`MappedStorage`.
    """
    return MappedStorage(directory).open_index()
