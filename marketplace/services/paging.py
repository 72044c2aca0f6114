"""Paging of list queries, shared by every list page and API list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from marketplace.services.errors import ValidationFailed

T = TypeVar("T")

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
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
    """Turn raw ``page``/``per_page`` values into numbers, or name what is wrong.

    Raises:
        ValidationFailed: for values that are not whole numbers in range.
    """
    fields: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, raw, default, upper in (
        ("page", page, 1, 1_000_000),
        ("per_page", per_page, default_per_page, MAX_PER_PAGE),
    ):
        if raw is None or raw == "":
            numbers[name] = default
            continue
        try:
            value = int(str(raw))
        except ValueError:
            fields[name] = f"{name} must be a whole number"
            continue
        if not 1 <= value <= upper:
            fields[name] = f"{name} must be between 1 and {upper}"
        numbers[name] = value
    if fields:
        raise ValidationFailed(fields)
    return numbers["page"], numbers["per_page"]


def paginate(session: Session, query: Select, page: int, per_page: int) -> Page:
    """Run ``query`` for one page; a page past the end is empty, not an error."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique())
    return Page(items=items, total=total, page=page, per_page=per_page)
