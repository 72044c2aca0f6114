"""Needs and offers as the matching library's documents."""

from __future__ import annotations

import matching
from marketplace.models import Need, Offer


def need_document(need: Need) -> matching.Need:
    """A need as the matcher sees it."""
    return matching.Need(
        id=str(need.id),
        title=need.title,
        description=need.description,
        category=need.category_code,
        district=need.district_code,
        outcomes=tuple(o.code for o in need.outcomes),
        quantity=need.quantity,
        status=need.status.value,
        needed_by=need.needed_by,
        posted=need.created_at.date() if need.created_at else None,
    )


def offer_document(offer: Offer) -> matching.Offer:
    """An offer as the matcher sees it; offers are grouped by supplier through its id."""
    return matching.Offer(
        id=str(offer.id),
        title=offer.title,
        description=offer.description,
        category=offer.category_code,
        districts=tuple(d.code for d in offer.districts),
        status=offer.status.value,
        available_until=offer.available_until,
        measure=offer.measure_code,
        supplier=f"organisation:{offer.organisation_id}",
    )
