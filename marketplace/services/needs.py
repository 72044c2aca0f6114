"""Needs: posting, editing, withdrawing, expiring and browsing what community groups ask for."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.db import utcnow
from marketplace.models import (
    Category,
    District,
    Measure,
    Need,
    NeedStatus,
    OrganisationKind,
    Outcome,
    Pledge,
    Role,
    User,
)
from marketplace.models.pledge import HOLDING
from marketplace.search.outbox import enqueue
from marketplace.services.accounts import require_role
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound
from marketplace.services.listings import (
    DESCRIPTION_MAX,
    DESCRIPTION_MIN,
    ON_BEHALF_FIELDS,
    QUANTITY_MAX,
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
    clean_optional_text,
    clean_text,
    is_owner,
    is_visible,
    listing_with_organisation,
    load_outcomes,
    posting_organisation,
    unknown_fields,
)
from marketplace.services.paging import Page, paginate
from marketplace.services.pledged import check_need_edit
from marketplace.services.reference import reference_lists

log = logging.getLogger(__name__)

NEED_FIELDS = {
    "title",
    "description",
    "category",
    "district",
    "outcomes",
    "quantity",
    "needed_by",
    "measure",
    "quantity_needed",
}
NEED_STATUSES = {s.value for s in NeedStatus}
BROWSING = Browsing(
    Need,
    NeedStatus.OPEN.value,
    NeedStatus.WITHDRAWN.value,
    closes_on=Need.needed_by,
    in_district=lambda code: Need.district_code == code,
    # Many-to-one in the page's own query (one round trip each saved).
    options=(joinedload(Need.organisation), joinedload(Need.category), joinedload(Need.district)),
)


def _validate(
    session: Session,
    data: Mapping[str, object],
    today: date,
    *,
    partial: bool,
    current: Need | None = None,
    extra_fields: frozenset[str] = frozenset(),
) -> dict[str, object]:
    """Check need fields; with ``partial`` only the fields given are checked."""
    lists = reference_lists(session)
    errors = FieldErrors()
    unknown_fields(data, NEED_FIELDS | extra_fields, errors)
    clean: dict[str, object] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("title"):
        clean["title"] = clean_text(data, "title", "title", TITLE_MIN, TITLE_MAX, errors)
    if wanted("description"):
        clean["description"] = clean_text(data, "description", "description", DESCRIPTION_MIN, DESCRIPTION_MAX, errors)
    if wanted("category"):
        clean["category"] = clean_choice(data, "category", lists.category_codes, "Select a category", errors)
    if wanted("district"):
        clean["district"] = clean_choice(data, "district", lists.district_codes, "Select a district", errors)
    if wanted("outcomes"):
        clean["outcomes"] = clean_choices(
            data, "outcomes", lists.outcome_codes, "Select at least one outcome", errors, required=True
        )
    if wanted("quantity"):
        clean["quantity"] = clean_optional_text(data, "quantity", "the quantity", QUANTITY_MAX, errors)
    if wanted("needed_by"):
        clean["needed_by"] = clean_future_date(data, "needed_by", "the needed-by date", today, errors)
    clean |= clean_measure_and_amount(
        data,
        lists.measure_codes,
        errors,
        amount_field="quantity_needed",
        partial=partial,
        current_measure=current.measure_code if current else None,
        current_amount=current.quantity_needed if current else None,
        missing_measure="Select the measure the quantity is counted in",
    )
    errors.raise_if_any()
    return clean


def _apply(session: Session, need: Need, clean: Mapping[str, object]) -> None:
    for name in ("title", "description", "quantity", "needed_by", "quantity_needed"):
        if name in clean:
            setattr(need, name, clean[name])
    if "measure" in clean:
        need.measure = session.get(Measure, clean["measure"]) if clean["measure"] else None
    if "category" in clean:
        need.category = session.get(Category, clean["category"])
    if "district" in clean:
        need.district = session.get(District, clean["district"])
    if "outcomes" in clean:
        need.outcomes = sorted((session.get(Outcome, code) for code in clean["outcomes"]), key=by_position)


def post_need(session: Session, actor: User | None, data: Mapping[str, object], today: date) -> Need:
    """A community group member posts a need for their group.

    An officer may post one on a group's behalf (``organisation_id``), when the group
    asked by phone or e-mail; the need is marked as assisted.

    Raises:
        NotSignedIn, Forbidden: unless the actor is a community group member or an officer.
        ValidationFailed: naming each field to correct.
    """
    member = require_role(actor, Role.COMMUNITY, Role.OFFICER)
    extra = ON_BEHALF_FIELDS if member.is_officer else frozenset()
    clean = _validate(session, data, today, partial=False, extra_fields=extra)
    group = posting_organisation(
        session, member, data, OrganisationKind.COMMUNITY, "Select the community group this need is for"
    )
    need = Need(organisation=group, created_by=member, status=NeedStatus.OPEN, assisted=member.is_officer)
    _apply(session, need, clean)
    session.add(need)
    session.flush()
    log.info("need posted", extra={"need_id": need.id, "organisation_id": need.organisation_id})
    return need


def get_need(session: Session, viewer: User | None, need_id: int) -> Need:
    """A need the viewer may see.

    Raises:
        NotFound: when there is none, or the viewer may not see it (unverified group or withdrawn).
    """
    # The organisation decides visibility: read it in the same round trip.
    need = listing_with_organisation(session, Need, need_id)
    if need is None or not is_visible(viewer, need):
        raise NotFound("There is no such need")
    return need


# Built once: ``Session.get`` with these options built the statement and its cache key on
# every call, which cost as much as running it. The outcomes stay a second query: joined, they
# made SQLite read the whole outcome link table (40 ms a page at 100k needs); read by
# ``load_outcomes`` rather than ``selectinload``, whose machinery cost more than its query.
_TO_SHOW = (
    select(Need)
    .options(joinedload(Need.organisation), joinedload(Need.category), joinedload(Need.district))
    .where(Need.id == bindparam("need_id"))
)


def get_need_to_show(session: Session, viewer: User | None, need_id: int) -> Need:
    """A need the viewer may see, with everything its page shows loaded in two queries.

    Raises:
        NotFound: as ``get_need``.
    """
    need = session.scalars(_TO_SHOW, {"need_id": need_id}).one_or_none()
    if need is None or not is_visible(viewer, need):
        raise NotFound("There is no such need")
    if "outcomes" in sa_inspect(need).unloaded:  # not already loaded in this session
        load_outcomes(session, [need])
    return need


def get_own_need(session: Session, actor: User | None, need_id: int) -> Need:
    """A need the actor's group posted, for changing it.

    Raises:
        NotSignedIn, NotFound, Forbidden: for anyone outside the posting group.
    """
    member = require_role(actor, Role.COMMUNITY, Role.OFFICER)
    need = get_need(session, member, need_id)
    if not is_owner(member, need):
        raise Forbidden("Only members of the group that posted this need can change it")
    return need


def edit_need(session: Session, actor: User | None, need_id: int, data: Mapping[str, object], today: date) -> Need:
    """A member of the posting group changes some fields of an open need.

    Raises:
        Forbidden: for anyone outside the group.
        InvalidTransition: when the need is no longer open.
        ValidationFailed: naming each field to correct.
    """
    need = get_own_need(session, actor, need_id)
    if need.status is not NeedStatus.OPEN:
        raise InvalidTransition(f"This need is {need.status.value}; only open needs can be changed")
    clean = _validate(session, data, today, partial=True, current=need)
    check_need_edit(session, need, clean)
    _apply(session, need, clean)
    session.flush()
    log.info("need edited", extra={"need_id": need.id, "fields": sorted(clean)})
    return need


def withdraw_need(session: Session, actor: User | None, need_id: int) -> Need:
    """The posting group takes an open need down.

    Raises:
        InvalidTransition: when the need is not open.
    """
    return _close_need(session, actor, need_id, NeedStatus.WITHDRAWN, "withdrawn")


def mark_need_met(session: Session, actor: User | None, need_id: int) -> Need:
    """The posting group says an open need has been met.

    Raises:
        InvalidTransition: when the need is not open.
    """
    return _close_need(session, actor, need_id, NeedStatus.MET, "marked as met")


def _close_need(session: Session, actor: User | None, need_id: int, to: NeedStatus, done: str) -> Need:
    need = get_own_need(session, actor, need_id)
    if need.status is not NeedStatus.OPEN:
        raise InvalidTransition(f"This need is {need.status.value}; only an open need can be {done}")
    need.status = to
    session.flush()
    log.info("need closed", extra={"need_id": need.id, "status": to.value})
    return need


def expire_overdue_needs(session: Session, today: date) -> int:
    """Mark open needs whose needed-by date has passed as expired.

    Returns:
        How many needs expired.
    """
    overdue = Need.status == NeedStatus.OPEN, Need.needed_by.is_not(None), Need.needed_by < today
    ids = list(session.scalars(select(Need.id).where(*overdue)))
    if not ids:
        return 0
    session.execute(
        update(Need)
        .where(Need.id.in_(ids), *overdue)
        .values(status=NeedStatus.EXPIRED, updated_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    # A bulk UPDATE bypasses the ORM's change tracking, so tell the search outbox directly.
    enqueue(session, "need", ids)
    log.info("needs expired", extra={"count": len(ids)})
    return len(ids)


def list_needs(
    session: Session, viewer: User | None, filters: Filters, page: int = 1, per_page: int = 20
) -> Page[Need]:
    """Needs the viewer may see, newest first. Status defaults to open; ``any`` means all.

    The cards show no outcomes: the API loads them with ``load_outcomes``.
    """
    return browse_page(session, BROWSING, viewer, filters, page, per_page)


def list_own_needs(session: Session, actor: User | None, page: int = 1, per_page: int = 20) -> Page[Need]:
    """All of the actor's organisation's needs, whatever their status, newest first."""
    member = require_role(actor, Role.COMMUNITY)
    query = (
        select(Need)
        .options(selectinload(Need.outcomes))
        .where(Need.organisation_id == member.organisation_id)
        .order_by(Need.created_at.desc(), Need.id.desc())
    )
    return paginate(session, query, page, per_page)


@dataclass(frozen=True)
class WaitingNeed:
    """An open need that no supplier has pledged to yet."""

    need: Need
    days_waiting: int


def needs_without_pledges(session: Session, actor: User | None, today: date, limit: int = 10) -> list[WaitingNeed]:
    """Open needs with no live pledge, waiting longest first, so no group is quietly ignored."""
    require_role(actor, Role.OFFICER)
    pledged = select(Pledge.need_id).where(Pledge.status.in_(HOLDING))
    rows = session.scalars(
        select(Need)
        .options(selectinload(Need.organisation))
        .where(Need.status == NeedStatus.OPEN, Need.id.not_in(pledged))
        .order_by(Need.created_at, Need.id)
        .limit(limit)
    )
    return [WaitingNeed(need, (today - need.created_at.date()).days) for need in rows]
