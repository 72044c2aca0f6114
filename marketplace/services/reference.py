"""Reference data: seeding the council's lists and reading them for forms and validation."""

from __future__ import annotations

import csv
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from importlib import resources

from sqlalchemy import Connection, Engine, select
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
    forget_cached_lists()
    return added


@dataclass(frozen=True)
class ReferenceLists:
    """The active reference lists, in display order, for forms and validation.

    Measures are read from ``session`` when first asked for: officers edit them at run time,
    and most pages (browse, search, the API lists) never need them.
    """

    categories: list[Category]
    districts: list[District]
    outcomes: list[Outcome]
    session: Session = field(repr=False, compare=False)

    @cached_property
    def measures(self) -> list[Measure]:
        """The active measures, by code; read once per lists object."""
        return list(self.session.scalars(select(Measure).where(Measure.active).order_by(Measure.code)))

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


# Categories, districts and outcomes change only when ``marketplace init`` seeds missing rows:
# nothing in the running app edits them. Every page read all three on every request, so each
# process keeps them per database engine. Seeding in this process forgets them at once; another
# process (a worker while ``marketplace init`` runs beside it) sees new rows within this time.
STABLE_LISTS_SECONDS = 60.0

_Stable = tuple[list[Category], list[District], list[Outcome]]
_cache: weakref.WeakKeyDictionary[Engine | Connection, tuple[float, _Stable]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def forget_cached_lists() -> None:
    """Drop this process's cached categories, districts and outcomes (after seeding)."""
    with _cache_lock:
        _cache.clear()


def _stable_lists(session: Session) -> _Stable:
    engine = session.get_bind()
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(engine)
    if cached is not None and now - cached[0] < STABLE_LISTS_SECONDS:
        return cached[1]
    # Read in a session of their own on the request's connection and close it: the rows are
    # then detached with every column loaded, safe to share between requests and threads.
    with Session(bind=session.connection()) as reader:
        lists = (
            list(reader.scalars(select(Category).where(Category.active).order_by(Category.position))),
            list(reader.scalars(select(District).where(District.active).order_by(District.position))),
            list(reader.scalars(select(Outcome).where(Outcome.active).order_by(Outcome.position))),
        )
    with _cache_lock:
        _cache[engine] = (now, lists)
    return lists


def reference_lists(session: Session) -> ReferenceLists:
    """The active reference lists (or those held for the session's current block)."""
    held = session.info.get(_HELD)
    if held is not None:
        return held
    categories, districts, outcomes = _stable_lists(session)
    return ReferenceLists(categories=categories, districts=districts, outcomes=outcomes, session=session)
