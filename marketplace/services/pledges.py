"""Pledges: a supplier's promise against a need, through officer approval to confirmed delivery.

Who may do each step, and from which status, is decided here and nowhere else. Offer
capacity and a need's numeric quantity are never over-promised: pledging locks the offer
and need rows (PostgreSQL ``FOR UPDATE``; SQLite's single writer lock does the same), so
two suppliers pledging the last of something at once cannot both succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.db import utcnow
from marketplace.models import (
    Contract,
    Measure,
    Need,
    NeedStatus,
    Offer,
    OfferStatus,
    Organisation,
    Pledge,
    PledgeEvent,
    PledgeStatus,
    Role,
    User,
)
from marketplace.models.pledge import DELIVERED, HOLDING
from marketplace.services import offer_requests
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.services.listings import FieldErrors, is_owner, row_id, unknown_fields
from marketplace.services.needs import get_need
from marketplace.services.notifications import members_of, officers, queue_email, site_link
from marketplace.services.paging import Page, paginate
from marketplace.text import amount

log = logging.getLogger(__name__)

FIELDS = {"need_id", "offer_id", "contract_id", "measure", "quantity", "message", "supplier_id", "request_id"}
MAX_QUANTITY = Decimal("1000000000")
MESSAGE_MAX = 2000
EVIDENCE_MAX = 5000
_ANY_ROLE = (Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)


def pledge_snapshot(pledge: Pledge) -> dict[str, object]:
    """A pledge as the audit log keeps it."""
    return {
        "status": pledge.status.value,
        "need_id": pledge.need_id,
        "offer_id": pledge.offer_id,
        "contract_id": pledge.contract_id,
        "supplier_id": pledge.supplier_id,
        "measure": pledge.measure_code,
        "quantity": str(pledge.quantity),
        "value": str(pledge.value) if pledge.value is not None else None,
        "proxy_value": str(pledge.proxy_value) if pledge.proxy_value is not None else None,
        "proxy_version": pledge.proxy_version,
    }


def parse_quantity(value: object, errors: FieldErrors, field: str = "quantity") -> Decimal | None:
    """A positive number with at most 2 decimal places."""
    if value is None or value == "":
        errors[field] = "Enter a quantity"
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[field] = "The quantity must be a number, like 40"
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors[field] = "The quantity must be a number, like 40"
        return None
    if not number.is_finite() or number <= 0:
        errors[field] = "The quantity must be more than 0"
        return None
    if number > MAX_QUANTITY:
        errors[field] = "The quantity is too large"
        return None
    if number != number.quantize(Decimal("0.01")):
        errors[field] = "The quantity can have at most 2 decimal places"
        return None
    return number


def _locked(session: Session, model: type, item_id: int):
    """Read a row for update, so concurrent pledges against it queue behind each other."""
    return session.scalar(
        select(model).where(model.id == item_id).with_for_update().execution_options(populate_existing=True)
    )


def _quantity(session: Session, statuses: tuple[PledgeStatus, ...], *conditions) -> Decimal:
    """The summed quantity of pledges in these statuses matching the conditions."""
    total = func.coalesce(func.sum(Pledge.quantity), 0)
    return Decimal(session.scalar(select(total).where(Pledge.status.in_(statuses), *conditions)) or 0)


def offer_remaining(session: Session, offer: Offer) -> Decimal | None:
    """Capacity left on an offer once its live pledges are counted (None: unlimited)."""
    if offer.capacity is None:
        return None
    return offer.capacity - _quantity(session, HOLDING, Pledge.offer_id == offer.id)


def need_remaining(session: Session, need: Need) -> Decimal | None:
    """How much of a need's numeric quantity is not yet promised (None: not measured)."""
    if need.quantity_needed is None:
        return None
    return need.quantity_needed - _quantity(
        session, HOLDING, Pledge.need_id == need.id, Pledge.measure_code == need.measure_code
    )


def _id(data: Mapping[str, object], name: str, errors: FieldErrors, *, required: bool) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = f"{name} is required"
        return None
    number = row_id(value)
    if number is None:
        errors[name] = f"{name} must be a whole number"
    return number


def _add_event(pledge: Pledge, actor: User | None, before: PledgeStatus | None, note: str = "") -> None:
    pledge.history.append(
        PledgeEvent(from_status=before.value if before else None, to_status=pledge.status.value, actor=actor, note=note)
    )


def propose_pledge(session: Session, actor: User | None, data: Mapping[str, object]) -> Pledge:
    """A supplier pledges against a need (an officer may record one on a supplier's behalf).

    Raises:
        ValidationFailed: bad or missing fields; Forbidden: another supplier's offer or
        contract; InvalidTransition: the need is not open or the offer not open; and when
        the quantity exceeds what is left of the offer or the need.
    """
    pledger = require_role(actor, Role.SUPPLIER, Role.OFFICER)
    asked = None
    if data.get("request_id") is not None:
        # A request for an offer fills the need and the offer; the supplier adds the rest.
        asked = offer_requests.request_for_pledge(session, pledger, data["request_id"])
        data = {**data, "need_id": asked.need_id, "offer_id": asked.offer_id}
    errors = FieldErrors()
    unknown_fields(data, FIELDS if pledger.is_officer else FIELDS - {"supplier_id"}, errors)
    need_id = _id(data, "need_id", errors, required=True)
    offer_id = _id(data, "offer_id", errors, required=False)
    contract_id = _id(data, "contract_id", errors, required=False)
    quantity = parse_quantity(data.get("quantity"), errors)
    message = data.get("message") or ""
    if not isinstance(message, str):
        errors["message"] = "The message must be text"
        message = ""
    elif len(message.strip()) > MESSAGE_MAX:
        errors["message"] = f"The message must be {MESSAGE_MAX} characters or fewer"
    if pledger.is_officer:
        supplier_id = _id(data, "supplier_id", errors, required=True)
        supplier = session.get(Organisation, supplier_id) if supplier_id else None
        if supplier_id and (supplier is None or supplier.kind.value != "supplier"):
            errors["supplier_id"] = "Select the supplier this pledge is from"
    else:
        supplier = pledger.organisation
    if offer_id is None:
        measure_code = data.get("measure")
        measure = session.get(Measure, measure_code) if isinstance(measure_code, str) else None
        if measure is None or not measure.active:
            errors["measure"] = "Select the measure this pledge is counted in"
    errors.raise_if_any()
    assert need_id is not None and quantity is not None and supplier is not None

    need = get_need(session, pledger, need_id)
    need = _locked(session, Need, need.id)
    if need.status is not NeedStatus.OPEN:
        raise InvalidTransition(f"This need is {need.status.value}, so it cannot take new pledges")

    offer = None
    if offer_id is not None:
        offer = session.get(Offer, offer_id)
        if offer is None:
            raise ValidationFailed({"offer_id": "There is no such offer"})
        if offer.organisation_id != supplier.id:
            raise Forbidden("You can only pledge from your own organisation's offers")
        offer = _locked(session, Offer, offer.id)
        if offer.status is not OfferStatus.OPEN:
            raise InvalidTransition(f"This offer is {offer.status.value}, so it cannot be pledged from")

    contract = None
    if contract_id is not None:
        contract = session.get(Contract, contract_id)
        if contract is None:
            raise ValidationFailed({"contract_id": "There is no such contract"})
        if contract.supplier_id != supplier.id:
            raise Forbidden("You can only pledge against your own organisation's contracts")

    measure_code = data.get("measure")
    if offer is not None and offer.measure_code is not None:
        measure_code = offer.measure_code  # an offer's pledges are counted in the offer's unit
    measure = session.get(Measure, measure_code) if isinstance(measure_code, str) else None
    if measure is None or not measure.active:
        raise ValidationFailed({"measure": "Select the measure this pledge is counted in"})

    if offer is not None and offer.measure_code == measure.code:
        left = offer_remaining(session, offer)
        if left is not None and quantity > left:
            raise InvalidTransition(f"This offer has {left.normalize():f} {measure.unit} left; pledge that or less")
    if need.measure_code == measure.code:
        left = need_remaining(session, need)
        if left is not None and quantity > left:
            raise InvalidTransition(f"This need has {left.normalize():f} {measure.unit} still to be pledged")

    pledge = Pledge(
        need=need,
        offer=offer,
        contract=contract,
        supplier=supplier,
        created_by=pledger,
        measure=measure,
        quantity=quantity,
        message=message.strip(),
        status=PledgeStatus.PROPOSED,
        assisted=pledger.is_officer,
    )
    session.add(pledge)
    _add_event(pledge, pledger, None, "recorded by an officer for the supplier" if pledger.is_officer else "")
    session.flush()
    record(session, pledger, "pledge.propose", "pledge", pledge.id, None, pledge_snapshot(pledge))
    if asked is not None:
        offer_requests.mark_pledged(session, pledger, asked, pledge)
    queue_email(
        session,
        members_of(session, need.organisation_id),
        f"New pledge for “{need.title}”",
        f"{supplier.name} has pledged {amount(quantity, measure.unit)} ({measure.name}) towards your need "
        f"“{need.title}”.\n\nWhat happens next: accept or decline it. Once you accept, the council checks "
        f"and approves it. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    log.info("pledge proposed", extra={"pledge_id": pledge.id, "need_id": need.id, "supplier_id": supplier.id})
    return pledge


def pledge_link(session: Session, pledge: Pledge) -> str:
    """The absolute link to a pledge's page, for e-mails."""
    return site_link(session, f"/pledges/{pledge.id}")


def can_view(viewer: User, pledge: Pledge) -> bool:
    """Officers, the pledging supplier and the need's group see a pledge."""
    return (
        viewer.is_officer
        or viewer.organisation_id == pledge.supplier_id
        or viewer.organisation_id == pledge.need.organisation_id
    )


def get_pledge(session: Session, actor: User | None, pledge_id: int) -> Pledge:
    """A pledge the actor may see.

    Raises:
        NotSignedIn; NotFound when there is none or the actor may not see it.
    """
    viewer = require_role(actor, *_ANY_ROLE)
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or not can_view(viewer, pledge):
        raise NotFound("There is no such pledge")
    return pledge


# Who may take each step of a pledge's lifecycle.
_STEP_BY = {
    "accept": "need owner",
    "decline": "need owner",
    "confirm": "need owner",
    "approve": "officer",
    "reject": "officer",
    "deliver": "supplier",
    "cancel": "supplier",
}


def pledge_for_step(session: Session, actor: User | None, pledge_id: int, action: str) -> tuple[User, Pledge]:
    """The pledge, when the actor may take this step of its lifecycle.

    Checked before anything the actor sent, so a refusal never depends on the form or body.

    Raises:
        NotSignedIn; NotFound when the actor may not see the pledge; Forbidden when they
        may see it but this step is someone else's.
    """
    user = require_role(actor, *_ANY_ROLE)
    pledge = get_pledge(session, user, pledge_id)
    who = _STEP_BY[action]
    permitted = {
        "need owner": user.role is Role.COMMUNITY and is_owner(user, pledge.need),
        "officer": user.is_officer,
        "supplier": user.role is Role.SUPPLIER and user.organisation_id == pledge.supplier_id,
    }[who]
    if not permitted:
        raise Forbidden(f"Only the {who.replace('need owner', 'group that posted the need')} can {action} this pledge")
    return user, pledge


def _transition(
    session: Session,
    actor: User | None,
    pledge_id: int,
    *,
    action: str,
    allowed_from: tuple[PledgeStatus, ...],
    to: PledgeStatus,
    note: str = "",
) -> tuple[User, Pledge, dict[str, object]]:
    user, pledge = pledge_for_step(session, actor, pledge_id, action)
    # Lock the row: two officers approving at once must not both count it.
    pledge = session.scalar(
        select(Pledge).where(Pledge.id == pledge.id).with_for_update().execution_options(populate_existing=True)
    )
    if pledge.status not in allowed_from:
        raise InvalidTransition(f"This pledge is {pledge.status.value}, so it cannot be {to.value}")
    before = pledge_snapshot(pledge)
    previous = pledge.status
    pledge.status = to
    _add_event(pledge, user, previous, note)
    return user, pledge, before


def _finish(session: Session, user: User, pledge: Pledge, action: str, before: dict[str, object]) -> Pledge:
    session.flush()
    record(session, user, f"pledge.{action}", "pledge", pledge.id, before, pledge_snapshot(pledge))
    log.info("pledge changed", extra={"pledge_id": pledge.id, "status": pledge.status.value})
    return pledge


def accept_pledge(session: Session, actor: User | None, pledge_id: int) -> Pledge:
    """The need's group accepts a proposed pledge; officers are asked to approve it."""
    user, pledge, before = _transition(
        session, actor, pledge_id, action="accept", allowed_from=(PledgeStatus.PROPOSED,),
        to=PledgeStatus.ACCEPTED,
    )  # fmt: skip
    queue_email(
        session,
        officers(session),
        f"Pledge waiting for approval: {pledge.supplier.name}",
        f"{pledge.need.organisation.name} accepted a pledge from {pledge.supplier.name} of "
        f"{amount(pledge.quantity, pledge.measure.unit)} for “{pledge.need.title}”."
        f"\n\nWhat happens next: approve or reject it. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"Pledge accepted: “{pledge.need.title}”",
        f"{pledge.need.organisation.name} accepted your pledge of {amount(pledge.quantity, pledge.measure.unit)} "
        f"for “{pledge.need.title}”. You can now see their contact details.\n\nWhat happens next: the council "
        f"checks and approves it; then you deliver it. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "accept", before)


def decline_pledge(session: Session, actor: User | None, pledge_id: int, reason: str = "") -> Pledge:
    """The need's group declines a proposed pledge."""
    pledge_for_step(session, actor, pledge_id, "decline")
    user, pledge, before = _transition(
        session, actor, pledge_id, action="decline", allowed_from=(PledgeStatus.PROPOSED,),
        to=PledgeStatus.DECLINED, note=_note(reason),
    )  # fmt: skip
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"Pledge declined: “{pledge.need.title}”",
        f"{pledge.need.organisation.name} declined your pledge for “{pledge.need.title}”."
        + (f"\n\nTheir reason: {reason.strip()}" if reason.strip() else "")
        + f"\n\nOpen the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "decline", before)


def approve_pledge(session: Session, actor: User | None, pledge_id: int) -> Pledge:
    """An officer approves an accepted pledge: it becomes a commitment, valued now."""
    user, pledge, before = _transition(
        session, actor, pledge_id, action="approve", allowed_from=(PledgeStatus.ACCEPTED,),
        to=PledgeStatus.APPROVED,
    )  # fmt: skip
    measure = pledge.measure
    pledge.proxy_value = measure.proxy_value
    pledge.proxy_version = measure.proxy_version
    pledge.value = _value(pledge.quantity, measure.proxy_value)
    pledge.approved_at = utcnow()
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"Pledge approved: “{pledge.need.title}”",
        f"The council approved your pledge for “{pledge.need.title}”. It now counts as a social value commitment"
        + (f" on contract {pledge.contract.reference}" if pledge.contract else "")
        + f".\n\nWhat happens next: deliver it, then mark it delivered with evidence. Open the pledge:\n"
        f"{pledge_link(session, pledge)}",
        essential=False,
    )
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"The council approved the pledge for “{pledge.need.title}”",
        f"The council approved {pledge.supplier.name}'s pledge of {amount(pledge.quantity, pledge.measure.unit)} "
        f"for your need “{pledge.need.title}”.\n\nWhat happens next: {pledge.supplier.name} delivers it; you "
        f"will be asked to confirm it was delivered. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "approve", before)


def reject_pledge(session: Session, actor: User | None, pledge_id: int, reason: str) -> Pledge:
    """An officer rejects an accepted pledge, giving a reason."""
    pledge_for_step(session, actor, pledge_id, "reject")  # who may, before what they sent
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed({"reason": "Enter the reason for rejecting the pledge"})
    if len(reason) > MESSAGE_MAX:
        raise ValidationFailed({"reason": f"The reason must be {MESSAGE_MAX} characters or fewer"})
    user, pledge, before = _transition(
        session, actor, pledge_id, action="reject", allowed_from=(PledgeStatus.ACCEPTED,),
        to=PledgeStatus.REJECTED, note=reason.strip(),
    )  # fmt: skip
    pledge.reject_reason = reason.strip()
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"Pledge not approved: “{pledge.need.title}”",
        f"The council did not approve your pledge for “{pledge.need.title}”.\n\nThe reason: {reason.strip()}"
        f"\n\nOpen the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "reject", before)


def deliver_pledge(
    session: Session, actor: User | None, pledge_id: int, evidence: object, actual_quantity: object = None
) -> Pledge:
    """The supplier says it has delivered, with evidence and optionally the actual quantity."""
    pledge_for_step(session, actor, pledge_id, "deliver")  # who may, before what they sent
    errors = FieldErrors()
    if not isinstance(evidence, str) or len(evidence.strip()) < 5:
        errors["evidence"] = "Describe what was delivered, for example dates, hours or items"
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = f"The evidence must be {EVIDENCE_MAX} characters or fewer"
    actual = parse_quantity(actual_quantity, errors, "actual_quantity") if actual_quantity not in (None, "") else None
    errors.raise_if_any()
    user, pledge, before = _transition(
        session, actor, pledge_id, action="deliver", allowed_from=(PledgeStatus.APPROVED,),
        to=PledgeStatus.DELIVERED,
    )  # fmt: skip
    pledge.evidence = evidence.strip()
    if actual is not None and actual != pledge.quantity:
        pledge.history[-1].note = f"quantity changed from {pledge.quantity.normalize():f} to {actual.normalize():f}"
        pledge.quantity = actual
        # The proxy in force at approval still applies: only the quantity changed.
        pledge.value = _value(actual, pledge.proxy_value)
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"Please confirm delivery: “{pledge.need.title}”",
        f"{pledge.supplier.name} says it has delivered its pledge for “{pledge.need.title}”:\n\n{pledge.evidence}"
        f"\n\nWhat happens next: confirm it was delivered. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "deliver", before)


def confirm_pledge(session: Session, actor: User | None, pledge_id: int) -> Pledge:
    """The need's group confirms delivery; the pledge counts as delivered social value.

    When the need has a numeric quantity that confirmed pledges now cover, it is met.
    """
    user, pledge, before = _transition(
        session, actor, pledge_id, action="confirm", allowed_from=(PledgeStatus.DELIVERED,),
        to=PledgeStatus.CONFIRMED,
    )  # fmt: skip
    pledge.confirmed_at = utcnow()
    session.flush()
    need = pledge.need
    if need.quantity_needed is not None and need.status is NeedStatus.OPEN:
        confirmed = _quantity(session, DELIVERED, Pledge.need_id == need.id, Pledge.measure_code == need.measure_code)
        if confirmed >= need.quantity_needed:
            need.status = NeedStatus.MET
            log.info("need met", extra={"need_id": need.id})
    return _finish(session, user, pledge, "confirm", before)


def cancel_pledge(session: Session, actor: User | None, pledge_id: int, reason: str = "") -> Pledge:
    """The supplier withdraws its pledge before delivery."""
    pledge_for_step(session, actor, pledge_id, "cancel")
    user, pledge, before = _transition(
        session, actor, pledge_id, action="cancel",
        allowed_from=(PledgeStatus.PROPOSED, PledgeStatus.ACCEPTED, PledgeStatus.APPROVED),
        to=PledgeStatus.CANCELLED, note=_note(reason),
    )  # fmt: skip
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"Pledge cancelled: “{pledge.need.title}”",
        f"{pledge.supplier.name} cancelled its pledge for “{pledge.need.title}”."
        + (f"\n\nTheir reason: {reason.strip()}" if reason.strip() else "")
        + f"\n\nYour need stays open for other pledges. Open the pledge:\n{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "cancel", before)


def _note(reason: object) -> str:
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise ValidationFailed({"reason": "The reason must be text"})
    if len(reason) > MESSAGE_MAX:
        raise ValidationFailed({"reason": f"The reason must be {MESSAGE_MAX} characters or fewer"})
    return reason.strip()


def _value(quantity: Decimal, proxy: Decimal | None) -> Decimal:
    # Unmonetised measures are counted in units only: their £ value is 0, never a guess.
    return (quantity * proxy).quantize(Decimal("0.01")) if proxy is not None else Decimal("0.00")


@dataclass(frozen=True)
class PledgeFilters:
    """Which pledges to list; None means any."""

    status: str | None = None
    need_id: int | None = None
    supplier_id: int | None = None
    offer_id: int | None = None
    contract_id: int | None = None
    # Stuck: proposed or approved, and unchanged since this moment.
    unchanged_before: datetime | None = None


def list_pledges(
    session: Session,
    actor: User | None,
    filters: PledgeFilters,
    page: int = 1,
    per_page: int = 20,
    *,
    oldest_first: bool = False,
) -> Page[Pledge]:
    """Pledges the actor may see: officers all; suppliers their own; groups those for their needs."""
    viewer = require_role(actor, *_ANY_ROLE)
    query = select(Pledge).options(
        selectinload(Pledge.need).selectinload(Need.organisation),
        selectinload(Pledge.supplier),
        selectinload(Pledge.measure),
        selectinload(Pledge.contract),
        selectinload(Pledge.history),
    )
    if viewer.role is Role.SUPPLIER:
        query = query.where(Pledge.supplier_id == viewer.organisation_id)
    elif viewer.role is Role.COMMUNITY:
        query = query.where(Pledge.need.has(Need.organisation_id == viewer.organisation_id))
    if filters.status:
        query = query.where(Pledge.status == filters.status)
    for column, value in (
        (Pledge.need_id, filters.need_id),
        (Pledge.supplier_id, filters.supplier_id),
        (Pledge.offer_id, filters.offer_id),
        (Pledge.contract_id, filters.contract_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.unchanged_before is not None:
        query = query.where(
            Pledge.status.in_((PledgeStatus.PROPOSED, PledgeStatus.APPROVED)),
            Pledge.updated_at < filters.unchanged_before,
        )
    order = (Pledge.updated_at, Pledge.id) if oldest_first else (Pledge.created_at.desc(), Pledge.id.desc())
    return paginate(session, query.order_by(*order), page, per_page)


def pledges_to_need(session: Session, actor: User | None, need: Need, limit: int = 50) -> list[Pledge]:
    """The newest pledges to a need that the actor may see, as ``list_pledges`` filters them.

    A visitor, or a member of another group, can see none: the database is not asked.
    """
    if actor is None or (actor.role is Role.COMMUNITY and actor.organisation_id != need.organisation_id):
        return []
    return list_pledges(session, actor, PledgeFilters(need_id=need.id), 1, limit).items


def contact_visible(viewer: User | None, pledge: Pledge) -> bool:
    """A group's contact details reach a supplier only once the group accepted its pledge."""
    if viewer is None:
        return False
    if viewer.is_officer or viewer.organisation_id == pledge.need.organisation_id:
        return True
    return viewer.organisation_id == pledge.supplier_id and pledge.status in (
        PledgeStatus.ACCEPTED,
        PledgeStatus.APPROVED,
        PledgeStatus.DELIVERED,
        PledgeStatus.CONFIRMED,
    )


@dataclass(frozen=True)
class Contact:
    """How to reach a member of the group that posted a need."""

    name: str
    email: str
    phone: str | None


def group_contacts(session: Session, viewer: User | None, pledge: Pledge) -> list[Contact] | None:
    """The need's group's contact details, or None when the viewer may not see them yet."""
    if not contact_visible(viewer, pledge):
        return None
    return _contacts(session, pledge.need.organisation)


def contacts_for(session: Session, viewer: User | None, pledge: Pledge) -> list[Contact] | None:
    """Who the viewer can contact about a pledge: the group sees the supplier's people; the
    supplier and officers see the group's, once the group has accepted.
    """
    if viewer is not None and viewer.organisation_id == pledge.need.organisation_id:
        return _contacts(session, pledge.supplier)
    return group_contacts(session, viewer, pledge)


def _contacts(session: Session, organisation: Organisation) -> list[Contact]:
    members = session.scalars(
        select(User).where(User.organisation_id == organisation.id, User.active).order_by(User.id).limit(3)
    )
    return [Contact(name=m.name, email=m.email, phone=organisation.contact_phone) for m in members]


def pledge_sources(session: Session, supplier_id: int) -> tuple[list[Offer], list[Contract]]:
    """A supplier's open offers and its contracts, to pledge from and against."""
    offers = session.scalars(
        select(Offer)
        .where(Offer.organisation_id == supplier_id, Offer.status == OfferStatus.OPEN)
        .order_by(Offer.title)
    )
    contracts = session.scalars(
        select(Contract).where(Contract.supplier_id == supplier_id).order_by(Contract.reference)
    )
    return list(offers), list(contracts)


def estimated_value(pledge: Pledge) -> Decimal | None:
    """What the pledge would be worth if approved now (None for unmonetised measures)."""
    if pledge.value is not None:
        return pledge.value
    proxy = pledge.measure.proxy_value
    return _value(pledge.quantity, proxy) if proxy is not None else None
