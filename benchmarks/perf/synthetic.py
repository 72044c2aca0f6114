"""Synthetic marketplace data at scale, loaded through the same services the product uses.

Texts are recombined from the demo set's real phrasings (``seed/demo.json``): the opening
sentence of one need or offer of a category, a later sentence of another of the same
category, a local detail and a closing line, with the towns swapped for others in the
chosen district. Every category, district and outcome appears; needs end up open, met,
withdrawn or expired, offers open, paused or withdrawn, and some pledges reach every stage.

Loading is chunked: each chunk of items is posted through ``post_need``/``post_offer``
(which write the search outbox rows in the same transaction) and committed, the outbox is
drained into Whoosh in batched commits (what the app's sync thread does), and the chunk's
vectors are stored by ``SuggestionEngine.store_vectors`` (what ``marketplace reindex``
uses). The texts are planned before any database work, so they are encoded on a background
thread meanwhile, in large batches instead of one text per request. So the embeddings and
index entries are the real ones, and the encoder runs beside the services.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

import numpy as np
from argon2 import PasswordHasher
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

import matching
from marketplace.demo import MEASURE_FOR_CATEGORY
from marketplace.models import Need, Offer, Organisation, User
from marketplace.models.organisation import Verification
from marketplace.search.sync import drain
from marketplace.services import accounts, contracts, needs, offers, organisations, pledges
from marketplace.services.reference import holding_reference_lists, reference_lists
from marketplace.suggestions.documents import need_document, offer_document
from marketplace.suggestions.engine import SuggestionEngine
from search_index import SearchIndex

PASSWORD = "synthetic-marketplace-2026"
CHUNK = 1000
# Bump whenever a change here alters the texts generated for a seed: the bench's vector cache
# (benchmarks/perf/vectors.py) is keyed by it.
GENERATOR_VERSION = 2
NEED_SHARE = 0.6
# Where each district's towns are, to keep a recombined text's places in its district.
TOWNS = {
    "Blaby": ["Blaby", "Enderby", "Narborough", "Whetstone", "Braunstone Town", "Glenfield", "Countesthorpe"],
    "Charnwood": ["Loughborough", "Shepshed", "Syston", "Birstall", "Anstey", "Quorn", "Sileby", "Barrow upon Soar"],
    "Harborough": ["Market Harborough", "Lutterworth", "Broughton Astley", "Fleckney", "Kibworth", "Great Glen"],
    "Hinckley and Bosworth": ["Hinckley", "Burbage", "Earl Shilton", "Market Bosworth", "Barwell", "Groby"],
    "Melton": ["Melton Mowbray", "Asfordby", "Bottesford", "Waltham on the Wolds", "Long Clawson"],
    "North West Leicestershire": ["Coalville", "Ashby de la Zouch", "Castle Donington", "Ibstock", "Measham"],
    "Oadby and Wigston": ["Oadby", "Wigston", "South Wigston", "Wigston Magna"],
}
# Longest first (for the pattern), then by name: a set's order changes with each process's hash
# seed, and County-wide texts draw from this list, so ties by length alone made the texts differ
# from run to run (and the vector cache miss them).
ALL_TOWNS = sorted({town for towns in TOWNS.values() for town in towns}, key=lambda town: (-len(town), town))
_TOWN_PATTERN = re.compile(r"\b(" + "|".join(re.escape(t) for t in ALL_TOWNS) + r")\b")
GROUP_KINDS = [
    "Lunch Club", "Youth Club", "Food Bank", "Scouts", "Men in Sheds", "Carers' Café", "Friends of the Park",
    "Allotment Society", "Memory Café", "Junior Football Club", "Community Larder", "Women's Refuge",
    "Homework Club", "Baby Bank", "Repair Café", "Tenants' Association", "Wildlife Trust group", "Job Club",
]  # fmt: skip
COMPANY_KINDS = [
    "Facilities Ltd", "Logistics", "IT Services", "Builders", "Catering", "Engineering", "Print", "Energy",
    "Accountants", "Solicitors LLP", "Landscapes", "Coaches", "Homes", "Recruitment",
]  # fmt: skip
NEED_DETAILS = [
    "We meet on {day}s at the {venue} in {town}.",
    "About {count} people come along each week.",
    "We have been running in {town} for {years} years.",
    "Everything we do is run by {count} volunteers.",
    "Most of our members live in and around {town}.",
    "We are a registered charity and can give a receipt.",
    "We would be happy to thank you on our newsletter and social media.",
    "It would make a real difference before the {season}.",
]
OFFER_DETAILS = [
    "Our team in {town} can help on {day}s.",
    "We can do this up to {count} times this year.",
    "Our staff have {years} days of volunteering leave each.",
    "Groups anywhere near {town} are welcome to ask.",
    "This counts towards the social value of our council contract.",
    "We can start before the {season}.",
    "Please tell us a little about your group when you get in touch.",
]
NEED_CLOSERS = [
    "Any help would be hugely appreciated.",
    "Please get in touch if you can help.",
    "Even a small amount of help would go a long way.",
    "Thank you for reading.",
    "We are flexible on dates.",
    "",
]
OFFER_CLOSERS = ["Get in touch to arrange.", "First come, first served.", "Happy to talk it through.", ""]
VENUES = ["village hall", "church hall", "community centre", "library", "leisure centre", "scout hut"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SEASONS = ["winter", "summer holidays", "new school year", "spring", "Christmas"]
# Short extra phrasings for categories the demo set has few examples of (or none, as needs).
EXTRA = {
    "need": {
        "other": [
            ("Translation help for new arrivals", "Our welcome group supports families settling in Wigston. "
             "We need people who speak Ukrainian or Dari to help at our Saturday drop-in."),
            ("A photographer for our centenary", "Our village hall turns 100 this year and we are holding a "
             "celebration. We would love someone to take photographs we can keep for the archive."),
            ("Christmas hampers for isolated residents", "Every December we deliver hampers to older people "
             "who live alone. This year the list is longer than ever."),
        ],
        "funding": [
            ("A defibrillator for the village", "There is no defibrillator within two miles of our sports field. "
             "We need help with the cost of one and its cabinet."),
            ("Keeping the hall heated this winter", "Our heating costs have doubled and we may have to cut "
             "sessions. A contribution towards the bills would keep us open."),
        ],
        "advertising": [
            ("Posters for our open day", "We are holding an open day to recruit new members. We need posters "
             "printed and put up around the town."),
        ],
    },
    "offer": {
        "funding": [
            ("Small grants for community projects", "Our company sets aside a fund each year for local groups. "
             "Grants of up to £1,000 are available for equipment or running costs."),
        ],
        "other": [
            ("Staff choir for your celebration", "Our staff choir would be glad to sing at community events. "
             "We have performed at care homes and fetes across the county."),
        ],
    },
}  # fmt: skip
PLEDGE_STAGES = ["proposed", "accepted", "declined", "approved", "rejected", "delivered", "confirmed", "cancelled"]
_PATHS = {
    "proposed": [],
    "accepted": ["accept"],
    "declined": ["decline"],
    "approved": ["accept", "approve"],
    "rejected": ["accept", "reject"],
    "delivered": ["accept", "approve", "deliver"],
    "confirmed": ["accept", "approve", "deliver", "confirm"],
    "cancelled": ["cancel"],
}


@dataclass
class LoadReport:
    """What was loaded and where the time went (seconds of wall clock).

    Each phase is the wall clock of its own work: ``database`` the service calls and commits,
    ``index`` the outbox drains, ``embedding`` the encoder's own time plus storing the
    vectors. When each chunk's texts are encoded ahead (the default) the encoder runs beside
    the database and index work, so the phases add up to more than ``seconds``, and
    ``waited`` is the part of the encoder's time the load spent waiting for it after its
    other work (the encoding not hidden behind it). ``embedding / seconds`` is then the share
    of the load's wall clock during which the encoder was busy.
    """

    needs: int = 0
    offers: int = 0
    organisations: int = 0
    pledges: int = 0
    encoded: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=lambda: {"database": 0.0, "embedding": 0.0, "index": 0.0})
    waited: float = 0.0
    texts: list[str] = field(default_factory=list)

    @property
    def items(self) -> int:
        """Needs and offers loaded."""
        return self.needs + self.offers


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


class Phrasebook:
    """Real phrasings by kind and category, recombined into new needs and offers."""

    def __init__(self, rng: random.Random) -> None:
        data = json.loads(resources.files("marketplace").joinpath("seed/demo.json").read_text(encoding="utf-8"))
        self.rng = rng
        self.templates: dict[str, dict[str, list[tuple[str, list[str]]]]] = {"need": {}, "offer": {}}
        for kind, rows in (("need", data["needs"]), ("offer", data["offers"])):
            for row in rows:
                self.templates[kind].setdefault(row["category"], []).append(
                    (row["title"], _sentences(row["description"]))
                )
        for kind, extra in EXTRA.items():
            for category, rows in extra.items():
                for title, description in rows:
                    self.templates[kind].setdefault(category, []).append((title, _sentences(description)))

    def _place(self, text: str, district: str) -> str:
        towns = TOWNS.get(district) or ALL_TOWNS
        return _TOWN_PATTERN.sub(lambda _: self.rng.choice(towns), text)

    def _detail(self, kind: str, town: str) -> str:
        rng = self.rng
        return rng.choice(NEED_DETAILS if kind == "need" else OFFER_DETAILS).format(
            day=rng.choice(DAYS),
            venue=rng.choice(VENUES),
            town=town,
            count=rng.randint(4, 60),
            years=rng.randint(2, 40),
            season=rng.choice(SEASONS),
        )

    def compose(self, kind: str, category: str, district: str) -> tuple[str, str]:
        """A title and description for a need or offer of this category in this district."""
        rng = self.rng
        pool = self.templates[kind].get(category) or self.templates["need" if kind == "offer" else "offer"][category]
        first, second = rng.choice(pool), rng.choice(pool)
        town = rng.choice(TOWNS.get(district) or ALL_TOWNS)
        title = first[0]
        if rng.random() < 0.4:
            title = f"{title.rstrip('!?.')} in {town}"
        parts = [first[1][0]]
        later = second[1][1:] or second[1]
        parts.append(rng.choice(later))
        if rng.random() < 0.8:
            parts.append(self._detail(kind, town))
        parts.append(rng.choice(NEED_CLOSERS if kind == "need" else OFFER_CLOSERS))
        description = self._place(" ".join(p for p in parts if p), district)
        return self._place(title, district)[:120], description[:2000]


@dataclass(frozen=True)
class PlannedItem:
    """What a synthetic need or offer will be, before any database work (its text is what is encoded)."""

    kind: str  # "need" or "offer"
    category: str
    districts: tuple[str, ...]  # a need's one district; the districts an offer serves
    title: str
    description: str

    @property
    def text(self) -> str:
        """The text its vector is encoded from, as the posted need or offer will give it (``matching.item_text``)."""
        return matching.item_text(matching.Need(id="0", title=self.title, description=self.description))


def planned_items(categories: list[str], districts: list[str], seed: int = 2026) -> Iterator[PlannedItem]:
    """The needs and offers a load with this seed posts, in order, endlessly.

    The kinds, categories, districts and texts come from streams of their own (not the load's
    other draws), so the first n items are the same whatever the total: a smaller load is a
    prefix of a larger one, an encoder that has seen the larger one's texts need not encode
    again, and the bench's vector cache can be filled without loading anything
    (``benchmarks.perf.vectors.warm_cache``).
    """
    stream = random.Random(f"{seed}:items")
    book = Phrasebook(random.Random(f"{seed}:texts"))
    for position in itertools.count():
        # Coverage first: the first items walk through every category and district.
        category = categories[position % len(categories)] if position < 40 else stream.choice(categories)
        district = districts[position % len(districts)] if position < 40 else stream.choice(districts)
        if stream.random() < NEED_SHARE or position < 2 * len(categories):
            title, description = book.compose("need", category, district)
            yield PlannedItem("need", category, (district,), title, description)
        else:
            served = stream.sample(districts, stream.randint(1, 3))
            title, description = book.compose("offer", category, served[0])
            yield PlannedItem("offer", category, tuple(served), title, description)


@contextmanager
def _cheap_passwords() -> Iterator[None]:
    # Thousands of synthetic accounts: real argon2id, with the test suite's cheap parameters.
    previous = accounts._hasher
    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    try:
        yield
    finally:
        accounts.use_password_hasher(previous)


class _Timer:
    def __init__(self, report: LoadReport) -> None:
        self.report = report

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.report.phases[name] += time.perf_counter() - started


ENCODE_AHEAD_THREAD = "synthetic-encode-ahead"


class _Cancelled(Exception):
    """The load stopped: the encoder thread leaves its chunk unfinished."""


class _EncodeAhead:
    """One chunk's planned texts encoded on a thread of their own while the chunk's database
    and index work runs on the caller's.

    PyTorch releases the GIL while it computes, so the encoder and the services share the
    cores. Needs and offers are encoded in two calls, in the order ``store_vectors`` would
    encode them after the database work, so each text is batched with the same others and
    gets the same vector, bit for bit.

    Args:
        encoder: the engine's sentence encoder.
        planned: the chunk's items, in load order.
        progress: called with how many of the chunk's texts are encoded so far.
    """

    def __init__(self, encoder: Any, planned: list[PlannedItem], progress: Callable[[int], None]) -> None:
        self._encoder = encoder
        self._texts = [[p.text for p in planned if p.kind == kind] for kind in ("need", "offer")]
        self._progress = progress
        self._cancelled = False
        self._error: BaseException | None = None
        self._vectors: dict[str, np.ndarray] = {}
        self.seconds = 0.0  # the encoder's own wall clock
        self._thread = threading.Thread(target=self._run, name=ENCODE_AHEAD_THREAD, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            before = 0
            for texts in self._texts:
                if not texts:
                    continue

                def moved(done: int, total: int, before: int = before) -> None:
                    if self._cancelled:
                        raise _Cancelled
                    self._progress(before + done)

                self._vectors.update(zip(texts, self._encoder.encode(texts, progress=moved), strict=True))
                before += len(texts)
        except _Cancelled:
            pass
        except BaseException as error:  # re-raised on the caller's thread by result()
            self._error = error
        finally:
            self.seconds = time.perf_counter() - started

    def result(self) -> dict[str, np.ndarray]:
        """The vectors by text, waiting for the thread to finish; raises what the encoder raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._vectors

    def cancel(self) -> None:
        """Stop after the batch being encoded and wait for the thread (the load failed)."""
        self._cancelled = True
        self._thread.join()


def generate(
    session_factory: sessionmaker,
    index: SearchIndex,
    engine: SuggestionEngine,
    items: int,
    *,
    today: date,
    seed: int = 2026,
    chunk: int = CHUNK,
    progress: bool = True,
    keep_texts: bool = False,
    between_chunks: Callable[[list[str]], None] | None = None,
    replica: str | None = None,
    encode_ahead: bool = True,
) -> LoadReport:
    """Create organisations, ``items`` needs and offers and some pledges, with vectors and index entries.

    Each chunk is posted through the services in one transaction, drained into the search
    index, and its vectors stored. The texts of a chunk are known before any database work
    (``planned_items``), so by default they are encoded on a background thread while the
    chunk's database and index work runs (for the last chunk, the pledges too); the vectors
    are stored once both are done. Nothing else runs while ``between_chunks`` does.

    Args:
        session_factory: sessions on the target database (schema and reference data in place).
        index: the search index to keep in step (drained after each chunk).
        engine: stores the vectors (batch-encoded per chunk).
        items: how many needs and offers in total.
        today: the council's today (needed-by dates are after it).
        seed: the same seed gives the same data.
        chunk: items per transaction, embedding batch and index drain.
        progress: show a tqdm bar on standard error.
        keep_texts: keep the encoded texts in the report (for the encode yardstick).
        between_chunks: called with each chunk's texts after it is loaded; its time is not
            counted in the load (the bench measures bare encoding there, in the same spell
            of machine load as the chunk, with no encoding of the load's under way).
        replica: the search-index replica name to drain as (default: the server's own).
        encode_ahead: encode each chunk's texts beside its database and index work (False:
            after them, one step at a time). The data, vectors and index are the same.

    Returns:
        Counts and the time spent in the database, the encoder and the index.
    """
    rng = random.Random(seed)
    report = LoadReport()
    timer = _Timer(report)
    started = time.perf_counter()
    with session_factory() as session:
        lists = reference_lists(session)
        categories = [c.code for c in lists.categories]
        districts = [d.code for d in lists.districts]
        outcomes = [o.code for o in lists.outcomes]
        measures = lists.measure_codes
    local = [d for d in districts if d in TOWNS]
    plan = planned_items(categories, districts, seed)
    encoder = engine.encoder() if encode_ahead else None
    number = 0
    with tqdm(total=items, desc=f"Loading {items:,} needs and offers", unit="item", disable=not progress) as bar:
        # The bar moves as each batch of 32 is encoded: encoding is most of the time.
        moved = [0]

        def advance(done: int) -> None:  # done: how many of the chunk's texts are encoded
            if done > moved[0]:
                bar.update(done - moved[0])
                moved[0] = done

        planned = list(itertools.islice(plan, min(chunk, items)))
        # The first chunk is encoded while the organisations and accounts are created too.
        ahead = _EncodeAhead(encoder, planned, advance) if encoder is not None and planned else None
        try:
            with timer.phase("database"), _cheap_passwords(), session_factory() as session:
                # A second load into the same database gets new names (names and e-mails are unique).
                run = session.scalar(
                    select(func.count()).select_from(User).where(User.email.like("officer%@synthetic.example.gov.uk"))
                )
                officer, groups, suppliers = _organisations(session, rng, items, local, run or 0)
                session.commit()
                officer_id = officer.id
                group_ids, supplier_ids = [u.id for u in groups], [u.id for u in suppliers]
                report.organisations = len(groups) + len(suppliers) + 1
            while planned:
                # The lists are read once per chunk, as the officers' CSV import does for its rows.
                with timer.phase("database"), session_factory() as session, holding_reference_lists(session):
                    new_needs, new_offers = _post_chunk(
                        session, rng, planned, group_ids, supplier_ids, outcomes, measures, today
                    )
                    _close_some(session, rng, new_needs, new_offers)
                    session.commit()
                    need_docs = [need_document(n) for n in new_needs]
                    offer_docs = [offer_document(o) for o in new_offers]
                report.needs += len(new_needs)
                report.offers += len(new_offers)
                # The outbox rows were committed with the items: the index needs no vectors.
                with timer.phase("index"):
                    drain(session_factory, index, replica=replica)
                if number + len(planned) == items:
                    # Nor do the pledges: made while the last chunk is still being encoded.
                    report.pledges = _finish(
                        session_factory, index, timer, rng, officer_id, supplier_ids, today, run or 0, replica
                    )
                encoded: dict[str, np.ndarray] = {}
                if ahead is not None:
                    waiting = time.perf_counter()
                    encoded = ahead.result()
                    report.waited += time.perf_counter() - waiting
                    report.phases["embedding"] += ahead.seconds
                with timer.phase("embedding"), session_factory() as session:
                    before = 0
                    for kind, docs in (("need", need_docs), ("offer", offer_docs)):
                        _, count = engine.store_vectors(
                            session,
                            kind,
                            docs,
                            progress=lambda done, _, before=before: advance(before + done),
                            encoded=encoded,
                        )
                        report.encoded += count
                        before += len(docs)
                    session.commit()
                advance(len(planned))
                moved[0] = 0
                texts = [matching.item_text(d) for d in [*need_docs, *offer_docs]]
                if keep_texts:
                    report.texts.extend(texts)
                number += len(planned)
                if between_chunks is not None:
                    paused = time.perf_counter()
                    between_chunks(texts)
                    started += time.perf_counter() - paused
                planned = list(itertools.islice(plan, min(chunk, items - number)))
                ahead = _EncodeAhead(encoder, planned, advance) if encoder is not None and planned else None
        finally:
            if ahead is not None:
                ahead.cancel()
    if not items:
        report.pledges = _finish(session_factory, index, timer, rng, officer_id, supplier_ids, today, run or 0, replica)
    report.seconds = time.perf_counter() - started
    return report


def _finish(
    session_factory: sessionmaker,
    index: SearchIndex,
    timer: _Timer,
    rng: random.Random,
    officer_id: int,
    supplier_ids: list[int],
    today: date,
    run: int,
    replica: str | None,
) -> int:
    """Pledges at every stage, the needs due tomorrow expired, and the index drained; returns the pledges made."""
    with timer.phase("database"), session_factory() as session:
        officer = session.get(User, officer_id)
        made = _pledges(session, rng, officer, supplier_ids, today, run)
        needs.expire_overdue_needs(session, today + timedelta(days=2))
        session.commit()
        if session.get_bind().dialect.name == "postgresql":
            # Fresh tables have no planner statistics until autovacuum runs (never, when it is off).
            session.execute(text("ANALYZE"))
            session.commit()
    with timer.phase("index"):
        drain(session_factory, index, replica=replica)
    return made


def _organisations(
    session: Session, rng: random.Random, items: int, local: list[str], run: int
) -> tuple[User, list[User], list[User]]:
    """An officer, community groups (about one per 25 items) and suppliers (one per 80), most verified."""
    officer = accounts.create_user(
        session,
        email=f"officer{run}@synthetic.example.gov.uk",
        role="officer",
        organisation_name="Leicestershire County Council",
        password=PASSWORD,
        name="Synthetic officer",
    )
    groups, suppliers = [], []
    tag = "" if run == 0 else f"r{run}-"
    for number in range(max(4, items // 25)):
        town = rng.choice(TOWNS[rng.choice(local)])
        groups.append(
            accounts.create_user(
                session,
                email=f"{tag}group{number}@synthetic.example.org",
                role="community",
                organisation_name=f"{town} {rng.choice(GROUP_KINDS)} {tag}{number}",
                password=PASSWORD,
                name=f"Group contact {number}",
            )
        )
    for number in range(max(3, items // 80)):
        town = rng.choice(TOWNS[rng.choice(local)])
        suppliers.append(
            accounts.create_user(
                session,
                email=f"{tag}supplier{number}@synthetic.example.com",
                role="supplier",
                organisation_name=f"{town} {rng.choice(COMPANY_KINDS)} {tag}{number}",
                password=PASSWORD,
                name=f"Supplier contact {number}",
            )
        )
    # Verify before anything is posted, so verification does not re-index listings. One in
    # twenty stays waiting, so officers have work and visibility rules are exercised.
    for user in [*groups, *suppliers]:
        if rng.random() >= 0.05 or user is suppliers[0] or user is groups[0]:
            organisations.verify_organisation(session, officer, user.organisation_id)
    session.flush()
    return officer, groups, suppliers


def _post_chunk(
    session: Session,
    rng: random.Random,
    planned: list[PlannedItem],
    group_ids: list[int],
    supplier_ids: list[int],
    outcomes: list[str],
    measures: set[str],
    today: date,
) -> tuple[list[Need], list[Offer]]:
    """Each planned item posted by a member of a random group or supplier, in order."""
    new_needs, new_offers = [], []
    for item in planned:
        if item.kind == "need":
            member = session.get(User, group_ids[rng.randrange(len(group_ids))])
            new_needs.append(_post_need(session, rng, item, member, outcomes, today))
        else:
            member = session.get(User, supplier_ids[rng.randrange(len(supplier_ids))])
            new_offers.append(_post_offer(session, rng, item, member, outcomes, measures, today))
    return new_needs, new_offers


def _post_need(
    session: Session, rng: random.Random, item: PlannedItem, member: User, outcomes: list[str], today: date
) -> Need:
    # One in twenty-five is due tomorrow and expires at the end of the load.
    soon = rng.random() < 0.04
    fields: dict[str, object] = {
        "title": item.title,
        "description": item.description,
        "category": item.category,
        "district": item.districts[0],
        "outcomes": rng.sample(outcomes, rng.randint(1, 2)),
        "needed_by": (today + timedelta(days=1 if soon else rng.randint(30, 300))).isoformat(),
    }
    if rng.random() < 0.5:
        fields["quantity"] = rng.choice(["about 20 people", "one evening a month", "as soon as possible", "a van load"])
    measure = MEASURE_FOR_CATEGORY.get(item.category)
    if measure and rng.random() < 0.3:
        fields["measure"], fields["quantity_needed"] = measure[0], measure[1] * rng.randint(1, 3)
    return needs.post_need(session, member, fields, today)


def _post_offer(
    session: Session,
    rng: random.Random,
    item: PlannedItem,
    member: User,
    outcomes: list[str],
    measures: set[str],
    today: date,
) -> Offer:
    fields: dict[str, object] = {
        "title": item.title,
        "description": item.description,
        "category": item.category,
        "districts": list(item.districts),
        "outcomes": rng.sample(outcomes, rng.randint(1, 2)),
    }
    measure = MEASURE_FOR_CATEGORY.get(item.category)
    if measure and measure[0] in measures:
        fields["measure"], fields["capacity"] = measure[0], measure[1] * rng.randint(1, 5)
    if rng.random() < 0.25:
        fields["available_until"] = (today + timedelta(days=rng.randint(60, 400))).isoformat()
    return offers.post_offer(session, member, fields, today)


def _close_some(session: Session, rng: random.Random, new_needs: list[Need], new_offers: list[Offer]) -> None:
    """Some needs met or withdrawn, some offers paused or withdrawn, by their owners."""
    for need in new_needs:
        roll = rng.random()
        if roll < 0.08 or roll > 0.95:
            owner = need.created_by
            (needs.mark_need_met if roll < 0.08 else needs.withdraw_need)(session, owner, need.id)
    for offer in new_offers:
        roll = rng.random()
        if roll < 0.06 or roll > 0.96:
            offers.change_offer_status(session, offer.created_by, offer.id, "pause" if roll < 0.06 else "withdraw")


def _pledges(
    session: Session, rng: random.Random, officer: User, supplier_ids: list[int], today: date, run: int
) -> int:
    """Pledges from suppliers' open offers to open needs, taken to every stage of their lifecycle."""
    suppliers = [session.get(User, user_id) for user_id in supplier_ids]
    suppliers = [s for s in suppliers if s is not None and s.organisation.verified]
    contract_of: dict[int, int] = {}
    for number, supplier in enumerate(suppliers[:10]):
        contract = contracts.create_contract(
            session,
            officer,
            {
                "reference": f"SYN-{run}-{number:04d}",
                "title": f"Synthetic contract {number}",
                "supplier_id": supplier.organisation_id,
                "value": 100_000 + 50_000 * number,
                "start_date": today.replace(day=1).isoformat(),
                "end_date": today.replace(year=today.year + 2, day=1).isoformat(),
                "social_value_target": 10_000,
            },
        )
        contract_of[supplier.organisation_id] = contract.id
    open_needs = list(
        session.scalars(
            select(Need)
            .join(Organisation, Need.organisation_id == Organisation.id)
            .where(Need.status == "open", Need.measure_code.is_(None))
            .where(Organisation.verification == Verification.VERIFIED)
            .order_by(Need.id)
            .limit(4000)
        )
    )
    rng.shuffle(open_needs)
    by_organisation = {s.organisation_id: s for s in suppliers}
    sources = list(
        session.scalars(
            select(Offer)
            .where(Offer.organisation_id.in_(by_organisation), Offer.status == "open", Offer.capacity.is_not(None))
            .order_by(Offer.id)
            .limit(200)
        )
    )
    wanted = max(len(PLEDGE_STAGES), len(open_needs) // 40)
    # Each pledge takes a tenth of its offer's capacity, so one offer can serve several.
    count = min(wanted, len(open_needs), 10 * len(sources))
    for number in range(count):
        offer = sources[number % len(sources)]
        supplier = by_organisation[offer.organisation_id]
        need = open_needs.pop()
        pledge = pledges.propose_pledge(
            session,
            supplier,
            {
                "need_id": need.id,
                "offer_id": offer.id,
                "contract_id": contract_of.get(supplier.organisation_id),
                "quantity": max(1, int(offer.capacity) // 10),
                "message": "We would be glad to help with this.",
            },
        )
        owner = need.created_by
        for step in _PATHS[PLEDGE_STAGES[number % len(PLEDGE_STAGES)]]:
            if step == "accept":
                pledges.accept_pledge(session, owner, pledge.id)
            elif step == "decline":
                pledges.decline_pledge(session, owner, pledge.id, "We found help elsewhere.")
            elif step == "approve":
                pledges.approve_pledge(session, officer, pledge.id, (today + timedelta(days=90)).isoformat())
            elif step == "reject":
                pledges.reject_pledge(session, officer, pledge.id, "Not within the contract's scope.")
            elif step == "deliver":
                pledges.deliver_pledge(session, supplier, pledge.id, "Done as promised.", declaration=True)
            elif step == "confirm":
                pledges.accept_evidence(session, officer, pledge.id)
                pledges.confirm_pledge(session, owner, pledge.id)
            else:
                pledges.cancel_pledge(session, supplier, pledge.id, "Plans changed.")
    session.flush()
    return count
