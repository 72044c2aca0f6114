"""Comparing the index with the database's view of what it should hold."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class CheckReport:
    """Differences between the index and the items it should hold.

    Keys are index keys (``"need:12"``), sorted.
    """

    missing: tuple[str, ...]  # in the database, not in the index
    stale: tuple[str, ...]  # indexed with a different ``updated_at``
    extra: tuple[str, ...]  # in the index, not in the database (or indexed twice)
    checked: int  # items compared
    fixed: bool = False  # True if the differences were repaired

    @property
    def ok(self) -> bool:
        """True when the index matches the database exactly."""
        return not (self.missing or self.stale or self.extra)


def compare(
    expected: dict[str, int], indexed: dict[str, int], duplicates: set[str]
) -> tuple[list[str], list[str], list[str]]:
    """Compare expected and indexed ``key → updated_at`` maps.

    Args:
        expected: Keys and update stamps from the database.
        indexed: Keys and update stamps found in the index.
        duplicates: Keys indexed more than once.

    Returns:
        Sorted ``(missing, stale, extra)`` key lists.
    """
    missing = sorted(expected.keys() - indexed.keys())
    stale = sorted(k for k, stamp in expected.items() if k in indexed and indexed[k] != stamp)
    extra = sorted((indexed.keys() - expected.keys()) | (duplicates & expected.keys()))
    return missing, stale, extra
