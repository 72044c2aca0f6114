"""Who is party to a deal between a community group and a supplier (a request, a pledge).

Lists of such deals show each person only their side's: a group member the group's, a
supplier the supplier's, and officers every one. Requests and pledges both list this way.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select

from marketplace.models import Role, User


def parties_only[T: tuple](
    query: Select[T], viewer: User, *, group: ColumnElement[bool], supplier: ColumnElement[bool]
) -> Select[T]:
    """The query kept to deals the viewer is party to.

    Args:
        group: true for deals of the viewer's community group.
        supplier: true for deals of the viewer's supplier.
    """
    if viewer.role is Role.COMMUNITY:
        return query.where(group)
    if viewer.role is Role.SUPPLIER:
        return query.where(supplier)
    return query  # officers see every deal
