"""How much of an offer's capacity or a need's quantity pledges already hold.

Pledges, offers and needs all ask this, so it lives here once: a pledge never takes more
than is left, and an offer's capacity or a need's quantity is never edited below what is
already promised, nor moved to another measure while pledges are counted in the old one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.models import Need, Offer, Pledge, PledgeStatus
from marketplace.models.pledge import HOLDING
from marketplace.services.errors import ValidationFailed


def pledged_quantity(session: Session, statuses: tuple[PledgeStatus, ...], *conditions) -> Decimal:
    """The summed quantity of pledges in these statuses matching the conditions."""
    total = func.coalesce(func.sum(Pledge.quantity), 0)
    return Decimal(session.scalar(select(total).where(Pledge.status.in_(statuses), *conditions)) or 0)


def held_by_offer(session: Session, offer: Offer) -> Decimal:
    """What live pledges from the offer hold of its capacity."""
    return pledged_quantity(session, HOLDING, Pledge.offer_id == offer.id)


def held_by_need(session: Session, need: Need, measure_code: str | None = None) -> Decimal:
    """What live pledges to the need hold of its quantity, in its (or the given) measure."""
    return pledged_quantity(
        session, HOLDING, Pledge.need_id == need.id, Pledge.measure_code == (measure_code or need.measure_code)
    )


def _count_live(session: Session, *conditions) -> int:
    return session.scalar(select(func.count(Pledge.id)).where(Pledge.status.in_(HOLDING), *conditions)) or 0


def check_offer_edit(session: Session, offer: Offer, clean: Mapping[str, object]) -> None:
    """Refuse an edit that would leave the offer's pledges without capacity or unit.

    Raises:
        ValidationFailed: naming ``capacity`` or ``measure`` with the reason.
    """
    if offer.id is None:
        return
    errors: dict[str, str] = {}
    new_measure = clean.get("measure", offer.measure_code)
    if "measure" in clean and new_measure != offer.measure_code and offer.measure_code is not None:
        live = _count_live(session, Pledge.offer_id == offer.id, Pledge.measure_code == offer.measure_code)
        if live:
            errors["measure"] = (
                f"The measure cannot change while {live} live pledge{'s' if live != 1 else ''} from this offer "
                f"{'are' if live != 1 else 'is'} counted in {offer.measure.unit}"
            )
    capacity = clean.get("capacity", offer.capacity)
    if "capacity" in clean and capacity is not None:
        held = held_by_offer(session, offer)
        if capacity < held:
            unit = offer.measure.unit if offer.measure else ""
            errors["capacity"] = (
                f"The capacity cannot be less than the {held.normalize():f} {unit} already pledged from this offer"
            ).replace("  ", " ")
    if errors:
        raise ValidationFailed(errors)


def check_need_edit(session: Session, need: Need, clean: Mapping[str, object]) -> None:
    """Refuse an edit that would leave a need's pledges over its quantity or in a dropped unit.

    Raises:
        ValidationFailed: naming ``quantity_needed`` or ``measure`` with the reason.
    """
    errors: dict[str, str] = {}
    if "measure" in clean and clean["measure"] != need.measure_code and need.measure_code is not None:
        live = _count_live(session, Pledge.need_id == need.id, Pledge.measure_code == need.measure_code)
        if live:
            errors["measure"] = (
                f"The measure cannot change while {live} live pledge{'s' if live != 1 else ''} to this need "
                f"{'are' if live != 1 else 'is'} counted in {need.measure.unit}"
            )
    quantity = clean.get("quantity_needed", need.quantity_needed)
    if "quantity_needed" in clean and quantity is not None and "measure" not in errors:
        held = held_by_need(session, need, clean.get("measure", need.measure_code))  # type: ignore[arg-type]
        if quantity < held:
            unit = need.measure.unit if need.measure else ""
            errors["quantity_needed"] = (
                f"The quantity needed cannot be less than the {held.normalize():f} {unit} already pledged"
            ).replace("  ", " ")
    if errors:
        raise ValidationFailed(errors)
