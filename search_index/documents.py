"""The frozen dataclasses that callers hand to the index: items and viewers."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Literal

Kind = Literal["need", "offer"]
KINDS: tuple[str, ...] = ("need", "offer")


def item_key(kind: str, item_id: int) -> str:
    """Build the index key of an item.

    Args:
        kind: ``"need"`` or ``"offer"``.
        item_id: The database id of the item.

    Returns:
        The unique key, e.g. ``"need:12"``.
    """
    return f"{kind}:{item_id}"


def parse_key(key: str) -> tuple[str, int]:
    """Split an index key back into its kind and id.

    Args:
        key: A key built by :func:`item_key`.

    Returns:
        A ``(kind, id)`` pair.

    Raises:
        ValueError: If the key is not of the form ``"kind:id"``.
    """
    kind, _, raw_id = key.partition(":")
    if kind not in KINDS or not raw_id.isdigit():
        raise ValueError(f"not an index key: {key!r}")
    return kind, int(raw_id)


@dataclasses.dataclass(frozen=True, slots=True)
class IndexedItem:
    """One need or offer, as the index sees it.

    The application builds these from its database rows; the library never reads the
    database. Categories, districts, outcomes and statuses are plain data: the library
    only knows which statuses are hidden from the public (see ``SearchIndex``).
    """

    kind: Kind  # "need" or "offer"
    id: int  # database id; with kind, forms the index key
    title: str
    description: str
    category: str  # e.g. "volunteering"
    districts: tuple[str, ...]  # a need has one; an offer lists the districts it serves
    outcomes: tuple[str, ...]  # strategic outcome slugs
    status: str  # e.g. "open", "met", "paused", "withdrawn"
    organisation_id: int
    organisation_name: str
    organisation_verified: bool
    created_at: datetime
    updated_at: datetime  # compared by check() to find stale documents
    needed_by: date | None = None  # needs only
    available_until: date | None = None  # offers only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {self.kind!r}")
        # Accept lists from callers but keep the dataclass hashable and immutable.
        if not isinstance(self.districts, tuple):
            object.__setattr__(self, "districts", tuple(self.districts))
        if not isinstance(self.outcomes, tuple):
            object.__setattr__(self, "outcomes", tuple(self.outcomes))

    @property
    def key(self) -> str:
        """The unique index key, ``f"{kind}:{id}"``."""
        return item_key(self.kind, self.id)


@dataclasses.dataclass(frozen=True, slots=True)
class Viewer:
    """Who is searching, as far as visibility is concerned.

    Officers see everything. Members of an organisation also see their own
    organisation's withdrawn items and items posted while it was unverified. Everyone
    else (``Viewer()``, the public) sees only verified organisations' items that are not
    withdrawn.
    """

    organisation_id: int | None = None
    is_officer: bool = False


PUBLIC = Viewer()
