"""Offers: posting, editing, pausing, resuming, withdrawing and browsing what suppliers give."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.models import (
    Category,
    District,
    Measure,
    Offer,
    OfferStatus,
    OrganisationKind,
    Outcome,
    Role,
    User,
)
from marketplace.services.accounts import require_role
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound
from marketplace.services.listings import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    ON_BEHALF_FIELDS,
    TITLE_MAX,
    TITLE_MIN,
    Browsing,
    FieldErrors,
    Filters,
    browse_page,
    by_position,
    clean_choice,
    clean_choices,
    clean_future_date,
    clean_measure_and_amount,
    clean_text,
    is_owner,
    is_visible,
    listing_with_organisation,
    posting_organisation,
    unknown_fields,
)
from marketplace.services.paging import Page, paginate
from marketplace.services.pledged import check_offer_edit
from marketplace.services.reference import reference_lists

log = logging.getLogger(__name__)

OFFER_FIELDS = {
    "title",
    "description",
    "category",
    "districts",
    "outcomes",
    "available_until",
    "measure",
    "capacity",
}
OFFER_STATUSES = {s.value for s in OfferStatus}
BROWSING = Browsing(
    Offer,
    OfferStatus.OPEN.value,
    OfferStatus.WITHDRAWN.value,
    closes_on=Offer.available_until,
    # An offer serves a district when it lists it or County-wide.
    in_district=lambda code: Offer.districts.any(District.code == code) | Offer.districts.any(District.covers_all),
    options=(selectinload(Offer.districts), selectinload(Offer.organisation), selectinload(Offer.category)),
)


def _validate(
    session: Session,
    data: Mapping[str, object],
    today: date,
    *,
    partial: bool,
    current: Offer | None = None,
    extra_fields: frozenset[str] = frozenset(),
) -> dict[str, object]:
    lists = reference_lists(session)
    errors = FieldErrors()
    unknown_fields(data, OFFER_FIELDS | extra_fields, errors)
    clean: dict[str, object] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("title"):
        clean["title"] = clean_text(data, "title", "title", TITLE_MIN, TITLE_MAX, errors)
    if wanted("description"):
        clean["description"] = clean_text(data, "description", "description", DESCRIPTION_MIN, DESCRIPTION_MAX, errors)
    if wanted("category"):
        clean["category"] = clean_choice(data, "category", lists.category_codes, "Select a category", errors)
    if wanted("districts"):
        clean["districts"] = clean_choices(
            data,
            "districts",
            lists.district_codes,
            "Select at least one district you serve",
            errors,
            required=True,
        )
    if wanted("outcomes"):
        clean["outcomes"] = clean_choices(
            data, "outcomes", lists.outcome_codes, "Select outcomes from the list", errors, required=False
        )
    if wanted("available_until"):
        clean["available_until"] = clean_future_date(data, "available_until", "the available-until date", today, errors)
    clean |= clean_measure_and_amount(
        data,
        lists.measure_codes,
        errors,
        amount_field="capacity",
        partial=partial,
        current_measure=current.measure_code if current else None,
        current_amount=current.capacity if current else None,
        missing_measure="Select the measure your capacity is counted in",
    )
    errors.raise_if_any()
    return clean


def _apply(session: Session, offer: Offer, clean: Mapping[str, object]) -> None:
    for name in ("title", "description", "available_until", "capacity"):
        if name in clean:
            setattr(offer, name, clean[name])
    if "category" in clean:
        offer.category = session.get(Category, clean["category"])
    if "districts" in clean:
        offer.districts = sorted((session.get(District, code) for code in clean["districts"]), key=by_position)
    if "outcomes" in clean:
        offer.outcomes = sorted((session.get(Outcome, code) for code in clean["outcomes"]), key=by_position)
    if "measure" in clean:
        offer.measure = session.get(Measure, clean["measure"]) if clean["measure"] else None


def post_offer(session: Session, actor: User | None, data: Mapping[str, object], today: date) -> Offer:
    """A supplier posts an offer for its organisation.

    An officer may post one on a supplier's behalf (``organisation_id``), as needs are
    posted for groups (the bulk import of a council's spreadsheet does).

    Raises:
        NotSignedIn, Forbidden: unless the actor is a supplier or an officer.
        ValidationFailed: naming each field to correct.
    """
    supplier = require_role(actor, Role.SUPPLIER, Role.OFFICER)
    extra = ON_BEHALF_FIELDS if supplier.is_officer else frozenset()
    clean = _validate(session, data, today, partial=False, extra_fields=extra)
    organisation = posting_organisation(
        session, supplier, data, OrganisationKind.SUPPLIER, "Select the supplier this offer is for"
    )
    offer = Offer(organisation=organisation, created_by=supplier, status=OfferStatus.OPEN)
    _apply(session, offer, clean)
    session.add(offer)
    session.flush()
    log.info("offer posted", extra={"offer_id": offer.id, "organisation_id": offer.organisation_id})
    return offer


def get_offer(session: Session, viewer: User | None, offer_id: int) -> Offer:
    """An offer the viewer may see.

    Raises:
        NotFound: when there is none, or the viewer may not see it.
    """
    # The organisation decides visibility: read it in the same round trip.
    offer = listing_with_organisation(session, Offer, offer_id)
    if offer is None or not is_visible(viewer, offer):
        raise NotFound("There is no such offer")
    return offer


def get_own_offer(session: Session, actor: User | None, offer_id: int) -> Offer:
    """An offer the actor's organisation posted, for changing it.

    Raises:
        NotSignedIn, NotFound, Forbidden: for anyone outside the posting supplier.
    """
    supplier = require_role(actor, Role.SUPPLIER, Role.OFFICER)
    offer = get_offer(session, supplier, offer_id)
    if not is_owner(supplier, offer):
        raise Forbidden("Only the supplier that posted this offer can change it")
    return offer


def edit_offer(session: Session, actor: User | None, offer_id: int, data: Mapping[str, object], today: date) -> Offer:
    """The posting supplier changes some fields of an open or paused offer.

    Raises:
        InvalidTransition: when the offer was withdrawn.
    """
    offer = get_own_offer(session, actor, offer_id)
    if offer.status is OfferStatus.WITHDRAWN:
        raise InvalidTransition("This offer was withdrawn and can no longer be changed")
    clean = _validate(session, data, today, partial=True, current=offer)
    check_offer_edit(session, offer, clean)
    _apply(session, offer, clean)
    session.flush()
    log.info("offer edited", extra={"offer_id": offer.id, "fields": sorted(clean)})
    return offer


_TRANSITIONS = {
    "pause": ({OfferStatus.OPEN}, OfferStatus.PAUSED),
    "resume": ({OfferStatus.PAUSED}, OfferStatus.OPEN),
    "withdraw": ({OfferStatus.OPEN, OfferStatus.PAUSED}, OfferStatus.WITHDRAWN),
}


def change_offer_status(session: Session, actor: User | None, offer_id: int, action: str) -> Offer:
    """Pause, resume or withdraw an offer, following its lifecycle.

    Args:
        action: ``pause``, ``resume`` or ``withdraw``.

    Raises:
        InvalidTransition: when the offer's current status does not allow it.
    """
    allowed_from, target = _TRANSITIONS[action]
    offer = get_own_offer(session, actor, offer_id)
    if offer.status not in allowed_from:
        raise InvalidTransition(f"This offer is {offer.status.value}, so it cannot be {target.value}")
    offer.status = target
    session.flush()
    log.info("offer status changed", extra={"offer_id": offer.id, "status": target.value})
    return offer


def list_offers(
    session: Session, viewer: User | None, filters: Filters, page: int = 1, per_page: int = 20
) -> Page[Offer]:
    """Offers the viewer may see, newest first. Status defaults to open; ``any`` means all.

    An offer serves a district when it lists it or ``County-wide``. The cards show no
    outcomes: the API loads them with ``load_outcomes``.
    """
    return browse_page(session, BROWSING, viewer, filters, page, per_page)


def list_own_offers(session: Session, actor: User | None, page: int = 1, per_page: int = 20) -> Page[Offer]:
    """All of the supplier's offers, whatever their status, newest first."""
    supplier = require_role(actor, Role.SUPPLIER)
    query = (
        select(Offer)
        .options(selectinload(Offer.districts))
        .where(Offer.organisation_id == supplier.organisation_id)
        .order_by(Offer.created_at.desc(), Offer.id.desc())
    )
    return paginate(session, query, page, per_page)
