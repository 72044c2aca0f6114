"""Requests for an offer: a group asks a supplier for one of its offers, for one of the group's needs.

The supplier turns a request into a pledge (``pledges.propose_pledge`` with ``request_id``,
its fields filled from the request) or declines it with a reason. A request holds none of
the offer's capacity: only the pledge made from it does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.models import Need, NeedStatus, Offer, OfferRequest, OfferStatus, Pledge, RequestStatus, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.services.listings import FieldErrors, clean_text, row_id, unknown_fields
from marketplace.services.needs import get_need
from marketplace.services.notifications import members_of, queue_email, site_link
from marketplace.services.offers import get_offer
from marketplace.services.paging import Page, paginate
from marketplace.services.parties import parties_only

log = logging.getLogger(__name__)

MESSAGE_MAX = 2000
REASON_MAX = 2000
_ANY_ROLE = (Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)


def request_snapshot(item: OfferRequest) -> dict[str, object]:
    """A request as the audit log keeps it."""
    return {
        "status": item.status.value,
        "offer_id": item.offer_id,
        "need_id": item.need_id,
        "organisation_id": item.organisation_id,
        "pledge_id": item.pledge_id,
    }


def request_path(item: OfferRequest) -> str:
    """The page where a request is read and answered."""
    return f"/requests/{item.id}"


def ask_for_offer(session: Session, actor: User | None, offer_id: int, data: Mapping[str, object]) -> OfferRequest:
    """A group asks for an offer for one of its open needs; the supplier is e-mailed a link.

    Raises:
        NotSignedIn; Forbidden: not a community group member, or not the group's own need;
        NotFound: an offer the actor may not see; ValidationFailed: bad fields;
        InvalidTransition: a paused or withdrawn offer, a need that is not open, or an
        open request for the same offer and need already.
    """
    member = require_role(actor, Role.COMMUNITY)
    errors = FieldErrors()
    unknown_fields(data, {"need_id", "message"}, errors)
    need_id = row_id(data.get("need_id")) if data.get("need_id") is not None else None
    if need_id is None:
        errors["need_id"] = "Select which of your needs this is for"
    message = clean_text(data, "message", "message saying what you need from this offer", 1, MESSAGE_MAX, errors)
    offer = get_offer(session, member, offer_id)  # NotFound first: nothing about an offer one may not see
    errors.raise_if_any()
    assert need_id is not None and message is not None
    need = get_need(session, member, need_id)
    if need.organisation_id != member.organisation_id:
        raise ValidationFailed({"need_id": "Select one of your group's needs"})
    if offer.status is not OfferStatus.OPEN:
        raise InvalidTransition(f"This offer is {offer.status.value}, so it cannot be asked for now")
    if need.status is not NeedStatus.OPEN:
        raise InvalidTransition(f"Your need is {need.status.value}; only an open need can ask for an offer")
    duplicate = session.scalar(
        select(OfferRequest.id).where(
            OfferRequest.offer_id == offer.id,
            OfferRequest.need_id == need.id,
            OfferRequest.status == RequestStatus.OPEN,
        )
    )
    if duplicate is not None:
        raise InvalidTransition("You have already asked for this offer for this need; wait for the supplier's answer")
    item = OfferRequest(
        offer=offer, need=need, organisation_id=need.organisation_id, created_by=member, message=message
    )
    session.add(item)
    session.flush()
    record(session, member, "request.create", "request", item.id, None, request_snapshot(item))
    queue_email(
        session,
        members_of(session, offer.organisation_id),
        f"{need.organisation.name} asks for your offer “{offer.title}”",
        f"{need.organisation.name} asks for your offer “{offer.title}” for their need “{need.title}”.\n\n"
        f"They wrote:\n{message}\n\n"
        "What happens next: turn the request into a pledge (its details are filled in for you), "
        f"or decline it with a reason. Open the request:\n{site_link(session, request_path(item))}",
        essential=False,
    )
    log.info("offer requested", extra={"request_id": item.id, "offer_id": offer.id, "need_id": need.id})
    return item


def can_view(viewer: User, item: OfferRequest) -> bool:
    """Officers, the asking group and the supplier whose offer it is see a request."""
    return (
        viewer.is_officer
        or viewer.organisation_id == item.organisation_id
        or viewer.organisation_id == item.offer.organisation_id
    )


def get_request(session: Session, actor: User | None, request_id: int) -> OfferRequest:
    """A request the actor may see.

    Raises:
        NotSignedIn; NotFound when there is none or the actor may not see it.
    """
    viewer = require_role(actor, *_ANY_ROLE)
    item = session.get(OfferRequest, request_id)
    if item is None or not can_view(viewer, item):
        raise NotFound("There is no such request")
    return item


def list_requests(
    session: Session, actor: User | None, page: int = 1, per_page: int = 20, *, status: str | None = None
) -> Page[OfferRequest]:
    """Requests the actor is part of, newest first: a group's own, those for a supplier's offers; officers all."""
    viewer = require_role(actor, *_ANY_ROLE)
    query = select(OfferRequest).options(
        selectinload(OfferRequest.offer).selectinload(Offer.organisation),
        selectinload(OfferRequest.need),
        selectinload(OfferRequest.organisation),
    )
    query = parties_only(
        query,
        viewer,
        group=OfferRequest.organisation_id == viewer.organisation_id,
        supplier=OfferRequest.offer.has(Offer.organisation_id == viewer.organisation_id),
    )
    if status:
        query = query.where(OfferRequest.status == status)
    return paginate(session, query.order_by(OfferRequest.created_at.desc(), OfferRequest.id.desc()), page, per_page)


def supplier_request(session: Session, actor: User | None, request_id: int, step: str) -> tuple[User, OfferRequest]:
    """The request, when the actor is of the supplier whose offer was asked for.

    Raises:
        NotSignedIn; NotFound: the actor may not see it; Forbidden: they may, but are not that supplier.
    """
    user = require_role(actor, *_ANY_ROLE)
    item = get_request(session, user, request_id)
    if user.role is not Role.SUPPLIER or user.organisation_id != item.offer.organisation_id:
        raise Forbidden(f"Only the supplier whose offer was asked for can {step} this request")
    return user, item


def decline_request(session: Session, actor: User | None, request_id: int, reason: object) -> OfferRequest:
    """The supplier declines a request, saying why; the group is told.

    Raises:
        NotFound, Forbidden (see ``_for_supplier``); ValidationFailed: no reason;
        InvalidTransition: the request was already answered.
    """
    user, item = supplier_request(session, actor, request_id, "decline")
    errors = FieldErrors()
    text = clean_text({"reason": reason}, "reason", "reason for declining", 1, REASON_MAX, errors)
    errors.raise_if_any()
    if item.status is not RequestStatus.OPEN:
        raise InvalidTransition(f"This request is {item.status.value} already")
    before = request_snapshot(item)
    item.status = RequestStatus.DECLINED
    item.decline_reason = text
    session.flush()
    record(session, user, "request.decline", "request", item.id, before, request_snapshot(item))
    queue_email(
        session,
        members_of(session, item.organisation_id),
        f"Request declined: “{item.offer.title}”",
        f"{item.offer.organisation.name} declined your request for “{item.offer.title}” (for your need "
        f"“{item.need.title}”).\n\nTheir reason: {text}\n\nWhat happens next: your need stays open; other "
        f"offers may fit it. See your request:\n{site_link(session, request_path(item))}",
        essential=False,
    )
    log.info("request declined", extra={"request_id": item.id})
    return item


def request_for_pledge(session: Session, actor: User, request_id: object) -> OfferRequest:
    """The open request a supplier is turning into a pledge, locked so it is pledged once.

    Raises:
        ValidationFailed: not an id; NotFound, Forbidden; InvalidTransition: already answered.
    """
    number = row_id(request_id)
    if number is None:
        raise ValidationFailed({"request_id": "request_id must be a whole number"})
    _, item = supplier_request(session, actor, number, "pledge from")
    item = session.scalar(
        select(OfferRequest)
        .where(OfferRequest.id == item.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if item.status is not RequestStatus.OPEN:
        raise InvalidTransition(f"This request is {item.status.value} already")
    return item


def mark_pledged(session: Session, actor: User, item: OfferRequest, pledge: Pledge) -> None:
    """The request became this pledge."""
    before = request_snapshot(item)
    item.status = RequestStatus.PLEDGED
    item.pledge_id = pledge.id
    session.flush()
    record(session, actor, "request.pledge", "request", item.id, before, request_snapshot(item))


def open_needs_of(session: Session, member: User) -> list[Need]:
    """The group's open needs, to choose which one a request is for."""
    return list(
        session.scalars(
            select(Need)
            .where(Need.organisation_id == member.organisation_id, Need.status == NeedStatus.OPEN)
            .order_by(Need.created_at.desc())
            .limit(200)
        )
    )
