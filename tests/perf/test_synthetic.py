"""The synthetic data generator: what it loads, through the services, with real vectors and index entries."""

from __future__ import annotations

import dataclasses
import random
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import matching
from benchmarks.perf.synthetic import ENCODE_AHEAD_THREAD, Phrasebook, generate
from marketplace.db import make_engine, make_session_factory
from marketplace.models import Category, District, ListingEmbedding, Need, Offer, Outcome, Pledge
from marketplace.schema import upgrade
from marketplace.search.documents import all_documents
from marketplace.services.reference import seed_reference_data
from marketplace.suggestions.documents import need_document
from marketplace.suggestions.engine import SuggestionEngine
from search_index import ANY_STATUS, SearchIndex, SearchQuery

# Slow (real servers, real model): run with `pytest -m perf tests/perf`.
pytestmark = pytest.mark.perf

ITEMS = 150  # above 125, so the smaller load below has fewer organisations


@pytest.fixture
def loaded(session_factory: sessionmaker, tmp_path: Path, today):
    index = SearchIndex(tmp_path / "index")
    engine = SuggestionEngine(session_factory, None)
    report = generate(
        session_factory, index, engine, ITEMS, today=today, seed=11, chunk=50, progress=False, keep_texts=True
    )
    yield report, index, engine
    index.close()


def test_loads_every_category_district_outcome_and_stage_with_real_vectors_and_index(loaded, session: Session) -> None:
    report, _, _ = loaded
    needs = list(session.scalars(select(Need)))
    offers = list(session.scalars(select(Offer)))
    assert (report.needs, report.offers) == (len(needs), len(offers))
    assert report.items == ITEMS
    used_categories = {n.category_code for n in needs} | {o.category_code for o in offers}
    assert used_categories == set(session.scalars(select(Category.code)))
    used_districts = {n.district_code for n in needs} | {d.code for o in offers for d in o.districts}
    assert used_districts == set(session.scalars(select(District.code)))
    used_outcomes = {o.code for n in needs for o in n.outcomes} | {c.code for o in offers for c in o.outcomes}
    assert used_outcomes == set(session.scalars(select(Outcome.code)))
    assert {n.status.value for n in needs} == {"open", "met", "withdrawn", "expired"}
    assert {o.status.value for o in offers} == {"open", "paused", "withdrawn"}
    stages = {p.status.value for p in session.scalars(select(Pledge))}
    assert stages == {"proposed", "accepted", "declined", "approved", "rejected", "delivered", "confirmed", "cancelled"}
    # Recombined texts, not copies: almost every need reads differently.
    assert len({(n.title, n.description) for n in needs}) >= 0.95 * len(needs)

    # The vectors and index entries are the real ones.
    _, index, engine = loaded
    stored = session.scalar(select(func.count()).select_from(ListingEmbedding))
    assert stored == ITEMS
    need = session.scalars(select(Need).where(Need.status == "open").order_by(Need.id)).first()
    row = session.scalar(
        select(ListingEmbedding).where(ListingEmbedding.kind == "need", ListingEmbedding.item_id == need.id)
    )
    # Encoded afresh by the model itself (the encoder's own cache would just hand back the stored one).
    fresh = engine.encoder()._model.encode([matching.item_text(need_document(need))], normalize_embeddings=True)[0]
    assert np.allclose(np.frombuffer(row.vector, dtype="<f4"), fresh, atol=1e-5)
    # The index holds exactly the database's needs and offers, current.
    assert index.check(all_documents(session)).ok


def test_the_same_seed_gives_the_same_texts() -> None:
    first, second = Phrasebook(random.Random(5)), Phrasebook(random.Random(5))
    args = [("need", "premises", "Melton"), ("offer", "other", "Blaby"), ("need", "funding", "County-wide")]
    assert [first.compose(*a) for a in args] == [second.compose(*a) for a in args]
    assert "Loughborough" not in first.compose("need", "premises", "Melton")[1]  # towns follow the district


def test_a_smaller_load_is_a_prefix_of_a_larger_one(loaded, tmp_path: Path, today) -> None:
    # The bench loads its largest size first; the smaller sizes then find every text already
    # encoded, however many organisations each size creates.
    larger, _, _ = loaded
    factory = _fresh_database(tmp_path / "smaller.sqlite3")
    index = SearchIndex(tmp_path / "smaller-index")
    smaller = generate(
        factory, index, SuggestionEngine(factory, None), 60, today=today, seed=11, chunk=50, keep_texts=True
    )
    index.close()
    factory.kw["bind"].dispose()
    assert len(smaller.texts) == 60
    assert set(smaller.texts) <= set(larger.texts)


def _fresh_database(path: Path) -> sessionmaker:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with Session(engine) as session:
        seed_reference_data(session)
        session.commit()
    return make_session_factory(engine)


def test_encoding_ahead_stores_what_a_load_one_step_at_a_time_stores(tmp_path: Path, today) -> None:
    # Each chunk's texts are encoded on a thread while its database and index work runs; the
    # database, the vectors (bit for bit) and the index must be what encoding afterwards gives.
    real = matching.load_semantic_encoder(None)
    assert real is not None
    loads = {}
    for ahead in (True, False):
        factory = _fresh_database(tmp_path / f"ahead-{ahead}.sqlite3")
        # An encoder of its own that keeps no texts: the second load must encode again.
        encoder = matching.SemanticEncoder(real.model_name, real._model, cache_size=0)
        index = SearchIndex(tmp_path / f"index-{ahead}")
        seen_encoding: list[bool] = []

        def between_chunks(texts: list[str], seen: list[bool] = seen_encoding) -> None:
            # The bench's bare-encode yardstick runs here: nothing of the load may be encoding.
            seen.append(any(t.name == ENCODE_AHEAD_THREAD and t.is_alive() for t in threading.enumerate()))

        report = generate(
            factory,
            index,
            SuggestionEngine(factory, None, encoder=encoder),
            120,
            today=today,
            seed=5,
            chunk=50,
            progress=False,
            between_chunks=between_chunks,
            encode_ahead=ahead,
        )
        assert seen_encoding == [False, False, False]
        assert report.encoded == report.items == 120
        with factory() as session:
            assert index.check(all_documents(session)).ok
            loads[ahead] = {
                "vectors": session.execute(
                    select(
                        ListingEmbedding.kind,
                        ListingEmbedding.item_id,
                        ListingEmbedding.model,
                        ListingEmbedding.text_hash,
                        ListingEmbedding.vector,
                    ).order_by(ListingEmbedding.kind, ListingEmbedding.item_id)
                ).all(),
                # What the index was built from, less the times the rows were written.
                "documents": [dataclasses.replace(d, created_at=None, updated_at=None) for d in all_documents(session)],
                "pledges": session.execute(
                    select(Pledge.id, Pledge.need_id, Pledge.offer_id, Pledge.status, Pledge.quantity).order_by(
                        Pledge.id
                    )
                ).all(),
                "found": [
                    [(h.kind, h.id, h.score) for h in index.search(SearchQuery(q=q, status=ANY_STATUS)).hits]
                    for q in ("volunteers", "minibus", "garden tools", "food")
                ],
            }
        index.close()
        factory.kw["bind"].dispose()
    assert len(loads[True]["vectors"]) == 120
    assert loads[True] == loads[False]
