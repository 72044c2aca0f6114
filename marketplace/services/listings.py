"""What needs and offers share: field validation, visibility and browse filters.

Both kinds of listing have a title, a description, a category, outcomes and a date, and
both are hidden while their organisation is unverified; the rules live here once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, bindparam, inspect, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from marketplace.models import Need, Offer, Organisation, OrganisationKind, Outcome, Role, User, Verification
from marketplace.services.errors import ValidationFailed
from marketplace.services.paging import Page, paginate
from marketplace.services.reference import ReferenceLists

# The field rules live in marketplace.validation; these names are kept for the modules that import them here.
from marketplace.validation import (  # noqa: F401
    MAX_AMOUNT,
    Amount,
    Code,
    FieldErrors,
    cap,
    clean_choice,
    clean_choices,
    clean_decimal,
    clean_future_date,
    clean_optional_text,
    clean_text,
    row_id,
    unknown_fields,
)

TITLE_MIN, TITLE_MAX = 5, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 20, 5000
QUANTITY_MAX = 200


def clean_measure_and_amount(
    data: Mapping[str, object],
    measure_codes: set[str],
    errors: FieldErrors,
    *,
    amount_field: str,
    partial: bool,
    current_measure: str | None,
    current_amount: Decimal | None,
    missing_measure: str,
) -> dict[str, object]:
    """An optional measure and an amount in its unit; an amount needs a measure.

    Returns:
        The cleaned ``measure`` and amount fields that were given (all of them when not partial).
    """
    clean: dict[str, object] = {}
    if not partial or "measure" in data:
        measure = data.get("measure")
        if measure in (None, ""):
            clean["measure"] = None
        elif not isinstance(measure, str) or measure not in measure_codes:
            errors.add("measure", Code.UNKNOWN_CHOICE, "Select a measure from the list")
        else:
            clean["measure"] = measure
    if not partial or amount_field in data:
        spec = Amount(cap(amount_field.replace("_", " ")))
        clean[amount_field] = clean_decimal(data.get(amount_field), amount_field, spec, errors)
    measure_after = clean.get("measure", current_measure)
    amount_after = clean.get(amount_field, current_amount)
    if amount_after is not None and measure_after is None and "measure" not in errors:
        errors.add("measure", Code.NEEDS_A_MEASURE, missing_measure)
    return clean


def by_position(item: object) -> int:
    """Reference rows keep the council's display order, whatever order they were picked in."""
    return item.position


@dataclass(frozen=True)
class Filters:
    """Browse filters; None means any."""

    category: str | None = None
    district: str | None = None
    outcome: str | None = None
    status: str | None = None
    sort: str | None = None  # "newest" (the default) or "closing": soonest needed-by or available-until first


SORTS = {"newest", "closing"}


def check_filters(raw: Mapping[str, str | None], lists: ReferenceLists, statuses: set[str]) -> Filters:
    """Validate browse filters from a query string.

    Raises:
        ValidationFailed: naming each unknown value.
    """
    errors = FieldErrors()
    values: dict[str, str | None] = {}
    for name, allowed in (
        ("category", lists.category_codes),
        ("district", lists.district_codes),
        ("outcome", lists.outcome_codes),
        ("status", statuses | {"any"}),
        ("sort", SORTS),
    ):
        value = raw.get(name) or None
        if value is not None and value not in allowed:
            errors.add(name, Code.UNKNOWN_CHOICE, f"Unknown {name}: {value[:60]}")
        values[name] = value
    errors.raise_if_any()
    return Filters(**values)


def listing_order(filters: Filters, created_at, closes_on, key) -> tuple:
    """The ORDER BY of a list: newest first, or those closing soonest first (undated last)."""
    if filters.sort == "closing":
        return (closes_on.is_(None), closes_on.asc(), created_at.desc(), key.desc())
    return (created_at.desc(), key.desc())


@dataclass(frozen=True)
class Browsing:
    """What a kind of listing brings to ``browse_page``."""

    model: type[Need] | type[Offer]
    open_status: str  # shown by default
    withdrawn_status: str
    closes_on: InstrumentedAttribute  # the date the "closing soonest" order sorts by
    in_district: Callable[[str], ColumnElement[bool]]  # what filtering by a district means
    options: tuple[ORMOption, ...]  # what the page shows of each row, loaded with it


def browse_page(
    session: Session, kind: Browsing, viewer: User | None, filters: Filters, page: int, per_page: int
) -> Page:
    """One page of needs or offers that ``viewer`` may see, with the browse filters."""
    model = kind.model
    status = filters.status or kind.open_status
    conditions = [] if status == "any" else [model.status == status]
    if filters.category:
        conditions.append(model.category_code == filters.category)
    if filters.district:
        conditions.append(kind.in_district(filters.district))
    if filters.outcome:
        conditions.append(model.outcomes.any(Outcome.code == filters.outcome))
    rows = (
        select(model)
        .options(*kind.options)
        .where(visibility_clause(model, viewer, kind.withdrawn_status, per_row=True), *conditions)
        .order_by(*listing_order(filters, model.created_at, kind.closes_on, model.id))
    )

    def counted() -> Select:
        return select(model.id).where(visibility_clause(model, viewer, kind.withdrawn_status), *conditions)

    total_key = (model.__name__, visibility_key(viewer), status, filters.category, filters.district, filters.outcome)
    return paginate(session, rows, page, per_page, counted=counted, total_key=total_key)


def can_see_unverified(viewer: User | None, organisation: Organisation) -> bool:
    """Officers and the organisation's own members see what it posts before verification."""
    return viewer is not None and (viewer.role is Role.OFFICER or viewer.organisation_id == organisation.id)


# The one visibility rule for organisations: until the council verifies an organisation, its
# name, needs and offers are shown only to its own members and to officers. Every view of an
# organisation (pages, the API, the impact page and its open data) asks these two functions;
# ``visibility_clause`` is the same rule as SQL.


def can_see_organisation(viewer: User | None, organisation: Organisation) -> bool:
    """True when ``viewer`` (None: the public) may see ``organisation``'s name and what it posts."""
    return organisation.verification is Verification.VERIFIED or can_see_unverified(viewer, organisation)


def organisation_name(viewer: User | None, organisation: Organisation, stand_in: str) -> str:
    """The organisation's name if ``viewer`` may see it, else ``stand_in`` (like "A supplier")."""
    return organisation.name if can_see_organisation(viewer, organisation) else stand_in


def is_visible(viewer: User | None, listing: Need | Offer) -> bool:
    """The rule of ``visibility_clause`` for one loaded listing."""
    if listing.status.value == "withdrawn" and not can_see_unverified(viewer, listing.organisation):
        return False
    return can_see_organisation(viewer, listing.organisation)


# One statement per model, built once: building it and working out its cache key cost as much
# as running it (``Session.get`` with options builds both on every call).
_BY_ID = {
    model: select(model).options(joinedload(model.organisation)).where(model.id == bindparam("listing_id"))
    for model in (Need, Offer)
}


def listing_with_organisation[L: (Need, Offer)](session: Session, model: type[L], listing_id: int) -> L | None:
    """A need or offer by id, with the organisation that decides who may see it.

    The one the session already holds when it does (as ``Session.get``; an expired one is
    read again, so a row deleted meanwhile gives None), else one query.
    """
    held = session.identity_map.get(session.identity_key(model, listing_id))
    if held is not None and not inspect(held).expired:
        return held
    return session.scalars(_BY_ID[model], {"listing_id": listing_id}).one_or_none()


def is_owner(viewer: User | None, listing: Need | Offer) -> bool:
    """Every member of the posting organisation may manage its listings."""
    return viewer is not None and viewer.organisation_id == listing.organisation_id


def visibility_clause(
    model: type[Need] | type[Offer], viewer: User | None, withdrawn_status: str, *, per_row: bool = False
):
    """A WHERE clause: what ``viewer`` may see of ``model``.

    Everyone sees verified organisations' listings that are not withdrawn; officers see
    everything; members see all of their own organisation's listings.

    Two forms of the same rule. By default the verified organisations are read once per
    query (``organisation_id IN (verified ids)``), so a count over every row of a status
    reads only the (status, organisation_id) index. With ``per_row`` each row's organisation
    is looked up by its key as the row is read (``EXISTS``), for a query that stops after a
    page of rows in an index's order: reading the verified ids first cost a scan of every
    organisation per page (1.6 ms at 5,000 organisations, for twenty rows).
    """
    if viewer is not None and viewer.role is Role.OFFICER:
        return True
    own = viewer.organisation_id if viewer is not None else None
    return member_visibility_clause(model, own, withdrawn_status, per_row=per_row)


def member_visibility_clause(
    model: type[Need] | type[Offer], own: int | None, withdrawn_status: str, *, per_row: bool = False
) -> ColumnElement[bool]:
    """``visibility_clause`` for anyone but an officer: the public (``own`` None) or a member of
    organisation ``own`` (for a statement built once per rule rather than once per viewer).
    """
    verified = Organisation.verification == Verification.VERIFIED
    # "Public, or our own" is written as "from a verified organisation or ours, and not
    # withdrawn unless ours": the same rows, but the organisation test stays an index
    # lookup instead of an OR that made the database read every row of the status.
    if per_row:
        shown = model.organisation.has(verified)
        if own is not None:
            shown = or_(model.organisation_id == own, shown)
    else:
        ids = select(Organisation.id).where(verified if own is None else or_(verified, Organisation.id == own))
        shown = model.organisation_id.in_(ids)
    if own is None:
        return shown & (model.status != withdrawn_status)
    return shown & or_(model.status != withdrawn_status, model.organisation_id == own)


@functools.cache
def _outcomes_statement(model: type[Need] | type[Offer]) -> Select:
    """The outcomes of some listings of ``model`` with their listing's id, the ids bound when it
    runs (built once: a need's page reads its outcomes, and building this cost more than that).
    """
    # The link table's two columns (need_outcome.need_id and .outcome_code, or the offer's).
    relationship = model.outcomes.property
    (_, listing_id), (_, outcome_code) = relationship.synchronize_pairs[0], relationship.secondary_synchronize_pairs[0]
    return (
        select(listing_id, Outcome)
        .join(Outcome, Outcome.code == outcome_code)
        .where(listing_id.in_(bindparam("ids", expanding=True)))
        .order_by(Outcome.position)
    )


def load_outcomes(session: Session, listings: Sequence[Need] | Sequence[Offer]) -> None:
    """Load the outcomes of a page of needs or offers in one query (the API shows them, the
    cards do not; reading them one listing at a time would be a query per row).

    What ``selectinload`` would load with the page, set on the loaded listings.
    """
    if not listings:
        return
    by_listing: dict[int, list[Outcome]] = {listing.id: [] for listing in listings}
    rows = session.execute(_outcomes_statement(type(listings[0])), {"ids": list(by_listing)})
    for owner, outcome in rows:
        by_listing[owner].append(outcome)
    for listing in listings:
        set_committed_value(listing, "outcomes", by_listing[listing.id])


def visibility_key(viewer: User | None) -> Hashable:
    """What decides which rows ``visibility_clause`` lets ``viewer`` see (equal keys, equal rows)."""
    if viewer is None:
        return "public"
    if viewer.role is Role.OFFICER:
        return "everything"
    return ("public and own", viewer.organisation_id)


# The extra field an officer sends to post a need or offer on an organisation's behalf.
ON_BEHALF_FIELDS = frozenset({"organisation_id"})


def posting_organisation(
    session: Session, actor: User, data: Mapping[str, object], kind: OrganisationKind, missing: str
) -> Organisation:
    """Whose new need or offer this is: the actor's own organisation, or, for an officer
    posting on someone's behalf, the organisation of ``kind`` named by ``organisation_id``.

    Raises:
        ValidationFailed: when an officer names no organisation of that kind (``missing`` says which).
    """
    if not actor.is_officer:
        return actor.organisation
    organisation_id = row_id(data.get("organisation_id"))
    organisation = session.get(Organisation, organisation_id) if organisation_id is not None else None
    if organisation is None or organisation.kind is not kind:
        raise ValidationFailed({"organisation_id": missing})
    return organisation
