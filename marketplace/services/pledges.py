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
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from marketplace.clock import council_today
from marketplace.db import utcnow
from marketplace.formatting import amount
from marketplace.models import (
    Contract,
    EvidenceReview,
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
from marketplace.models.pledge import DELIVERED
from marketplace.services import offer_requests
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.services.listings import is_owner
from marketplace.services.measures import measure_fits
from marketplace.services.needs import get_need
from marketplace.services.notifications import members_of, officers, queue_email, site_link
from marketplace.services.paging import Page, paginate
from marketplace.services.parties import parties_only
from marketplace.services.pledged import held_by_need, held_by_offer, pledged_quantity
from marketplace.validation import (
    Amount,
    FieldErrors,
    clean_decimal,
    clean_future_date,
    field_label,
    row_id,
    unknown_fields,
)

log = logging.getLogger(__name__)

FIELDS = {
    "need_id", "offer_id", "contract_id", "measure", "quantity", "message", "supplier_id", "deliver_by", "request_id",
}  # fmt: skip
MESSAGE_MAX = 2000
EVIDENCE_MAX = 5000
# What a supplier declares when marking a pledge delivered, kept word for word with the pledge.
DECLARATION = (
    "This contribution is not reported as social value against any other contract, "
    "nor to any other council or public body."
)
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
        "deliver_by": pledge.deliver_by.isoformat() if pledge.deliver_by else None,
        "committed_quantity": _text(pledge.committed_quantity),
        "committed_value": _text(pledge.committed_value),
        "pending_quantity": _text(pledge.pending_quantity),
        "evidence_review": pledge.evidence_review,
        "declaration": pledge.declaration,
    }


QUANTITY = Amount("The quantity", missing="Enter a quantity")
ACTUAL_QUANTITY = Amount("The quantity delivered")


def _text(number: Decimal | None) -> str | None:
    return str(number) if number is not None else None


def _locked(session: Session, model: type, item_id: int):
    """Read a row for update, so concurrent pledges against it queue behind each other."""
    return session.scalar(
        select(model).where(model.id == item_id).with_for_update().execution_options(populate_existing=True)
    )


def offer_remaining(session: Session, offer: Offer) -> Decimal | None:
    """Capacity left on an offer once its live pledges are counted (None: unlimited)."""
    if offer.capacity is None:
        return None
    return offer.capacity - held_by_offer(session, offer)


def need_remaining(session: Session, need: Need) -> Decimal | None:
    """How much of a need's numeric quantity is not yet promised (None: not measured)."""
    if need.quantity_needed is None:
        return None
    return need.quantity_needed - held_by_need(session, need)


def _id(data: Mapping[str, object], name: str, errors: FieldErrors, *, required: bool) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            errors[name] = f"{field_label(name)} is required"
        return None
    number = row_id(value)
    if number is None:
        errors[name] = f"{field_label(name)} must be a whole number"
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
    quantity = clean_decimal(data.get("quantity"), "quantity", QUANTITY, errors, required=True)
    message = data.get("message") or ""
    if not isinstance(message, str):
        errors["message"] = "The message must be text"
        message = ""
    elif len(message.strip()) > MESSAGE_MAX:
        errors["message"] = f"The message must be {MESSAGE_MAX} characters or fewer"
    deliver_by = clean_future_date(data, "deliver_by", "the deliver-by date", council_today(), errors)
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
        # An offer's pledges are counted in the offer's unit. Another measure sent with it is
        # refused rather than dropped: the person meant something the pledge would not say.
        if measure_code not in (None, "", offer.measure_code):
            raise ValidationFailed(
                {"measure": f"Pledges from “{offer.title}” are counted in its measure, {offer.measure.name}. "
                 "Leave the measure out, or pledge without the offer to count it in another measure"}
            )  # fmt: skip
        measure_code = offer.measure_code
    measure = session.get(Measure, measure_code) if isinstance(measure_code, str) else None
    if measure is None or not measure.active:
        raise ValidationFailed({"measure": "Select the measure this pledge is counted in"})

    _refuse_repeat(session, need, supplier, offer, measure, quantity, message.strip())

    if offer is not None and offer.measure_code == measure.code:
        left = offer_remaining(session, offer)
        if left is not None and quantity > left:
            raise InvalidTransition(f"This offer has {amount(left, measure.unit)} left; pledge that or less")
    if need.measure_code == measure.code:
        left = need_remaining(session, need)
        if left is not None and quantity > left:
            raise InvalidTransition(f"This need has {amount(left, measure.unit)} still to be pledged")

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
        deliver_by=deliver_by,
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


# A pledge still waiting for a decision: the group's answer, then the council's approval.
_PENDING = (PledgeStatus.PROPOSED, PledgeStatus.ACCEPTED)
_PENDING_WITH = {
    PledgeStatus.PROPOSED: "the group's answer",
    PledgeStatus.ACCEPTED: "the council's approval",
}


def _refuse_repeat(
    session: Session,
    need: Need,
    supplier: Organisation,
    offer: Offer | None,
    measure: Measure,
    quantity: Decimal,
    message: str,
) -> None:
    """Refuse a pledge that repeats one of the supplier's pending pledges to the need word for word.

    Same offer, measure, quantity and message: what the group and the council would see twice
    (a form sent twice, a retried API call). The need's row is locked, so two copies sent at
    once queue here and the second is refused.

    Raises:
        InvalidTransition: naming what the pending pledge waits for.
    """
    repeat = session.scalar(
        select(Pledge)
        .where(
            Pledge.need_id == need.id,
            Pledge.supplier_id == supplier.id,
            Pledge.offer_id == offer.id if offer is not None else Pledge.offer_id.is_(None),
            Pledge.measure_code == measure.code,
            Pledge.quantity == quantity,
            Pledge.message == message,
            Pledge.status.in_(_PENDING),
        )
        .limit(1)
    )
    if repeat is not None:
        raise InvalidTransition(
            f"{supplier.name} has already pledged {amount(quantity, measure.unit)} to “{need.title}”"
            f"{' from this offer' if offer is not None else ''}, and that pledge is waiting for "
            f"{_PENDING_WITH[repeat.status]}. Change the pledge or cancel the first one to make another"
        )


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
    "dispute": "need owner",
    "request-evidence": "officer",
    "accept-evidence": "officer",
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
    review_from: tuple[str | None, ...] | None = None,
    refused: str = "",
) -> tuple[User, Pledge, dict[str, object]]:
    user, pledge = pledge_for_step(session, actor, pledge_id, action)
    # Lock the row: two officers approving at once must not both count it.
    pledge = session.scalar(
        select(Pledge).where(Pledge.id == pledge.id).with_for_update().execution_options(populate_existing=True)
    )
    if pledge.status not in allowed_from:
        raise InvalidTransition(f"This pledge is {pledge.status.value}, so it cannot be {to.value}")
    # Read after the lock: of two officers reviewing at once, the second is told what the first did.
    if review_from is not None and pledge.evidence_review not in review_from:
        raise InvalidTransition(refused or _review_words(pledge))
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


def parse_deliver_by(value: object, errors: FieldErrors) -> date | None:
    """A deliver-by date sent as ``YYYY-MM-DD`` (or a date), today or later."""
    return clean_future_date({"deliver_by": value}, "deliver_by", "the deliver-by date", council_today(), errors)


def approve_pledge(session: Session, actor: User | None, pledge_id: int, deliver_by: object = None) -> Pledge:
    """An officer approves an accepted pledge: it becomes a commitment, valued now, due by a date.

    The date is the officer's; without one, the date the supplier proposed, else the need's
    needed-by date, stands. A commitment without a date cannot be chased, so one is required.
    """
    pledge_for_step(session, actor, pledge_id, "approve")  # who may, before what they sent
    errors = FieldErrors()
    if isinstance(deliver_by, str) and not deliver_by.strip():
        # Sent but empty: leave it out to use the proposed date; an empty date is not a date.
        errors["deliver_by"] = "The deliver-by date must be a date, like 2027-03-31"
    due = parse_deliver_by(deliver_by, errors) if deliver_by is not None and "deliver_by" not in errors else None
    errors.raise_if_any()
    user, pledge, before = _transition(
        session, actor, pledge_id, action="approve", allowed_from=(PledgeStatus.ACCEPTED,),
        to=PledgeStatus.APPROVED,
    )  # fmt: skip
    today = council_today()
    for candidate in (due, pledge.deliver_by, pledge.need.needed_by):
        if candidate is not None and candidate >= today:
            due = candidate
            break
    else:
        raise ValidationFailed({"deliver_by": "Enter the date by which the pledge is to be delivered"})
    pledge.deliver_by = due
    measure = pledge.measure
    pledge.proxy_value = measure.proxy_value
    pledge.proxy_version = measure.proxy_version
    pledge.value = _value(pledge.quantity, measure.proxy_value)
    pledge.committed_quantity = pledge.quantity
    pledge.committed_value = pledge.value
    pledge.approved_at = utcnow()
    pledge.history[-1].note = f"to be delivered by {due.isoformat()}" + (
        ""
        if measure_fits(pledge.need.category_code, pledge.measure_code)
        else "; approved although the measure does not usually fit the need's category"
    )
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"Pledge approved: “{pledge.need.title}”",
        f"The council approved your pledge for “{pledge.need.title}”. It now counts as a social value commitment"
        + (f" on contract {pledge.contract.reference}" if pledge.contract else "")
        + f", to be delivered by {due.strftime('%-d %B %Y')}."
        + "\n\nWhat happens next: deliver it, then mark it delivered with evidence. Open the pledge:\n"
        f"{pledge_link(session, pledge)}",
        essential=False,
    )
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"The council approved the pledge for “{pledge.need.title}”",
        f"The council approved {pledge.supplier.name}'s pledge of {amount(pledge.quantity, pledge.measure.unit)} "
        f"for your need “{pledge.need.title}”, to be delivered by {due.strftime('%-d %B %Y')}.\n\n"
        f"What happens next: {pledge.supplier.name} delivers it; you will be asked to confirm it was delivered. "
        f"Open the pledge:\n{pledge_link(session, pledge)}",
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
    session: Session,
    actor: User | None,
    pledge_id: int,
    evidence: object,
    actual_quantity: object = None,
    declaration: object = None,
) -> Pledge:
    """The supplier says it has delivered: what it did, optionally the actual quantity, and its
    declaration that the contribution is not counted elsewhere. Officers then review the evidence.

    Also how the supplier resubmits after an officer asked for more evidence or the group
    disputed the delivery. An actual quantity above the approved one waits for an officer
    (the approved value stands until then); below it, the delivery is partial and the value
    goes down.
    """
    pledge_for_step(session, actor, pledge_id, "deliver")  # who may, before what they sent
    errors = FieldErrors()
    if not isinstance(evidence, str) or len(evidence.strip()) < 5:
        errors["evidence"] = "Describe what was delivered, for example dates, hours or items"
    elif len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = f"The evidence must be {EVIDENCE_MAX} characters or fewer"
    actual = clean_decimal(actual_quantity, "actual_quantity", ACTUAL_QUANTITY, errors)
    if declaration is not True:
        errors["declaration"] = (
            "Declare that this contribution is not reported against another contract or to another council"
        )
    errors.raise_if_any()
    user, pledge, before = _transition(
        session, actor, pledge_id, action="deliver", allowed_from=(PledgeStatus.APPROVED, PledgeStatus.DELIVERED),
        to=PledgeStatus.DELIVERED,
        review_from=(None, EvidenceReview.MORE_NEEDED.value, EvidenceReview.DISPUTED.value),
        refused="This pledge's evidence is with the council already; wait for its review",
    )  # fmt: skip
    resubmitted = before["status"] == PledgeStatus.DELIVERED.value
    pledge.evidence = evidence.strip()
    pledge.declaration = DECLARATION
    pledge.declared_at = utcnow()
    pledge.delivered_at = pledge.delivered_at or utcnow()
    pledge.evidence_review = EvidenceReview.WAITING.value
    notes = ["more evidence sent"] if resubmitted else []
    committed = pledge.committed_quantity if pledge.committed_quantity is not None else pledge.quantity
    pledge.pending_quantity = None
    if actual is not None and actual > committed:
        pledge.pending_quantity = actual
        notes.append(
            f"reported {actual.normalize():f}, more than the approved {committed.normalize():f}: "
            "waiting for an officer to approve the change"
        )
    elif actual is not None and actual != pledge.quantity:
        notes.append(f"partial delivery: {actual.normalize():f} of the approved {committed.normalize():f}")
        pledge.quantity = actual
        # The proxy in force at approval still applies: only the quantity changed.
        pledge.value = _value(actual, pledge.proxy_value)
    pledge.history[-1].note = "; ".join(notes)
    files = len(pledge.evidence_files)
    queue_email(
        session,
        officers(session),
        f"Delivery evidence to review: {pledge.supplier.name}",
        f"{pledge.supplier.name} says it has delivered its pledge for “{pledge.need.title}”"
        f" with {files} evidence file{'s' if files != 1 else ''}."
        + (f"\n\nIt reports {pledge.pending_quantity.normalize():f} {pledge.measure.unit}, more than approved."
           if pledge.pending_quantity is not None else "")
        + "\n\nIt is waiting in the officers' evidence queue.",
    )  # fmt: skip
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"Delivery reported: “{pledge.need.title}”",
        f"{pledge.supplier.name} says it has delivered its pledge for “{pledge.need.title}”:\n\n{pledge.evidence}"
        "\n\nWhat happens next: the council checks the evidence, then you will be asked to confirm it. "
        "If it did not happen, or there is a problem, tell the council on the pledge's page:\n"
        f"{pledge_link(session, pledge)}",
        essential=False,
    )
    return _finish(session, user, pledge, "deliver", before)


def _review_words(pledge: Pledge) -> str:
    return {
        None: "No delivery has been reported for this pledge yet",
        EvidenceReview.WAITING.value: "This pledge's evidence is waiting for an officer's review",
        EvidenceReview.MORE_NEEDED.value: "An officer has already asked for more evidence; it is with the supplier",
        EvidenceReview.DISPUTED.value: "The group has disputed this delivery; an officer must review it first",
        EvidenceReview.ACCEPTED.value: "The evidence for this pledge has already been accepted",
    }.get(pledge.evidence_review, f"This pledge's evidence is {pledge.evidence_review}")


def _reason(reason: object, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed({"reason": f"Enter {what}"})
    if len(reason) > MESSAGE_MAX:
        raise ValidationFailed({"reason": f"The reason must be {MESSAGE_MAX} characters or fewer"})
    return reason.strip()


def request_evidence(session: Session, actor: User | None, pledge_id: int, reason: object) -> Pledge:
    """An officer asks the supplier for more evidence, saying what is missing."""
    pledge_for_step(session, actor, pledge_id, "request-evidence")
    why = _reason(reason, "what evidence is missing")
    user, pledge, before = _transition(
        session, actor, pledge_id, action="request-evidence", allowed_from=(PledgeStatus.DELIVERED,),
        to=PledgeStatus.DELIVERED, note=f"more evidence needed: {why}",
        review_from=(EvidenceReview.WAITING.value, EvidenceReview.DISPUTED.value),
    )  # fmt: skip
    pledge.evidence_review = EvidenceReview.MORE_NEEDED.value
    pledge.review_note = why
    queue_email(
        session,
        members_of(session, pledge.supplier_id),
        f"More evidence needed: “{pledge.need.title}”",
        f"The council needs more evidence that your pledge for “{pledge.need.title}” was delivered.\n\n"
        f"What is missing: {why}\n\nSign in, add the evidence and send the delivery again.",
    )
    return _finish(session, user, pledge, "request-evidence", before)


def accept_evidence(session: Session, actor: User | None, pledge_id: int, accept_change: object = None) -> Pledge:
    """An officer accepts the delivery evidence; the group is then asked to confirm.

    When the supplier reported more than was approved, the officer also decides the change:
    ``accept_change`` true makes the reported quantity the commitment (valued at the proxy of
    the approval), false keeps the approved one.
    """
    pledge_for_step(session, actor, pledge_id, "accept-evidence")
    if accept_change is not None and not isinstance(accept_change, bool):
        raise ValidationFailed({"accept_change": "Say whether the reported quantity is approved: true or false"})
    user, pledge, before = _transition(
        session, actor, pledge_id, action="accept-evidence", allowed_from=(PledgeStatus.DELIVERED,),
        to=PledgeStatus.DELIVERED,
        review_from=(EvidenceReview.WAITING.value, EvidenceReview.DISPUTED.value),
    )  # fmt: skip
    note = "evidence accepted"
    if pledge.pending_quantity is not None:
        if accept_change is None:
            raise ValidationFailed(
                {"accept_change": "The supplier reported more than was approved: approve or refuse the change"}
            )
        reported, approved = pledge.pending_quantity, pledge.committed_quantity or pledge.quantity
        if accept_change:
            _check_room_for(session, pledge, reported - pledge.quantity)
            pledge.quantity = reported
            pledge.value = _value(reported, pledge.proxy_value)
            pledge.committed_quantity, pledge.committed_value = pledge.quantity, pledge.value
            note += f"; change from {approved.normalize():f} to {reported.normalize():f} approved"
        else:
            note += f"; change to {reported.normalize():f} refused, {approved.normalize():f} stands"
        pledge.pending_quantity = None
    pledge.evidence_review = EvidenceReview.ACCEPTED.value
    pledge.review_note = None
    pledge.history[-1].note = note
    queue_email(
        session,
        members_of(session, pledge.need.organisation_id),
        f"Please confirm delivery: “{pledge.need.title}”",
        f"The council has checked {pledge.supplier.name}'s evidence for “{pledge.need.title}”."
        "\n\nWhat happens next: confirm it was delivered, or tell the council if it was not. Open the pledge:"
        f"\n{pledge_link(session, pledge)}",
    )
    return _finish(session, user, pledge, "accept-evidence", before)


def _check_room_for(session: Session, pledge: Pledge, extra: Decimal) -> None:
    """An approved increase must still fit the offer's capacity and the need's quantity."""
    if extra <= 0:
        return
    unit = pledge.measure.unit
    if pledge.offer is not None and pledge.offer.measure_code == pledge.measure_code:
        left = offer_remaining(session, pledge.offer)
        if left is not None and extra > left:
            raise InvalidTransition(f"The offer has only {left.normalize():f} {unit} left for this increase")
    if pledge.need.measure_code == pledge.measure_code:
        left = need_remaining(session, pledge.need)
        if left is not None and extra > left:
            raise InvalidTransition(f"The need has only {left.normalize():f} {unit} left for this increase")


def dispute_pledge(session: Session, actor: User | None, pledge_id: int, reason: object) -> Pledge:
    """The group says the delivery did not happen, or there is a problem; it goes to the officers."""
    pledge_for_step(session, actor, pledge_id, "dispute")
    why = _reason(reason, "what did not happen or what the problem is")
    user, pledge, before = _transition(
        session, actor, pledge_id, action="dispute", allowed_from=(PledgeStatus.DELIVERED,),
        to=PledgeStatus.DELIVERED, note=f"disputed by the group: {why}",
        review_from=(EvidenceReview.WAITING.value, EvidenceReview.ACCEPTED.value, EvidenceReview.MORE_NEEDED.value),
        refused="The council is already looking at this delivery's dispute",
    )  # fmt: skip
    pledge.evidence_review = EvidenceReview.DISPUTED.value
    pledge.review_note = why
    queue_email(
        session,
        officers(session),
        f"Delivery disputed: “{pledge.need.title}”",
        f"{pledge.need.organisation.name} says {pledge.supplier.name}'s delivery for “{pledge.need.title}” "
        f"did not happen or has a problem:\n\n{why}\n\nIt is waiting in the officers' evidence queue.",
    )
    return _finish(session, user, pledge, "dispute", before)


def confirm_pledge(session: Session, actor: User | None, pledge_id: int, need_met: object = None) -> Pledge:
    """The need's group confirms delivery, after an officer accepted the evidence; the pledge
    now counts as delivered social value. ``need_met`` true says the need is now met.

    A need with a numeric quantity that confirmed pledges now cover is met as well.
    """
    pledge_for_step(session, actor, pledge_id, "confirm")
    if need_met is not None and not isinstance(need_met, bool):
        raise ValidationFailed({"need_met": "Say whether the need is now met: true or false"})
    user, pledge, before = _transition(
        session, actor, pledge_id, action="confirm", allowed_from=(PledgeStatus.DELIVERED,),
        to=PledgeStatus.CONFIRMED, review_from=(EvidenceReview.ACCEPTED.value,),
        refused="The council has not accepted the evidence for this delivery yet; you can confirm it once it has",
    )  # fmt: skip
    pledge.confirmed_at = utcnow()
    session.flush()
    need = pledge.need
    if need.status is NeedStatus.OPEN:
        covered = False
        if need.quantity_needed is not None:
            confirmed = pledged_quantity(
                session, DELIVERED, Pledge.need_id == need.id, Pledge.measure_code == need.measure_code
            )
            covered = confirmed >= need.quantity_needed
        if need_met or covered:
            need.status = NeedStatus.MET
            pledge.history[-1].note = "the group says the need is now met" if need_met else "the need is now met"
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
    query = pledges_query(viewer, filters, oldest_first=oldest_first).options(
        selectinload(Pledge.need).selectinload(Need.organisation),
        selectinload(Pledge.supplier),
        selectinload(Pledge.measure),
        selectinload(Pledge.contract),
        selectinload(Pledge.history),
    )
    return paginate(session, query, page, per_page)


def pledges_query(viewer: User, filters: PledgeFilters, *, oldest_first: bool = False) -> Select:
    """The pledges ``list_pledges`` lists, in its order, as a query (no rows loaded)."""
    query = parties_only(
        select(Pledge),
        viewer,
        group=Pledge.need.has(Need.organisation_id == viewer.organisation_id),
        supplier=Pledge.supplier_id == viewer.organisation_id,
    )
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
    return query.order_by(*order)


def evidence_to_review(session: Session, actor: User | None, limit: int = 100) -> list[Pledge]:
    """Delivered pledges waiting for an officer's evidence check (disputed ones too), oldest first."""
    require_role(actor, Role.OFFICER)
    return list(
        session.scalars(
            select(Pledge)
            .where(
                Pledge.status == PledgeStatus.DELIVERED,
                Pledge.evidence_review.in_((EvidenceReview.WAITING.value, EvidenceReview.DISPUTED.value)),
            )
            .options(selectinload(Pledge.need), selectinload(Pledge.supplier), selectinload(Pledge.evidence_files))
            .order_by(Pledge.updated_at, Pledge.id)
            .limit(limit)
        )
    )


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
