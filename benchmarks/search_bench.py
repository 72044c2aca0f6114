"""Benchmark search_index against SQLite FTS5 over the same synthetic needs and offers.

Usage::

    python benchmarks/search_bench.py --items 10000
    python benchmarks/search_bench.py --items 100000 --rounds 5

Measures the rebuild rate (items/s) and the latency of typical 1-3 word queries with
all five facet counts, for the public viewer, and runs the same queries against an
FTS5 table (porter stemmer, accents removed) holding the same texts: top 20 by bm25
under the same visibility rules, the total, and the same facet counts.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.perf.fts import FACETS_SQL, build_fts, fts_search, percentile
from search_index import IndexedItem, SearchIndex, SearchQuery, Viewer

CATEGORIES = {
    "premises": (
        ["meeting room", "community hall", "office space", "storage unit", "kitchen", "sports hall"],
        ["for our weekly sessions", "two evenings a week", "for a summer holiday club", "at weekends"],
    ),
    "advertising": (
        ["poster printing", "leaflets", "social media help", "radio airtime", "banner", "newsletter design"],
        ["to promote our open day", "to reach isolated residents", "for a fundraising appeal"],
    ),
    "goods": (
        ["laptops", "school uniforms", "garden tools", "furniture", "food parcels", "toys", "tablets"],
        ["for families in need", "for young carers", "for our refurbished café", "for the food bank"],
    ),
    "volunteering": (
        ["volunteers", "volunteering team", "litter pick helpers", "painters and decorators", "drivers"],
        ["for a one-day challenge", "to renovate our garden", "to help at the lunch club", "each month"],
    ),
    "expertise": (
        ["legal advice", "accountancy support", "mentoring", "HR expertise", "website help", "bid writing"],
        ["for our trustees", "to grow our charity", "for a new social enterprise"],
    ),
    "skills-and-jobs": (
        ["work experience", "apprenticeships", "CV workshops", "interview practice", "careers talks"],
        ["for school leavers", "for unemployed adults", "for young people leaving care"],
    ),
    "environment": (
        ["tree planting", "wildflower meadow", "recycling bins", "solar panels", "pond clearance"],
        ["at the village green", "in the nature reserve", "around the estate", "by the canal"],
    ),
    "transport": (
        ["minibus", "van and driver", "community transport", "bicycle repairs", "lifts to appointments"],
        ["for older residents", "for the youth football team", "to the day centre"],
    ),
    "funding": (
        ["small grant", "sponsorship", "match funding", "prize money", "donation"],
        ["for the summer fete", "towards a defibrillator", "for new kit", "to keep the hall heated"],
    ),
    "other": (
        ["Christmas hampers", "translation help", "first aid training", "a photographer", "a DJ"],
        ["for our celebration", "for refugees settling in", "for the carers' support group"],
    ),
}
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
    "strong-economy",
    "wellbeing-and-opportunity",
    "keeping-people-safe",
    "great-communities",
    "affordable-quality-homes",
]
NEED_STATUSES = ["open"] * 14 + ["met", "met", "withdrawn", "expired"]
OFFER_STATUSES = ["open"] * 12 + ["paused", "withdrawn"]
GROUPS = [
    "Lunch Club",
    "Youth Group",
    "Food Bank",
    "Scouts",
    "Men's Shed",
    "Parish Council",
    "Carers' Group",
    "Friends of the Park",
    "Allotment Society",
    "Dementia Café",
    "Football Club",
    "Community Larder",
]
PLACES = [
    "Loughborough",
    "Coalville",
    "Market Harborough",
    "Melton Mowbray",
    "Hinckley",
    "Wigston",
    "Lutterworth",
    "Shepshed",
    "Syston",
    "Ashby",
    "Enderby",
    "Oadby",
    "Broughton Astley",
    "Birstall",
    "Anstey",
    "Quorn",
]
COMPANIES = [
    "Midland Builders Ltd",
    "Charnwood Logistics",
    "Soar Valley IT",
    "Fosse Facilities",
    "Wreake Catering",
    "Bosworth Engineering",
    "East Midlands Print",
    "Welland Energy",
]
OPENERS = [
    "We are a small charity",
    "Our volunteer-run group",
    "The parish council",
    "A local community group",
    "We support older people and",
    "Our club has run for twenty years and",
    "Our company",
]
MIDDLES = [
    "supports families across the area",
    "welcomes everyone regardless of age",
    "helps residents stay independent",
    "runs activities for children",
    "meets in the village",
    "is growing quickly",
    "would love to hear from local businesses",
    "relies entirely on donations",
]
CLOSERS = [
    "Any help would make a real difference.",
    "We can offer publicity in return.",
    "Please get in touch.",
    "Staff can volunteer during working hours.",
    "Delivery is possible across Leicestershire.",
    "The need is urgent before winter.",
    "Naïve questions welcome — ask about our café rota.",
]


def make_items(count: int, seed: int = 7) -> list[IndexedItem]:
    rng = random.Random(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    orgs = [(i + 1, f"{rng.choice(PLACES)} {rng.choice(GROUPS)}", rng.random() > 0.1) for i in range(800)]
    suppliers = [(1000 + i, name, True) for i, name in enumerate(COMPANIES)]
    items = []
    categories = list(CATEGORIES)
    for number in range(1, count + 1):
        kind = "need" if rng.random() < 0.7 else "offer"
        category = rng.choice(categories)
        things, purposes = CATEGORIES[category]
        thing = rng.choice(things)
        other_category = CATEGORIES[rng.choice(categories)][0]
        if kind == "need":
            org_id, org_name, verified = rng.choice(orgs)
            title = f"{thing.capitalize()} {rng.choice(purposes)}"
            districts = (rng.choice(DISTRICTS),)
            status = rng.choice(NEED_STATUSES)
        else:
            org_id, org_name, verified = rng.choice(suppliers)
            title = f"{thing.capitalize()} available {rng.choice(purposes)}"
            districts = tuple(rng.sample(DISTRICTS, rng.randint(1, 3)))
            status = rng.choice(OFFER_STATUSES)
        description = " ".join(
            [
                f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)} in {rng.choice(PLACES)}.",
                f"We are looking at {thing} {rng.choice(purposes)}, and perhaps {rng.choice(other_category)}.",
                rng.choice(CLOSERS),
            ]
        )
        created = start + timedelta(minutes=rng.randint(0, 900_000))
        items.append(
            IndexedItem(
                kind=kind,
                id=number,
                title=title,
                description=description,
                category=category,
                districts=districts,
                outcomes=tuple(rng.sample(OUTCOMES, rng.randint(1, 2))),
                status=status,
                organisation_id=org_id,
                organisation_name=org_name,
                organisation_verified=verified,
                created_at=created,
                updated_at=created + timedelta(days=rng.randint(0, 30)),
                needed_by=date(2026, 1, 1) if kind == "need" else None,
                available_until=date(2026, 6, 1) if kind == "offer" else None,
            )
        )
    return items


QUERIES = [
    "volunteers",
    "minibus",
    "office space",
    "laptops",
    "food bank",
    "garden tools",
    "tree planting",
    "mentoring young people",
    "cafe",
    "community hall",
    "poster printing",
    "legal advice trustees",
    "apprenticeships",
    "grant",
    "older residents",
    "Loughborough",
    "van driver",
    "solar panels",
    "wildflower meadow",
    "football kit",
    "CV workshops",
    "christmas hampers",
    "website help",
    "recycling",
]
# (query, filters) pairs with a facet filter applied too.
FILTERED = [
    ("volunteers", {"district": "Melton"}),
    ("laptops", {"category": "goods"}),
    ("community transport", {"kind": "offer"}),
    ("funding", {"outcome": "great-communities"}),
]


# -- SQLite FTS5 yardstick ------------------------------------------------------------

# -- measurement ----------------------------------------------------------------------


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="times each query is run (after one warm-up)")
    parser.add_argument("--dir", type=Path, default=None, help="where to build (default: a temp dir)")
    args = parser.parse_args()

    print(f"generating {args.items:,} items …", flush=True)
    items = make_items(args.items)
    workdir = Path(args.dir or tempfile.mkdtemp(prefix="search-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)

    index = SearchIndex(workdir / "index")
    cpu = time.process_time()
    # As `marketplace reindex` does for a large database: one indexing process per core.
    report = index.rebuild(iter(items), workers=min(2, os.cpu_count() or 1))
    rebuild_rate = report.items / report.seconds
    rebuild_cpu_rate = report.items / (time.process_time() - cpu)
    started = time.perf_counter()
    index.verify()  # open the searcher and build facet masks
    open_ms = (time.perf_counter() - started) * 1000

    fts_path = workdir / "fts.sqlite"
    fts_path.unlink(missing_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    db = build_fts(items, fts_path)
    fts_rate = len(items) / (time.perf_counter() - started)
    fts_cpu_rate = len(items) / (time.process_time() - cpu)

    cases = [(q, {}) for q in QUERIES] + FILTERED
    public = Viewer()
    whoosh_ms: list[float] = []
    fts_ms: list[float] = []
    totals = []
    for q, filters in cases:  # warm-up, and totals for the sanity check
        results = index.search(SearchQuery(q=q, **filters), public)
        fts_total, _ = fts_search(db, q, filters)
        totals.append((q, filters, results.total, fts_total))
    for _ in range(args.rounds):
        for q, filters in cases:
            query = SearchQuery(q=q, **filters)
            whoosh_ms.append(timed(lambda query=query: index.search(query, public)))
            fts_ms.append(timed(lambda q=q, filters=filters: fts_search(db, q, filters)))
    browse_ms = [timed(lambda: index.search(SearchQuery(), public)) for _ in range(args.rounds * 3)]
    fts_browse = [timed(lambda: fts_browse_all(db)) for _ in range(args.rounds * 3)]

    print()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"items: {args.items:,}   queries: {len(cases)} x {args.rounds} rounds   cores: {os.cpu_count()}   "
        f"load average: {load}"
    )
    print(f"{'measure':44} {'search_index':>14} {'FTS5 yardstick':>16} {'target':>10}")
    print(f"{'rebuild (items/s, wall clock)':44} {rebuild_rate:14,.0f} {fts_rate:16,.0f} {'>= 2,000':>10}")
    print(f"{'rebuild (items per CPU second)':44} {rebuild_cpu_rate:14,.0f} {fts_cpu_rate:16,.0f}")
    print(
        f"{'query + 5 facets, median (ms)':44} {statistics.median(whoosh_ms):14.1f} "
        f"{statistics.median(fts_ms):16.1f} {'< 50':>10}"
    )
    print(
        f"{'query + 5 facets, p95 (ms)':44} {percentile(whoosh_ms, 0.95):14.1f} "
        f"{percentile(fts_ms, 0.95):16.1f} {'< 150':>10}"
    )
    print(f"{'query + 5 facets, max (ms)':44} {max(whoosh_ms):14.1f} {max(fts_ms):16.1f}")
    print(
        f"{'browse (empty q) newest + facets, median (ms)':44} {statistics.median(browse_ms):14.1f} "
        f"{statistics.median(fts_browse):16.1f}"
    )
    print(f"{'open searcher + build facet masks (ms)':44} {open_ms:14.1f}")
    print()
    print("result counts (search_index / FTS5; they differ where the parsers differ, e.g. FTS5 has")
    print("no title boost, and search_index also matches district and category words):")
    for q, filters, ours, theirs in totals:
        label = q + (f" [{', '.join(f'{k}={v}' for k, v in filters.items())}]" if filters else "")
        print(f"  {label:48} {ours:8,} {theirs:8,}")
    index.close()
    db.close()
    if args.dir is None:
        shutil.rmtree(workdir, ignore_errors=True)


def fts_browse_all(db: sqlite3.Connection) -> None:
    db.execute("DROP TABLE IF EXISTS temp.hits")
    db.execute(
        "CREATE TEMP TABLE hits AS SELECT rowid, created AS score FROM item WHERE verified = 1 AND status = 'open'"
    )
    db.execute("SELECT count(*) FROM hits").fetchone()
    db.execute("SELECT rowid FROM hits ORDER BY score DESC LIMIT 20").fetchall()
    for sql in FACETS_SQL.values():
        db.execute(sql).fetchall()


if __name__ == "__main__":
    main()
