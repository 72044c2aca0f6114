"""Social value measures: the officer-maintained list, with versioned £ proxy values."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.models import Measure, MeasureProxy, Outcome, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import InvalidTransition, NotFound
from marketplace.services.reference import reference_lists
from marketplace.validation import (
    Amount,
    FieldErrors,
    clean_choices,
    clean_decimal,
    clean_optional_text,
    clean_text,
    unknown_fields,
)

log = logging.getLogger(__name__)

CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FIELDS = {"code", "name", "unit", "proxy_value", "outcomes", "source", "active"}


def measure_snapshot(measure: Measure) -> dict[str, object]:
    """A measure as the audit log keeps it."""
    return {
        "code": measure.code,
        "name": measure.name,
        "unit": measure.unit,
        "proxy_value": str(measure.proxy_value) if measure.proxy_value is not None else None,
        "proxy_version": measure.proxy_version,
        "outcomes": [o.code for o in measure.outcomes],
        "active": measure.active,
    }


def get_measure(session: Session, code: str) -> Measure:
    """The measure with this code.

    Raises:
        NotFound: when there is none.
    """
    measure = session.get(Measure, code)
    if measure is None:
        raise NotFound(f"There is no measure {code[:60]!r}")
    return measure


def list_measures(session: Session, *, active_only: bool = False) -> list[Measure]:
    """Measures by code."""
    query = select(Measure).order_by(Measure.code)
    if active_only:
        query = query.where(Measure.active)
    return list(session.scalars(query))


PROXY_VALUE = Amount("The proxy value", example="16.93", money=True, maximum=Decimal("1000000"))


def _validate(session: Session, data: Mapping[str, object], *, partial: bool) -> dict[str, object]:
    errors = FieldErrors()
    unknown_fields(data, FIELDS if not partial else FIELDS - {"code"}, errors)
    clean: dict[str, object] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if not partial:
        code = data.get("code")
        if not isinstance(code, str) or not CODE.match(code) or len(code) > 60:
            errors["code"] = "Enter a code of lower-case letters, numbers and hyphens, like volunteering-hours"
        elif session.get(Measure, code) is not None:
            errors["code"] = "A measure with this code already exists"
        else:
            clean["code"] = code
    if wanted("name"):
        clean["name"] = clean_text(data, "name", "name", 3, 200, errors)
    if wanted("unit"):
        clean["unit"] = clean_text(data, "unit", "unit", 1, 60, errors)
    if wanted("proxy_value"):
        clean["proxy_value"] = clean_decimal(data.get("proxy_value"), "proxy_value", PROXY_VALUE, errors)
    if wanted("outcomes"):
        clean["outcomes"] = clean_choices(
            data,
            "outcomes",
            reference_lists(session).outcome_codes,
            "Select outcomes from the list",
            errors,
            required=False,
        )
    if wanted("source"):
        clean["source"] = clean_optional_text(data, "source", "the source", 1000, errors)
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = "active must be true or false"
        else:
            clean["active"] = data["active"]
    errors.raise_if_any()
    return clean


def create_measure(session: Session, actor: User | None, data: Mapping[str, object]) -> Measure:
    """An officer adds a measure; its proxy value is version 1."""
    officer = require_role(actor, Role.OFFICER)
    clean = _validate(session, data, partial=False)
    measure = Measure(
        code=clean["code"],
        name=clean["name"],
        unit=clean["unit"],
        proxy_value=clean.get("proxy_value"),
        source=clean.get("source") or "",
        active=clean.get("active", True),
        proxy_version=1,
    )
    measure.outcomes = [session.get(Outcome, c) for c in clean.get("outcomes") or []]
    session.add(measure)
    session.add(
        MeasureProxy(measure=measure, version=1, proxy_value=measure.proxy_value, source=measure.source, set_by=officer)
    )
    session.flush()
    record(session, officer, "measure.create", "measure", measure.code, None, measure_snapshot(measure))
    return measure


def update_measure(session: Session, actor: User | None, code: str, data: Mapping[str, object]) -> Measure:
    """An officer changes a measure; a new proxy value becomes a new version.

    Pledges already approved keep the proxy value and version they were approved with.
    """
    officer = require_role(actor, Role.OFFICER)
    measure = get_measure(session, code)
    if "code" in data:
        raise InvalidTransition("A measure's code cannot change: pledges and reports refer to it")
    before = measure_snapshot(measure)
    clean = _validate(session, data, partial=True)
    for name in ("name", "unit", "source", "active"):
        if name in clean:
            setattr(measure, name, clean[name])
    if "outcomes" in clean:
        measure.outcomes = [session.get(Outcome, c) for c in clean["outcomes"]]
    if "proxy_value" in clean and clean["proxy_value"] != measure.proxy_value:
        measure.proxy_value = clean["proxy_value"]
        measure.proxy_version += 1
        session.add(
            MeasureProxy(
                measure=measure,
                version=measure.proxy_version,
                proxy_value=measure.proxy_value,
                source=clean.get("source", measure.source),
                set_by=officer,
            )
        )
    session.flush()
    record(session, officer, "measure.update", "measure", measure.code, before, measure_snapshot(measure))
    log.info("measure updated", extra={"measure": measure.code, "proxy_version": measure.proxy_version})
    return measure


# Which measures can honestly value help of each category. A category that is not listed
# here (a council's own addition) or a measure not listed fits anything: the rule only
# warns where it knows better, e.g. first aid training valued as "£ of market rent".
_FITTING_MEASURES: dict[str, frozenset[str]] = {
    "premises": frozenset({"premises-provided"}),
    "advertising": frozenset({"advertising-provided"}),
    "goods": frozenset({"goods-donated"}),
    "volunteering": frozenset({"volunteering-hours"}),
    "expertise": frozenset({"expert-hours", "volunteering-hours"}),
    "skills-and-jobs": frozenset(
        {"work-placement-weeks", "apprenticeship-weeks", "expert-hours", "volunteering-hours"}
    ),
    "environment": frozenset({"carbon-saved", "volunteering-hours", "goods-donated"}),
    "transport": frozenset({"transport-provided", "volunteering-hours"}),
    "funding": frozenset({"funding-donated"}),
}
_KNOWN_MEASURES = frozenset().union(*_FITTING_MEASURES.values())


def measure_fits(category_code: str | None, measure_code: str | None) -> bool:
    """Whether a measure is a fair way to value help in this category of need.

    Pledges, the officer's approval page and the demo data all ask this one function.
    """
    if not category_code or not measure_code:
        return True
    fitting = _FITTING_MEASURES.get(category_code)
    if fitting is None or measure_code not in _KNOWN_MEASURES:
        return True
    return measure_code in fitting


def fitting_measures(category_code: str | None) -> frozenset[str] | None:
    """The measures that fit a category, or None when any measure may."""
    return _FITTING_MEASURES.get(category_code or "")
