"""The approximate first stage: on a large side, suggestions are the ones scoring every item gives.

Past ``approximate_from`` items on the side suggested from, the matcher shortlists the eligible
items by their cosines in a reduced space (a basis fitted to the stored vectors) and scores
only those exactly. These tests switch it on at a small threshold and compare each answer with
the same matcher's answer with it off, on vectors from the real model: the development sets'
items, and a set several times larger made from them (each item's vector a blend of two real
items' vectors, so the vectors keep the real model's spread over its directions, which is what
the reduced space's accuracy depends on). Queries run on one BLAS thread, as the application
runs them (the shortlist's cosines are then bit for bit the whole-side product's).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from matching import ranking, snapshot
from matching.documents import Need, Offer, item_text
from matching.evaluation import load_dataset
from matching.matcher import Matcher
from matching.store import Side

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
TODAY = dt.date(2026, 12, 5)


@pytest.fixture(scope="module")
def real(encoder) -> tuple[list[Need], list[Offer], dict[str, np.ndarray]]:
    """Both development sets' needs and offers (ids made unique) and their vectors from the model."""
    needs: list[Need] = []
    offers: list[Offer] = []
    for name in ("dev.json", "dev-large.json"):
        path = EVAL / name
        if not path.exists():
            pytest.skip(f"{path} is not here (the shared evaluation sets sit beside the repository)")
        dataset = load_dataset(path)
        needs += [replace(n, id=f"{path.stem}:{n.id}") for n in dataset.needs]
        offers += [replace(o, id=f"{path.stem}:{o.id}") for o in dataset.offers]
    items = [*needs, *offers]
    vectors = encoder.encode([item_text(i) for i in items])
    return needs, offers, {i.id: v for i, v in zip(items, vectors, strict=True)}


def blended(real, needs: int, offers: int, seed: int = 15) -> tuple[list[Need], list[Offer], dict[str, np.ndarray]]:
    """A larger set from the real items: each new item takes one real item's title, category and
    place, another's description, and a blend of their two vectors (at least half the first's)."""
    real_needs, real_offers, vectors = real
    rng = random.Random(seed)
    out_vectors: dict[str, np.ndarray] = {}

    def make(pool: list, count: int, prefix: str) -> list:
        made = []
        for i in range(count):
            first, second = rng.choice(pool), rng.choice(pool)
            weight = rng.uniform(0.5, 1.0)
            vector = weight * vectors[first.id] + (1.0 - weight) * vectors[second.id]
            item_id = f"{prefix}{i}"
            out_vectors[item_id] = (vector / np.linalg.norm(vector)).astype(np.float32)
            changes = {"id": item_id, "description": second.description}
            if isinstance(first, Need):
                changes["needed_by"] = TODAY + dt.timedelta(days=rng.randint(-5, 200))
                changes["posted"] = TODAY - dt.timedelta(days=rng.randint(0, 120))
            made.append(replace(first, **changes))
        return made

    return make(real_needs, needs, "n"), make(real_offers, offers, "o"), out_vectors


def answers(matcher: Matcher, qside: Side, ids: list[str], *, approximate: bool) -> dict[str, list[tuple[str, float]]]:
    """Each query's top 10 (id, score), with the approximate first stage on or off."""
    setting = matcher.approximate_from
    if not approximate:
        matcher.approximate_from = None
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            ask = matcher.suggest_offers if qside is matcher.needs else matcher.suggest_needs
            return {i: [(s.id, s.score) for s in ask(i, 10, TODAY, explain=False).items] for i in ids}
    finally:
        matcher.approximate_from = setting


def assert_same_answers(matcher: Matcher, needs: list[str], offers: list[str]) -> None:
    for qside, ids in ((matcher.needs, needs), (matcher.offers, offers)):
        assert answers(matcher, qside, ids, approximate=True) == answers(matcher, qside, ids, approximate=False)


def shortlisted(matcher: Matcher, qside: Side, item_id: str) -> tuple[int, int]:
    """How many slots the first stage scored for a query, of how many eligible."""
    cside = matcher.offers if qside is matcher.needs else matcher.needs
    query = matcher._query(qside, item_id)
    args = (query, qside, cside, matcher.codes, matcher.index, matcher.params, True, TODAY)
    kept = ranking.score(*args, approximate=True)[3]
    return int(kept.sum()), int(ranking.eligible(query.doc, cside, matcher.codes, TODAY).sum())


@pytest.fixture(scope="module")
def large(real) -> Matcher:
    needs, offers, vectors = blended(real, 2600, 2000)
    need_vectors = {n.id: vectors[n.id] for n in needs}
    offer_vectors = {o.id: vectors[o.id] for o in offers}
    return Matcher.build(needs, offers, need_vectors, offer_vectors, approximate_from=1000)


def test_the_dev_sets_get_the_same_suggestions_with_the_approximate_stage_on(real):
    # Fewer items than a shortlist holds: every eligible item is scored exactly, by the
    # shortlist's own code (gathered cosines, the pool among the scored slots).
    needs, offers, vectors = real
    matcher = Matcher.build(needs, offers, vectors, vectors, approximate_from=1)
    assert matcher.needs.basis is not None and matcher.offers.basis is matcher.needs.basis
    assert_same_answers(matcher, [n.id for n in needs], [o.id for o in offers])


def test_a_set_past_the_shortlist_gets_the_suggestions_scoring_every_item_gives(large):
    needs = [f"n{i}" for i in range(0, 2600, 13)]
    offers = [f"o{i}" for i in range(0, 2000, 10)]
    # The approximation is in play: most queries score a third or less of the eligible items.
    counts = [shortlisted(large, large.needs, i) for i in needs] + [shortlisted(large, large.offers, i) for i in offers]
    assert sum(kept < eligible for kept, eligible in counts) > 0.6 * len(counts)
    assert_same_answers(large, needs, offers)


def test_a_snapshot_keeps_the_basis_and_the_projections_shared(large, tmp_path):
    snapshot.save(large, tmp_path, {}, "db-a")
    empty = Matcher(dimension=large.dim, approximate_from=1000)
    opened = snapshot.open_snapshot(tmp_path, snapshot.describe(empty, "db-a"), empty)
    assert opened is not None
    matcher = opened.matcher
    assert np.array_equal(matcher.needs.basis, large.needs.basis)
    # The projected vectors are a copy-on-write map of the saved file, as the vectors are.
    assert isinstance(matcher.offers.reduced.base, np.memmap) and matcher.offers.reduced.base.mode == "c"
    needs = [f"n{i}" for i in range(0, 2600, 50)]
    offers = [f"o{i}" for i in range(0, 2000, 40)]
    for qside, ids in ((0, needs), (1, offers)):
        opened_side = (matcher.needs, matcher.offers)[qside]
        built_side = (large.needs, large.offers)[qside]
        assert answers(matcher, opened_side, ids, approximate=True) == answers(large, built_side, ids, approximate=True)


@pytest.mark.parametrize("opened", [False, True])
def test_items_added_after_the_basis_was_fitted_are_found(real, tmp_path, opened):
    needs, offers, vectors = blended(real, 1600, 1400, seed=16)
    need_vectors = {n.id: vectors[n.id] for n in needs}
    offer_vectors = {o.id: vectors[o.id] for o in offers}
    matcher = Matcher.build(needs, offers, need_vectors, offer_vectors, approximate_from=1000)
    if opened:
        snapshot.save(matcher, tmp_path, {}, "db-a")
        empty = Matcher(dimension=matcher.dim, approximate_from=1000)
        found = snapshot.open_snapshot(tmp_path, snapshot.describe(empty, "db-a"), empty)
        assert found is not None
        matcher = found.matcher
    # A new offer saying what a need asks, and a new need asking what an offer gives.
    need, offer = needs[7], offers[11]
    new_offer = replace(
        offers[0], id="new-offer", title=need.title, description=need.description, category=need.category
    )
    new_offer = replace(new_offer, districts=("County-wide",))
    new_need = replace(
        needs[0], id="new-need", title=offer.title, description=offer.description, category=offer.category
    )
    new_need = replace(new_need, district="County-wide")
    matcher.upsert_offer(new_offer, vectors[need.id])
    matcher.upsert_need(new_need, vectors[offer.id])
    slot = matcher.offers.pos["new-offer"]
    assert np.array_equal(matcher.offers.reduced[slot], vectors[need.id] @ matcher.offers.basis)
    assert answers(matcher, matcher.needs, [need.id], approximate=True)[need.id][0][0] == "new-offer"
    assert answers(matcher, matcher.offers, [offer.id], approximate=True)[offer.id][0][0] == "new-need"
    # Removed ones are not suggested; the rest are as scoring every item gives.
    matcher.remove_offer("new-offer")
    assert "new-offer" not in dict(answers(matcher, matcher.needs, [need.id], approximate=True)[need.id])
    assert_same_answers(matcher, [n.id for n in needs[::40]], [o.id for o in offers[::35]])
    # Removing a third of the offers compacts their side into a new one, projections and all.
    basis = matcher.offers.basis
    for o in offers[1::3]:
        matcher.remove_offer(o.id)
    assert matcher.offers.n < len(offers) and matcher.offers.basis is basis
    assert_same_answers(
        matcher, [n.id for n in needs[::40]], [o.id for o in offers[::35] if o.id in matcher.offers.pos]
    )


def test_a_matcher_that_grows_past_the_threshold_fits_its_basis_on_the_next_query(real):
    needs, offers, vectors = blended(real, 1200, 900, seed=17)
    need_vectors = {n.id: vectors[n.id] for n in needs}
    offer_vectors = {o.id: vectors[o.id] for o in offers[:800]}
    matcher = Matcher.build(needs, offers[:800], need_vectors, offer_vectors, approximate_from=1300)
    assert matcher.offers.basis is None  # neither side was this large when it was built
    for offer in offers[800:]:
        matcher.upsert_offer(offer, vectors[offer.id])
    answers(matcher, matcher.offers, ["o3"], approximate=True)  # needs: 1,200 slots, below
    assert matcher.needs.basis is None
    more, _, more_vectors = blended(real, 200, 0, seed=18)
    for need in more:
        matcher.upsert_need(replace(need, id=f"more-{need.id}"), more_vectors[need.id])
    answers(matcher, matcher.offers, ["o3"], approximate=True)  # needs: 1,400 slots
    assert matcher.needs.basis is not None and matcher.offers.basis is matcher.needs.basis
    assert_same_answers(matcher, [n.id for n in needs[::30]], [o.id for o in offers[::25]])


def test_a_suppliers_combined_suggestions_are_the_ones_scoring_every_item_gives(large):
    # Each of a supplier's offers ranks the needs through its own shortlist; the combined top
    # 10 is drawn from those (a need in it is in its best offer's own top 10).
    def combined(offers: list[str], approximate: bool) -> list[tuple[str, float, str | None]]:
        setting = large.approximate_from
        large.approximate_from = setting if approximate else None
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                answer = large.suggest_needs_for_offers(offers, 10, TODAY, explain=False, pledged={"n5", "n8"})
        finally:
            large.approximate_from = setting
        return [(s.id, s.score, s.via_offer) for s in answer.items]

    for start in range(0, 2000, 250):
        offers = [f"o{i}" for i in range(start, start + 5)]
        assert combined(offers, True) == combined(offers, False)
