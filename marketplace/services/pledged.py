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


def _measure_locked(
    session: Session, item: Offer | Need, clean: Mapping[str, object], where: str, *conditions
) -> str | None:
    """Why the measure may not change: live pledges are counted in the current one (None: it may)."""
    if "measure" not in clean or clean["measure"] == item.measure_code or item.measure_code is None:
        return None
    live = (
        session.scalar(
            select(func.count(Pledge.id)).where(
                Pledge.status.in_(HOLDING), Pledge.measure_code == item.measure_code, *conditions
            )
        )
        or 0
    )
    if not live:
        return None
    noun, verb = ("live pledge", "is") if live == 1 else ("live pledges", "are")
    return f"The measure cannot change while {live} {noun} {where} {verb} counted in {item.measure.unit}"


def _too_small(amount: object, held: Decimal, unit: str, what: str) -> str | None:
    if amount is None or amount >= held:  # type: ignore[operator]
        return None
    return f"{what} cannot be less than the {held.normalize():f} {unit} already pledged".replace("  ", " ")


def check_offer_edit(session: Session, offer: Offer, clean: Mapping[str, object]) -> None:
    """Refuse an edit that would leave the offer's pledges without capacity or unit.

    Raises:
        ValidationFailed: naming ``capacity`` or ``measure`` with the reason.
    """
    errors: dict[str, str] = {}
    if reason := _measure_locked(session, offer, clean, "from this offer", Pledge.offer_id == offer.id):
        errors["measure"] = reason
    if "capacity" in clean:
        unit = offer.measure.unit if offer.measure else ""
        if reason := _too_small(clean["capacity"], held_by_offer(session, offer), unit, "The capacity"):
            errors["capacity"] = reason + " from this offer"
    if errors:
        raise ValidationFailed(errors)


def check_need_edit(session: Session, need: Need, clean: Mapping[str, object]) -> None:
    """Refuse an edit that would leave a need's pledges over its quantity or in a dropped unit.

    Raises:
        ValidationFailed: naming ``quantity_needed`` or ``measure`` with the reason.
    """
    errors: dict[str, str] = {}
    if reason := _measure_locked(session, need, clean, "to this need", Pledge.need_id == need.id):
        errors["measure"] = reason
    elif "quantity_needed" in clean:
        held = held_by_need(session, need, clean.get("measure", need.measure_code))  # type: ignore[arg-type]
        unit = need.measure.unit if need.measure else ""
        if reason := _too_small(clean["quantity_needed"], held, unit, "The quantity needed"):
            errors["quantity_needed"] = reason
    if errors:
        raise ValidationFailed(errors)
