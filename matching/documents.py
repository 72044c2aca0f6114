"""The documents the matcher works on: needs and offers as frozen dataclasses.

The application converts its database rows into these plain values (ids as strings), so
the matcher never sees an ORM object. This module also decides which text of an item is
embedded and which items may be suggested at all (open, not past their date).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field

COUNTY_WIDE = "County-wide"
"""The district value meaning "anywhere in the county"."""

LOCAL_CATEGORIES = frozenset({"premises", "transport", "volunteering"})
"""Categories whose help is physical: only an offer covering the need's district is useful."""

OPEN = "open"
"""The only status in which a need or an offer may be suggested."""

MAX_TEXT_CHARS = 2000
"""Longer descriptions are cut: the model reads about 256 word pieces anyway."""


@dataclass(frozen=True)
class Need:
    """A request posted by a community group.

    Attributes:
        id: the application's id, as a string.
        title: short headline.
        description: free text.
        category: one of the council's categories (e.g. ``premises``).
        district: the district where help is needed, or ``County-wide``.
        outcomes: strategic outcome codes the need serves.
        quantity: free text such as "2 days a week".
        status: ``open``, ``met``, ``withdrawn`` or ``expired``.
        needed_by: the date after which the need lapses, if any.
        posted: the date it was published, if known (a need that has waited longer comes
            first among suggestions of similar fit).
    """

    id: str
    title: str
    description: str = ""
    category: str = "other"
    district: str = COUNTY_WIDE
    outcomes: tuple[str, ...] = ()
    quantity: str = ""
    status: str = OPEN
    needed_by: dt.date | None = None
    posted: dt.date | None = None


@dataclass(frozen=True)
class Offer:
    """What a supplier can give.

    Attributes:
        id: the application's id, as a string.
        title: short headline.
        description: free text.
        category: one of the council's categories.
        districts: districts served; ``County-wide`` serves all.
        status: ``open``, ``paused`` or ``withdrawn``.
        available_until: last date the offer stands, if any.
        measure: code of the social value measure (e.g. ``volunteering-hours``), if any.
        supplier: the supplier's name, used to combine its offers.
    """

    id: str
    title: str
    description: str = ""
    category: str = "other"
    districts: tuple[str, ...] = (COUNTY_WIDE,)
    status: str = OPEN
    available_until: dt.date | None = None
    measure: str | None = None
    supplier: str | None = field(default=None)


Item = Need | Offer


def clean_text(text: str | None) -> str:
    """Collapse whitespace and cut overly long text.

    Args:
        text: any user text, possibly ``None``.

    Returns:
        The text on one line, at most ``MAX_TEXT_CHARS`` characters.
    """
    if not text:
        return ""
    return " ".join(str(text).split())[:MAX_TEXT_CHARS]


def item_text(item: Item) -> str:
    """The text that is embedded for a need or an offer.

    Title and description only: category, district and dates are scored separately so
    that editing them never requires re-embedding.

    Args:
        item: a need or an offer.

    Returns:
        "Title. Description" with whitespace normalised (may be empty).
    """
    return _joined_text(item.title, item.description)


@functools.lru_cache(maxsize=4096)
def _joined_text(title: str | None, description: str | None) -> str:
    # Explanations ask for the same few texts many times per suggestion.
    title = clean_text(title).rstrip(".!?:;, ")
    description = clean_text(description)
    if title and description:
        return f"{title}. {description}"
    return title or description


def is_current(item: Item, today: dt.date | None = None) -> bool:
    """Whether an item may take part in suggestions.

    Args:
        item: a need or an offer.
        today: the date to judge expiry by; defaults to today.

    Returns:
        True if the item is open and its needed-by / available-until date has not passed.
    """
    if item.status != OPEN:
        return False
    today = today or dt.date.today()
    until = item.needed_by if isinstance(item, Need) else item.available_until
    return until is None or until >= today


def covers(districts: Iterable[str], district: str) -> bool:
    """Whether an offer serving ``districts`` reaches ``district``.

    Args:
        districts: the districts an offer serves.
        district: the need's district.

    Returns:
        True when the offer is County-wide, the need is County-wide, or they share a district.
    """
    served = {d.strip().casefold() for d in districts}
    wanted = district.strip().casefold()
    return COUNTY_WIDE.casefold() in served or wanted in served or wanted == COUNTY_WIDE.casefold()
