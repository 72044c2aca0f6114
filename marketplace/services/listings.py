"""What needs and offers share: field validation, visibility and browse filters.

Both kinds of listing have a title, a description, a category, outcomes and a date, and
both are hidden while their organisation is unverified; the rules live here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from marketplace.models import Need, Offer, Organisation, OrganisationKind, Role, User, Verification
from marketplace.services.errors import ValidationFailed
from marketplace.services.reference import ReferenceLists

TITLE_MIN, TITLE_MAX = 5, 120
DESCRIPTION_MIN, DESCRIPTION_MAX = 20, 5000
QUANTITY_MAX = 200


class FieldErrors(dict[str, str]):
    """Field name → message, collected while validating."""

    def raise_if_any(self) -> None:
        """Raise ValidationFailed when any field failed."""
        if self:
            raise ValidationFailed(dict(self))


def clean_text(data: Mapping[str, object], name: str, noun: str, lo: int, hi: int, errors: FieldErrors) -> str | None:
    """Validate a required plain-text field, trimming surrounding spaces.

    Args:
        noun: what the field is called in messages, e.g. ``title``.
    """
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = f"Enter a {noun}"
        return None
    if not isinstance(value, str):
        errors[name] = f"{_cap(noun)} must be text"
        return None
    value = value.strip()
    if "\x00" in value:
        errors[name] = f"{_cap(noun)} must not contain control characters"
        return None
    if len(value) < lo:
        errors[name] = f"{_cap(noun)} must be {lo} characters or more"
    elif len(value) > hi:
        errors[name] = f"{_cap(noun)} must be {hi} characters or fewer"
    else:
        return value
    return None


def clean_optional_text(data: Mapping[str, object], name: str, label: str, hi: int, errors: FieldErrors) -> str:
    """Validate an optional plain-text field; absent means empty."""
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = f"{_cap(label)} must be text"
        return ""
    value = value.strip()
    if len(value) > hi:
        errors[name] = f"{_cap(label)} must be {hi} characters or fewer"
    return value


def clean_choice(
    data: Mapping[str, object], name: str, allowed: set[str], message: str, errors: FieldErrors
) -> str | None:
    """Validate a required single choice from a reference list."""
    value = data.get(name)
    if not isinstance(value, str) or value not in allowed:
        errors[name] = message
        return None
    return value


def clean_choices(
    data: Mapping[str, object],
    name: str,
    allowed: set[str],
    message: str,
    errors: FieldErrors,
    *,
    required: bool,
) -> list[str] | None:
    """Validate a list of choices from a reference list, keeping their order without repeats."""
    value = data.get(name)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[name] = f"{name} must be a list of codes"
        return None
    unknown = [v for v in value if v not in allowed]
    if unknown:
        errors[name] = f"{message} (not known: {', '.join(unknown[:5])})"
        return None
    if required and not value:
        errors[name] = message
        return None
    return list(dict.fromkeys(value))


def clean_future_date(
    data: Mapping[str, object], name: str, label: str, today: date, errors: FieldErrors
) -> date | None:
    """Validate an optional date given as a ``date`` or ``YYYY-MM-DD``; it may not be in the past."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors[name] = f"{_cap(label)} must be a real date, like 2027-03-31"
            return None
    if not isinstance(value, date):
        errors[name] = f"{_cap(label)} must be a date, like 2027-03-31"
        return None
    if value < today:
        errors[name] = f"{_cap(label)} must be today or in the future"
        return None
    return value


MAX_AMOUNT = Decimal("1000000000")


def clean_amount(data: Mapping[str, object], name: str, errors: FieldErrors) -> Decimal | None:
    """An optional positive amount in a measure's unit, with at most 2 decimal places."""
    value = data.get(name)
    if value is None or value == "":
        return None
    message = f"{_cap(name.replace('_', ' '))} must be a number, like 40"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors[name] = message
        return None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        errors[name] = message
        return None
    if not number.is_finite() or number <= 0:
        errors[name] = f"{_cap(name.replace('_', ' '))} must be more than 0"
        return None
    if number > MAX_AMOUNT:
        errors[name] = f"{_cap(name.replace('_', ' '))} is too large"
        return None
    if number != number.quantize(Decimal("0.01")):
        errors[name] = f"{_cap(name.replace('_', ' '))} can have at most 2 decimal places"
        return None
    return number


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
            errors["measure"] = "Select a measure from the list"
        else:
            clean["measure"] = measure
    if not partial or amount_field in data:
        clean[amount_field] = clean_amount(data, amount_field, errors)
    measure_after = clean.get("measure", current_measure)
    amount_after = clean.get(amount_field, current_amount)
    if amount_after is not None and measure_after is None and "measure" not in errors:
        errors["measure"] = missing_measure
    return clean


MAX_ROW_ID = 2**31 - 1  # the database's integer


def row_id(value: object) -> int | None:
    """An id sent as JSON: a whole number (not true or false), else None.

    One too large for the database's integer becomes 0, which no row has: "no such item",
    not an overflow inside the database driver.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -MAX_ROW_ID <= value <= MAX_ROW_ID else 0


def unknown_fields(data: Mapping[str, object], known: set[str], errors: FieldErrors) -> None:
    """Name fields a client sent that do not exist, so typos are not silently ignored."""
    for name in data:
        if name not in known:
            errors[name] = "This field is not known or cannot be changed"


def by_position(item: object) -> int:
    """Reference rows keep the council's display order, whatever order they were picked in."""
    return item.position


def _cap(label: str) -> str:
    return label[:1].upper() + label[1:]


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
            errors[name] = f"Unknown {name}: {value[:60]}"
        values[name] = value
    errors.raise_if_any()
    return Filters(**values)


def listing_order(filters: Filters, created_at, closes_on, key) -> tuple:
    """The ORDER BY of a list: newest first, or those closing soonest first (undated last)."""
    if filters.sort == "closing":
        return (closes_on.is_(None), closes_on.asc(), created_at.desc(), key.desc())
    return (created_at.desc(), key.desc())


def can_see_unverified(viewer: User | None, organisation: Organisation) -> bool:
    """Officers and the organisation's own members see what it posts before verification."""
    return viewer is not None and (viewer.role is Role.OFFICER or viewer.organisation_id == organisation.id)


def is_visible(viewer: User | None, listing: Need | Offer) -> bool:
    """The rule of ``visibility_clause`` for one loaded listing."""
    hidden = not listing.organisation.verified or listing.status.value == "withdrawn"
    return not hidden or can_see_unverified(viewer, listing.organisation)


def is_owner(viewer: User | None, listing: Need | Offer) -> bool:
    """Every member of the posting organisation may manage its listings."""
    return viewer is not None and viewer.organisation_id == listing.organisation_id


def visibility_clause(model: type[Need] | type[Offer], viewer: User | None, withdrawn_status: str):
    """A WHERE clause: what ``viewer`` may see of ``model``.

    Everyone sees verified organisations' listings that are not withdrawn; officers see
    everything; members see all of their own organisation's listings.
    """
    if viewer is not None and viewer.role is Role.OFFICER:
        return True
    # ``organisation_id IN (verified ids)`` rather than ``organisation.has(...)``: the same
    # rows, but the need list's count then reads only the (status, organisation_id) index.
    verified = select(Organisation.id).where(Organisation.verification == Verification.VERIFIED)
    public = model.organisation_id.in_(verified) & (model.status != withdrawn_status)
    if viewer is None:
        return public
    return or_(public, model.organisation_id == viewer.organisation_id)


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
