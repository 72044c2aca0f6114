"""The search yardstick: SQLite FTS5 over the same texts, queried as the search page queries.

Shared by `marketplace bench` and `benchmarks/search_bench.py`, so both compare against the
same thing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from search_index import IndexedItem


def percentile(samples: list[float], fraction: float) -> float:
    """The sample at this fraction of the sorted samples (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


FACETS_SQL = {
    "kind": "SELECT i.kind, count(*) FROM hits h JOIN item i ON i.rowid = h.rowid GROUP BY 1",
    "category": "SELECT i.category, count(*) FROM hits h JOIN item i ON i.rowid = h.rowid GROUP BY 1",
    "status": "SELECT i.status, count(*) FROM hits h JOIN item i ON i.rowid = h.rowid GROUP BY 1",
    "district": "SELECT d.value, count(*) FROM hits h JOIN item_district d ON d.item = h.rowid GROUP BY 1",
    "outcome": "SELECT o.value, count(*) FROM hits h JOIN item_outcome o ON o.item = h.rowid GROUP BY 1",
}


def build_fts(items: Iterable[IndexedItem], path: Path) -> sqlite3.Connection:
    """The yardstick: an FTS5 table (porter stemmer, accents removed) of the same texts."""
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE item(rowid INTEGER PRIMARY KEY, key TEXT, kind TEXT, category TEXT, status TEXT,
                          verified INT, organisation_id INT, created INT);
        CREATE TABLE item_district(item INT, value TEXT);
        CREATE TABLE item_outcome(item INT, value TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(title, description, about,
            tokenize='porter unicode61 remove_diacritics 2');
        """
    )
    with db:
        for row, item in enumerate(items, 1):
            db.execute(
                "INSERT INTO item VALUES (?,?,?,?,?,?,?,?)",
                (row, item.key, item.kind, item.category, item.status, int(item.organisation_verified),
                 item.organisation_id, int(item.created_at.timestamp())),
            )  # fmt: skip
            db.executemany("INSERT INTO item_district VALUES (?,?)", [(row, d) for d in item.districts])
            db.executemany("INSERT INTO item_outcome VALUES (?,?)", [(row, o) for o in item.outcomes])
            tags = " ".join((item.category, *item.outcomes, *item.districts)).replace("-", " ")
            db.execute(
                "INSERT INTO fts(rowid, title, description, about) VALUES (?,?,?,?)",
                (row, item.title, item.description, f"{item.organisation_name} {tags}"),
            )
        db.execute("CREATE INDEX item_district_item ON item_district(item)")
        db.execute("CREATE INDEX item_outcome_item ON item_outcome(item)")
    return db


def fts_search(db: sqlite3.Connection, q: str, filters: dict[str, str]) -> tuple[int, list]:
    """Top 20 by bm25, the total and the five facet counts, for the public, as the page shows."""
    match = " AND ".join(f'"{w}"' for w in q.split())
    where = ["fts MATCH ?", "i.verified = 1", "i.status = 'open'"]
    args: list[object] = [match]
    for name, value in filters.items():
        if name in ("district", "outcome"):
            where.append(f"EXISTS (SELECT 1 FROM item_{name} x WHERE x.item = i.rowid AND x.value = ?)")
        else:
            where.append(f"i.{name} = ?")
        args.append(value)
    db.execute("DROP TABLE IF EXISTS temp.hits")
    db.execute(
        "CREATE TEMP TABLE hits AS SELECT fts.rowid AS rowid, bm25(fts, 3.0, 1.0, 0.7) AS score "
        "FROM fts JOIN item i ON i.rowid = fts.rowid WHERE " + " AND ".join(where),
        args,
    )
    total = db.execute("SELECT count(*) FROM hits").fetchone()[0]
    top = db.execute(
        "SELECT i.key, h.score FROM hits h JOIN item i ON i.rowid = h.rowid ORDER BY h.score LIMIT 20"
    ).fetchall()
    for sql in FACETS_SQL.values():
        db.execute(sql).fetchall()
    return total, top
