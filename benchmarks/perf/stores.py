"""The bench's built stores (database and search index per size), kept between runs.

With the vectors cached (:mod:`benchmarks.perf.vectors`) a run no longer encodes the corpus,
but loading 100,000 items through the services into a database and a Whoosh index is still
minutes of work that gives the same result every time. So, like the vectors, each size's
built store is kept in the cache folder (``stores/`` beside the vectors file) and copied into
the run's own folder the next time: the database with SQLite's backup API (a consistent copy
whatever its write-ahead log holds), the index folder as files.

A store is only reused when everything that shaped it is the same: its size and seed, the
model, the generator version, and the day it was built — the generator dates needs and offers
from the council's today (needed-by dates, contracts, approvals), so a store from another day
would not be the data a cold run builds today. A store from an older schema revision is
migrated to this code's head once copied, as a council's database would be; one whose revision
this code does not know (a newer or another branch's) is not used. One store per size is kept;
an older one of that size is removed when a new one is saved.

The bench's stores all use one search-index replica name (:data:`REPLICA`), so a copied index
folder is the same replica as the one it was built as, and nothing rebuilds it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from dataclasses import asdict
from datetime import date
from pathlib import Path

from benchmarks.perf.synthetic import GENERATOR_VERSION, LoadReport
from benchmarks.perf.vectors import cache_dir
from marketplace.db import make_engine
from marketplace.schema import head_revision, known_revision, upgrade

REPLICA = "bench"
DATABASE = "marketplace.sqlite3"
INDEX = "index"
REPORT = "load.json"


def store_key(items: int, seed: int, model_name: str, today: date) -> str:
    """The name of a stored store: everything that shapes what a load builds."""
    model = re.sub(r"[^A-Za-z0-9._-]+", "_", model_name)[-60:]
    return f"{items}-seed{seed}-{model}-generator-{GENERATOR_VERSION}-{today.isoformat()}"


def _folder(items: int) -> Path:
    return cache_dir() / "stores" / f"items-{items}"


def restore(root: Path, items: int, seed: int, model_name: str, today: date) -> LoadReport | None:
    """Copy the kept store of this key into ``root``; its load report, or None when none is kept."""
    kept = _folder(items) / store_key(items, seed, model_name, today)
    if not (kept / REPORT).exists():
        return None
    data = json.loads((kept / REPORT).read_text(encoding="utf-8"))
    revision = data.pop("schema_revision", None)
    if not revision or not known_revision(revision):
        return None
    root.mkdir(parents=True, exist_ok=True)
    _copy_database(kept / DATABASE, root / DATABASE)
    shutil.copytree(kept / INDEX, root / INDEX)
    engine = make_engine(f"sqlite:///{root / DATABASE}")
    try:
        upgrade(engine)  # a store kept by an older revision of the code gets its migrations
    finally:
        engine.dispose()
    return LoadReport(**{**data, "texts": []})


def keep(root: Path, items: int, seed: int, model_name: str, today: date, report: LoadReport) -> Path:
    """Save the store built in ``root`` under its key, replacing any other of this size."""
    folder = _folder(items)
    key = store_key(items, seed, model_name, today)
    staging = folder / f".{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _copy_database(root / DATABASE, staging / DATABASE)
    shutil.copytree(root / INDEX, staging / INDEX)
    # Written last: a store without its report is never reused.
    (staging / REPORT).write_text(
        json.dumps({**asdict(report), "texts": [], "schema_revision": head_revision()}), encoding="utf-8"
    )
    for older in folder.iterdir():
        if older != staging:
            shutil.rmtree(older, ignore_errors=True)
    staging.rename(folder / key)
    return folder / key


def _copy_database(source: Path, target: Path) -> None:
    # SQLite's online backup: a consistent copy, with whatever the write-ahead log holds.
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
