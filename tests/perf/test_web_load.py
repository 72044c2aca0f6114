"""The web measurement and the load test, run briefly against real gunicorn servers.

Each test starts its own gunicorn processes on loopback with the real app and the real
embedding model, on a database of its own (not the suite's rolled-back one).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.perf.web_load import measure_web
from marketplace.cli import main
from marketplace.clock import council_today
from marketplace.db import make_engine, make_session_factory
from marketplace.schema import upgrade
from marketplace.search.sync import rebuild
from marketplace.services import accounts, needs, offers, organisations
from marketplace.services.reference import seed_reference_data
from marketplace.suggestions.documents import need_document
from marketplace.suggestions.engine import SuggestionEngine
from search_index import SearchIndex
from tests.conftest import PASSWORD, POSTGRES_ENV, _create_postgres_database, need_fields, offer_fields

# Slow (real servers, real model): run with `pytest -m perf tests/perf`.
pytestmark = pytest.mark.perf

needs_postgres = pytest.mark.skipif(
    not os.environ.get(POSTGRES_ENV), reason=f"needs concurrent writers on PostgreSQL: set {POSTGRES_ENV}"
)


def _small_marketplace(tmp_path: Path) -> tuple[str, Path]:
    """A SQLite marketplace with one verified group's need and one supplier's offer, indexed."""
    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        seed_reference_data(session)
        officer = accounts.create_user(
            session, email="officer@example.gov.uk", role="officer", organisation_name="Council", password=PASSWORD
        )
        group = accounts.create_user(
            session, email="group@example.org", role="community", organisation_name="Lunch Club", password=PASSWORD
        )
        supplier = accounts.create_user(
            session, email="supplier@example.org", role="supplier", organisation_name="Builders", password=PASSWORD
        )
        for user in (group, supplier):
            organisations.verify_organisation(session, officer, user.organisation_id)
        needs.post_need(session, group, need_fields(), council_today())
        offers.post_offer(session, supplier, offer_fields(), council_today())
        session.commit()
    index_dir = tmp_path / "index"
    rebuild(factory, SearchIndex(index_dir))
    engine.dispose()
    return url, index_dir


def test_measure_web_reports_real_throughput_latency_and_memory(tmp_path: Path) -> None:
    url, index_dir = _small_marketplace(tmp_path)

    results = {
        r.name: r for r in measure_web(url, index_dir, duration=1.5, clients=4, workers=1, warmup=0.5, progress=None)
    }

    hello = results["web bare Flask hello: throughput"].value
    assert hello > 0
    for page in ("need list", "need page with suggestions", "search page", "API need list"):
        throughput = results[f"web {page}: throughput"]
        assert throughput.value > 0, page
        assert throughput.yardstick == hello and throughput.ratio is not None
        assert results[f"web {page}: errors"].value == 0, page
        assert results[f"web {page}: errors"].met is True
        assert 0 < results[f"web {page}: p50 latency"].value <= results[f"web {page}: p99 latency"].value
        cpu = results[f"web {page}: worker CPU per request"]
        # The lowest of the run's slices, never above their median.
        assert 0 < cpu.value <= results[f"web {page}: worker CPU per request, median of the slices"].value
        # Beside it, the same template rendered alone (the API list: its JSON encoded again),
        # which is part of what the worker spends on the page.
        assert 0 < cpu.yardstick < cpu.value, page
        assert cpu.target.describe(cpu.unit) == ("<= 8 ms" if page == "need page with suggestions" else "<= 5 ms")
    memory = results["web one worker resident size (the loaded data)"]
    assert 50 < memory.value < memory.target.bound  # the app is tens of MiB at least
    second = results["web a second worker adds, its private memory (the loaded data)"]
    assert 0 < second.value <= memory.value and second.target.describe("MiB") == "<= 150 MiB"
    assert results["web all workers together, sum of PSS (the loaded data)"].value > 0
    assert 0 < results["web load client CPU (share of one core)"].value < 100


@needs_postgres
def test_two_workers_storing_the_same_new_vectors_both_answer() -> None:
    # Found by the load test: two gunicorn workers catching up on the same new need both
    # encoded it, and the second to store its vector answered the page with a 500.
    url, drop = _create_postgres_database(os.environ[POSTGRES_ENV])
    engine = make_engine(url)
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with factory() as session:
            seed_reference_data(session)
            group = accounts.create_user(
                session, email="group@example.org", role="community", organisation_name="Lunch Club", password=PASSWORD
            )
            documents = [need_document(needs.post_need(session, group, need_fields(), council_today()))]
            session.commit()

        # One engine plays both workers (store_vectors keeps no state but the loaded model).
        suggestions = SuggestionEngine(factory)

        def other_worker_stores_first(*progress: int) -> None:
            with factory() as other:
                suggestions.store_vectors(other, "need", documents)
                other.commit()

        with factory() as session:
            vectors, encoded = suggestions.store_vectors(session, "need", documents, progress=other_worker_stores_first)
            session.commit()

        assert encoded == 1 and set(vectors) == {documents[0].id}
        with factory() as session:
            stored, encoded_again = suggestions.store_vectors(session, "need", documents)
        assert encoded_again == 0 and (stored[documents[0].id] == vectors[documents[0].id]).all()
    finally:
        engine.dispose()
        drop()


@needs_postgres
def test_loadtest_passes_and_verifies_every_write() -> None:
    result = CliRunner().invoke(
        main,
        ["loadtest", "--server", os.environ[POSTGRES_ENV], "--users", "5", "--duration", "5", "--seed-items", "10"],
    )

    assert result.exit_code == 0, result.output
    assert "PASS" in result.output
    in_database, written, in_index, indexed_writes = map(
        int, re.search(r"writes verified: (\d+) of (\d+) in the database, (\d+) of (\d+)", result.output).groups()
    )
    assert written > 0 and in_database == written
    assert in_index == indexed_writes
    assert re.search(r"^all\s+\d+\s+\S+\s+\d+\s+\d+\s+\d+\s+\d+\s+0\s+0$", result.output, re.MULTILINE)
