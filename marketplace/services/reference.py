"""Reference data: seeding the council's lists and reading them for forms and validation."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.models import Category, District, Measure, MeasureProxy, Outcome

CATEGORIES = [
    ("premises", "Premises and space", "Office space, meeting rooms, halls, storage"),
    ("advertising", "Advertising and publicity", "Poster sites, adverts, social media, printing"),
    ("goods", "Goods and equipment", "Donated furniture, computers, food, materials"),
    ("volunteering", "Volunteering", "Staff time given to help in person"),
    ("expertise", "Expertise and advice", "Professional help: legal, finance, HR, IT, marketing"),
    ("skills-and-jobs", "Skills and jobs", "Work placements, apprenticeships, training, mentoring"),
    ("environment", "Environment", "Carbon reduction, green spaces, recycling"),
    ("transport", "Transport", "Vehicles, drivers, deliveries"),
    ("funding", "Funding", "Cash donations and sponsorship"),
    ("other", "Something else", "Anything that does not fit the other categories"),
]

DISTRICTS = [
    "Blaby",
    "Charnwood",
    "Harborough",
    "Hinckley and Bosworth",
    "Melton",
    "North West Leicestershire",
    "Oadby and Wigston",
    "County-wide",
]

OUTCOMES = [
    ("strong-economy", "A strong economy"),
    ("wellbeing-and-opportunity", "Wellbeing and opportunity"),
    ("keeping-people-safe", "Keeping people safe and well"),
    ("great-communities", "Great communities"),
    ("affordable-quality-homes", "Affordable and quality homes"),
]

COUNTY_WIDE = "County-wide"


def seed_reference_data(session: Session) -> int:
    """Insert the seed categories, districts, outcomes and measures that are missing.

    Existing rows are left as they are, so an officer's edits survive a re-run of
    ``marketplace init``.

    Returns:
        How many rows were added.
    """
    added = 0
    for position, (code, name, description) in enumerate(CATEGORIES):
        if session.get(Category, code) is None:
            session.add(Category(code=code, name=name, description=description, position=position))
            added += 1
    for position, name in enumerate(DISTRICTS):
        if session.get(District, name) is None:
            session.add(District(code=name, name=name, position=position, covers_all=name == COUNTY_WIDE))
            added += 1
    for position, (code, name) in enumerate(OUTCOMES):
        if session.get(Outcome, code) is None:
            session.add(Outcome(code=code, name=name, position=position))
            added += 1
    session.flush()
    seed = resources.files("marketplace").joinpath("seed/measures.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(seed.splitlines()):
        if session.get(Measure, row["code"]) is not None:
            continue
        proxy = row["proxy_value"].strip()
        measure = Measure(
            code=row["code"],
            name=row["name"],
            unit=row["unit"],
            proxy_value=Decimal(proxy) if proxy else None,
            source=row["source"],
        )
        measure.outcomes = [session.get(Outcome, code) for code in row["outcomes"].split(";") if code]
        session.add(measure)
        session.add(MeasureProxy(measure=measure, version=1, proxy_value=measure.proxy_value, source=measure.source))
        added += 1
    session.flush()
    return added


@dataclass(frozen=True)
class ReferenceLists:
    """The active reference lists, in display order, for forms and validation."""

    categories: list[Category]
    districts: list[District]
    outcomes: list[Outcome]
    measures: list[Measure]

    @property
    def category_codes(self) -> set[str]:
        """Codes of the active categories."""
        return {c.code for c in self.categories}

    @property
    def district_codes(self) -> set[str]:
        """Codes of the active districts."""
        return {d.code for d in self.districts}

    @property
    def outcome_codes(self) -> set[str]:
        """Codes of the active outcomes."""
        return {o.code for o in self.outcomes}

    @property
    def measure_codes(self) -> set[str]:
        """Codes of the active measures."""
        return {m.code for m in self.measures}


_HELD = "reference_lists_held"


@contextmanager
def holding_reference_lists(session: Session) -> Iterator[ReferenceLists]:
    """Read the lists once for the block: a bulk import checks a thousand rows against them."""
    session.info[_HELD] = lists = reference_lists(session)
    try:
        yield lists
    finally:
        session.info.pop(_HELD, None)


def reference_lists(session: Session) -> ReferenceLists:
    """Read the active reference lists (or those held for the session's current block)."""
    held = session.info.get(_HELD)
    if held is not None:
        return held
    return ReferenceLists(
        categories=list(session.scalars(select(Category).where(Category.active).order_by(Category.position))),
        districts=list(session.scalars(select(District).where(District.active).order_by(District.position))),
        outcomes=list(session.scalars(select(Outcome).where(Outcome.active).order_by(Outcome.position))),
        measures=list(session.scalars(select(Measure).where(Measure.active).order_by(Measure.code))),
    )
