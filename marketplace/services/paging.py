"""Paging of list queries, shared by every list page and API list."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace.db import kept_for_state
from marketplace.formatting import number
from marketplace.services.errors import ValidationFailed

MAX_PER_PAGE = 100
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Page[T]:
    """One page of a list, with what is needed to show paging links."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, math.ceil(self.total / self.per_page))


def check_paging(page: object, per_page: object, default_per_page: int = 20) -> tuple[int, int]:
    """Turn raw ``page``/``per_page`` values into numbers, or say in plain words what is wrong.

    Raises:
        ValidationFailed: for values that are not whole numbers in range.
    """
    fields: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, noun, raw, default, upper in (
        ("page", "Page", page, 1, MAX_PAGE),
        ("per_page", "The number of results per page", per_page, default_per_page, MAX_PER_PAGE),
    ):
        if raw is None or raw == "":
            numbers[name] = default
            continue
        try:
            value = int(str(raw))
        except ValueError:
            value = 0
        if not 1 <= value <= upper:
            # One message for both mistakes: it says what a good value is either way.
            fields[name] = f"{noun} must be a whole number between 1 and {number(upper)}"
        numbers[name] = value
    if fields:
        raise ValidationFailed(fields)
    return numbers["page"], numbers["per_page"]


def paginate(
    session: Session,
    query: Select,
    page: int,
    per_page: int,
    *,
    counted: Callable[[], Select] | None = None,
    total_key: Hashable = None,
) -> Page:
    """Run ``query`` for one page; a page past the end is empty, not an error.

    ``counted`` builds a statement giving the same rows as ``query`` in a form the database
    counts faster (see ``listings.visibility_clause``); the total counts ``query`` itself
    without it. With ``total_key`` (what decides the total: the kind of item, the filters and
    what the viewer may see, never the sort or the page) the total is counted once per state
    of the database and reused until anything is written (see ``db.database_state``); the
    count's statement is then built only when it runs (building it cost a list page 0.2 ms).
    """

    def count() -> Select:
        return select(func.count()).select_from((query.order_by(None) if counted is None else counted()).subquery())

    def counted_total() -> int:
        return session.scalar(count()) or 0

    total = counted_total() if total_key is None else kept_for_state(session, ("total", total_key), counted_total)
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total, page=page, per_page=per_page)
