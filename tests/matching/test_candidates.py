"""Suggestions from the fast path are the ones scoring every item gives.

The matcher answers a query with one matrix-vector product over the other side's vectors,
keeps the best eligible candidates by the rest of the score (``rerank_pool``: a share of the
eligible items), and adds the lexical term for those only. These tests score every eligible item of the other side from
the formula written out again (``raw_scores`` over whole arrays, hubness recomputed from the
neighbour lists, the lexical cosine of every item), and check that the top 10 is the same:
on both development sets (the real model) and on a synthetic set large enough for the pool
to be in play (topic-clustered vectors, texts drawn from the same topics).
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import numpy as np
import pytest

from matching import hubness, ranking
from matching.documents import Need, Offer
from matching.evaluation import load_dataset
from matching.matcher import Matcher
from matching.scoring import raw_scores
from matching.store import Side

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
TODAY = dt.date(2026, 12, 5)


def whole_side_top(matcher: Matcher, qside: Side, query_id: str, k: int = 10, *, pool: bool = True) -> list[str]:
    """The top ``k`` by scoring every eligible item of the other side, nothing skipped.

    The lexical term is computed for every item. With ``pool`` (the shipped ranking) it is then
    kept for the best ``rerank_pool`` first-stage candidates only, where more are eligible;
    without, every eligible item keeps it (the hybrid score with no pool at all).
    """
    cside = matcher.offers if qside is matcher.needs else matcher.needs
    params, n = matcher.params, cside.n
    query = matcher._query(qside, query_id)
    cos = cside.vecs[:n] @ query.vec
    qhub = float(hubness.smoothed_mean(qside.top[: qside.n], params.hub_prior)[query.slot])
    chub = hubness.smoothed_mean(cside.top[:n], params.hub_prior)
    same = ranking.same_category(query.doc, cside, matcher.codes).astype(np.float32)
    ok = ranking.eligible(query.doc, cside, matcher.codes, TODAY)
    lexical = cside.lex.scores(query.row, matcher.index.idf_sq(), matcher.index.version)
    size = ranking.rerank_pool(int(ok.sum()))
    if pool and int(ok.sum()) > size:
        first = np.where(ok, raw_scores(cos, qhub, chub, np.zeros(n, np.float32), same, params), -np.inf)
        outside = np.argsort(-first, kind="stable")[size:]
        lexical[outside] = 0.0
    raw = raw_scores(cos, qhub, chub, lexical, same, params)
    if cside is matcher.needs:
        raw = raw + ranking.fair_exposure(cside, (), params, TODAY)
    order = [i for i in np.argsort(-raw, kind="stable") if ok[i]]
    return [cside.docs[i].id for i in order[:k]]  # type: ignore[union-attr]


def assert_same_tops(matcher: Matcher, needs: list[str], offers: list[str]) -> None:
    for need_id in needs:
        got = [s.id for s in matcher.suggest_offers(need_id, today=TODAY, explain=False).items]
        assert got == whole_side_top(matcher, matcher.needs, need_id), need_id
    for offer_id in offers:
        got = [s.id for s in matcher.suggest_needs(offer_id, today=TODAY, explain=False).items]
        assert got == whole_side_top(matcher, matcher.offers, offer_id), offer_id


@pytest.mark.parametrize("name", ["dev.json", "dev-large.json"])
def test_the_dev_sets_get_the_suggestions_scoring_every_item_gives(encoder, name):
    path = EVAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared evaluation sets sit beside the repository)")
    dataset = load_dataset(path)
    matcher = Matcher.build(dataset.needs, dataset.offers, encoder=encoder)
    assert_same_tops(matcher, [n.id for n in dataset.needs], [o.id for o in dataset.offers])


TOPICS = [
    "room hall venue tables chairs kitchen evening meeting",
    "minibus van driver trips transport lift hospital",
    "laptops computers tablets printer broadband digital",
    "volunteers painting garden clearing litter planting",
    "funding grant money donation costs bills",
    "posters leaflets printing advertising newsletter design",
    "mentoring careers interview cv apprenticeships jobs",
    "food larder fruit vegetables surplus meals",
    "accounts bookkeeping legal advice trustees policies",
    "football kit sports coaching pitch equipment",
]
CATEGORIES = ["premises", "transport", "goods", "volunteering", "funding", "advertising", "skills-and-jobs", "goods"]
DISTRICTS = ["Blaby", "Charnwood", "Harborough", "Melton", "Oadby and Wigston", "County-wide"]


def synthetic_matcher(needs: int, offers: int, seed: int = 15) -> Matcher:
    """Texts drawn from ten topics, vectors clustered around each topic's centre (384 values)."""
    rng = random.Random(seed)
    gen = np.random.default_rng(seed)
    centres = gen.standard_normal((len(TOPICS), 384)).astype(np.float32)

    def text(topic: int) -> tuple[str, str]:
        words = TOPICS[topic].split()
        other = TOPICS[rng.randrange(len(TOPICS))].split()
        return " ".join(rng.sample(words, 3)), " ".join(rng.choices(words, k=8) + rng.choices(other, k=4))

    def vector(topic: int) -> np.ndarray:
        v = centres[topic] + 1.2 * gen.standard_normal(384).astype(np.float32)
        return v / np.linalg.norm(v)

    need_docs, offer_docs, need_vecs, offer_vecs = [], [], {}, {}
    for i in range(needs):
        topic = rng.randrange(len(TOPICS))
        title, description = text(topic)
        need_docs.append(
            Need(
                id=f"n{i}",
                title=title,
                description=description,
                category=CATEGORIES[topic % len(CATEGORIES)],
                district=rng.choice(DISTRICTS),
                needed_by=TODAY + dt.timedelta(days=rng.randint(-5, 200)),
                posted=TODAY - dt.timedelta(days=rng.randint(0, 120)),
            )
        )
        need_vecs[f"n{i}"] = vector(topic)
    for i in range(offers):
        topic = rng.randrange(len(TOPICS))
        title, description = text(topic)
        offer_docs.append(
            Offer(
                id=f"o{i}",
                title=title,
                description=description,
                category=CATEGORIES[topic % len(CATEGORIES)],
                districts=tuple(rng.sample(DISTRICTS, rng.randint(1, 2))),
                supplier=f"s{i % 40}",
            )
        )
        offer_vecs[f"o{i}"] = vector(topic)
    return Matcher.build(need_docs, offer_docs, need_vecs, offer_vecs)


@pytest.fixture(scope="module")
def large() -> Matcher:
    return synthetic_matcher(2400, 1800)


def test_a_synthetic_set_past_the_pool_gets_the_suggestions_scoring_every_item_gives(large):
    # Most queries have more eligible items than the pool here, so the pool is in play.
    assert large.offers.n > 3 * ranking.rerank_pool(large.offers.n)
    assert large.needs.n > 3 * ranking.rerank_pool(large.needs.n)
    assert_same_tops(large, [f"n{i}" for i in range(0, 2400, 40)], [f"o{i}" for i in range(0, 1800, 30)])


def test_the_fast_path_stays_exact_as_items_come_and_go(large):
    # Adding and removing items changes neighbours and hubness: what the first stage caches.
    matcher = synthetic_matcher(900, 700, seed=16)
    for i in range(0, 300, 3):
        matcher.remove_offer(f"o{i}")
        matcher.remove_need(f"n{i + 1}")
    donor = large.needs
    for i in range(40):
        doc = donor.docs[i]
        assert isinstance(doc, Need)
        matcher.upsert_need(Need(**{**doc.__dict__, "id": f"extra{i}"}), donor.vecs[i])
    needs = [f"n{i}" for i in range(2, 900, 30) if f"n{i}" in matcher.needs.pos] + ["extra3"]
    assert_same_tops(matcher, needs, [f"o{i}" for i in range(1, 700, 25) if f"o{i}" in matcher.offers.pos])


def test_the_pool_keeps_the_top_10_of_lexical_scores_for_every_item(large):
    # The lexical term is computed for the pool only; measured here against computing it for
    # every eligible item: the share of that top 10 the shipped ranking also gives.
    found = total = 0
    for need_id in [f"n{i}" for i in range(0, 2400, 60)]:
        got = {s.id for s in large.suggest_offers(need_id, today=TODAY, explain=False).items}
        truth = whole_side_top(large, large.needs, need_id, pool=False)
        found += len(got & set(truth))
        total += len(truth)
    assert found / total >= 0.99


def test_upserting_every_item_keeps_every_item():
    # Upserts delete first; once a quarter of the slots are dead the side is compacted into
    # a new one, and the insert must go there (it went to the old side, losing the item).
    matcher = synthetic_matcher(100, 80, seed=17)
    before = {i: [s.id for s in matcher.suggest_offers(i, today=TODAY, explain=False).items] for i in ("n0", "n50")}
    for i in range(100):
        doc = matcher.need(f"n{i}")
        assert doc is not None
        matcher.upsert_need(doc, matcher.needs.vecs[matcher.needs.pos[doc.id]].copy())
    assert len(matcher.needs.pos) == 100
    assert all(f"n{i}" in matcher.needs.pos for i in range(100))
    after = {i: [s.id for s in matcher.suggest_offers(i, today=TODAY, explain=False).items] for i in ("n0", "n50")}
    assert after == before
