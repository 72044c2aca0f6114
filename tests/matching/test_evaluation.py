import json

import pytest

from matching import Matcher, Need, Offer
from matching.evaluation import (
    FAIRNESS,
    METRICS,
    DatasetError,
    format_fairness,
    format_table,
    gini,
    load_dataset,
    ndcg,
    recall,
    reciprocal_rank,
    run_evaluation,
    run_fairness,
    score_system,
    supplier_exposure,
    without_fairness,
)

TINY = {
    "name": "tiny",
    "needs": [
        {
            "id": "a",
            "title": "Meeting room for a youth club",
            "description": "A hall or room for 30 teenagers on Wednesday evenings.",
            "category": "premises",
            "district": "Blaby",
            "quantity": "weekly",
            "outcomes": ["great-communities"],
        },
        {
            "id": "b",
            "title": "Laptops for a homework club",
            "description": "Six laptops so children can do homework after school.",
            "category": "goods",
            "district": "Melton",
            "quantity": "6",
            "outcomes": ["wellbeing-and-opportunity"],
        },
        {
            "id": "c",
            "title": "Help with our accounts",
            "description": "A volunteer treasurer needs advice on preparing annual accounts.",
            "category": "expertise",
            "district": "Harborough",
            "quantity": "a few hours",
            "outcomes": ["strong-economy"],
        },
        {
            "id": "d",
            "title": "Llama grooming kit",
            "description": "Brushes and shears for our rescue llamas.",
            "category": "goods",
            "district": "Charnwood",
            "quantity": "1 set",
            "outcomes": [],
        },
    ],
    "offers": [
        {
            "id": "1",
            "title": "Community hall available",
            "description": "Our function hall in Blaby seats 80.",
            "category": "premises",
            "districts": ["Blaby"],
            "supplier": "Hall Co",
        },
        {
            "id": "2",
            "title": "Function room in Melton",
            "description": "A room for community events.",
            "category": "premises",
            "districts": ["Melton"],
            "supplier": "Melton Co",
        },
        {
            "id": "3",
            "title": "Refurbished laptops",
            "description": "We donate used laptops to charities.",
            "category": "goods",
            "districts": ["County-wide"],
            "supplier": "IT Co",
        },
        {
            "id": "4",
            "title": "Accountant volunteering",
            "description": "Our accountants give free advice to charities on bookkeeping and year-end accounts.",
            "category": "expertise",
            "districts": ["County-wide"],
            "supplier": "Numbers LLP",
        },
    ],
    "judgments": [
        {"need": "a", "offer": "1", "relevance": 2},
        {"need": "b", "offer": "3", "relevance": 2},
        {"need": "c", "offer": "4", "relevance": 2},
        {"need": "c", "offer": "3", "relevance": 1},
    ],
}


def test_metric_functions_on_known_rankings():
    rels = {"x": 2, "y": 1}
    assert recall(["q", "x", "z", "y"], rels, 2) == 0.5
    assert recall(["q", "x", "z", "y"], rels, 10) == 1.0
    assert reciprocal_rank(["y", "q", "x"], rels) == pytest.approx(1 / 3)  # first relevance-2 offer
    assert reciprocal_rank(["y"], rels) == 0.0
    assert ndcg(["x", "y"], rels) == pytest.approx(1.0)
    # y first, x second: (1 + 2/log2(3)) / (2 + 1/log2(3))
    assert ndcg(["y", "x"], rels) == pytest.approx((1 + 2 / 1.5849625) / (2 + 1 / 1.5849625))


def test_score_system_on_a_tiny_set_with_known_answers():
    ds = load_dataset(TINY)
    rankings = {"a": ["2", "1"], "b": ["3"], "c": ["3", "4"], "d": ["3"]}
    no_match = {"a": False, "b": True, "c": False, "d": True}
    m = score_system(ds, rankings, no_match)
    assert set(m) == set(METRICS)
    assert m["recall@5"] == pytest.approx(1.0)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3, abs=1e-4)
    ndcg_a = (2 / 1.5849625) / 2
    ndcg_c = (1 + 2 / 1.5849625) / (2 + 1 / 1.5849625)
    assert m["ndcg@10"] == pytest.approx((ndcg_a + 1 + ndcg_c) / 3, abs=1e-4)
    assert m["no_match_accuracy"] == 1.0  # d has no relevant offer and the system said so
    assert m["false_no_match"] == pytest.approx(1 / 3, abs=1e-4)  # b has a full match but "no match"


def test_run_evaluation_compares_four_systems(encoder, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    results = run_evaluation(path, k=10, encoder=encoder)
    assert list(results) == ["hybrid", "lexical", "semantic", "fused"]
    for metrics in results.values():
        assert list(metrics) == list(METRICS)
        assert all(0.0 <= v <= 1.0 for v in metrics.values())
    assert results["hybrid"]["mrr"] == 1.0 and results["hybrid"]["recall@10"] == 1.0
    table = format_table(results)
    assert "hybrid" in table and "ndcg@10" in table and "fused" in table


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("needs"), "'needs' must be a list"),
        (lambda d: d["judgments"].append({"need": "a", "offer": "99", "relevance": 2}), "unknown offer '99'"),
        (lambda d: d["judgments"].append({"need": "zz", "offer": "1", "relevance": 2}), "unknown need 'zz'"),
        (lambda d: d["judgments"].append({"need": "d", "offer": "1", "relevance": 5}), "relevance must be"),
        (lambda d: d["needs"][0].update(category="spaceships"), "unknown category 'spaceships'"),
        (lambda d: d["offers"][0].pop("districts"), "'districts' must be a non-empty list"),
        (lambda d: d["needs"][1].update(id="a"), "duplicate need id 'a'"),
        (lambda d: d["needs"][2].pop("title"), "need c: missing 'title'"),
    ],
)
def test_malformed_sets_give_clear_errors(change, message):
    data = json.loads(json.dumps(TINY))
    change(data)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        load_dataset(data)


def test_unreadable_files_give_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="No such evaluation set"):
        load_dataset(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(DatasetError, match="not a UTF-8 JSON file"):
        load_dataset(bad)
    with pytest.raises(ValueError, match="positive"):
        run_evaluation(TINY, k=0)


def test_gini_is_zero_when_all_are_seen_alike_and_high_when_one_takes_all():
    assert gini([3, 3, 3, 3]) == 0.0
    assert gini([0, 0, 0, 12]) == pytest.approx(0.75)
    assert gini([]) == 0.0 and gini([0, 0]) == 0.0


def test_fair_exposure_is_reported_with_and_without_the_fairness_term(encoder, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(TINY))
    results = run_fairness(path, k=10, encoder=encoder)
    assert list(results) == ["with fairness", "without"]
    for row in results.values():
        assert list(row) == list(FAIRNESS)
        assert all(0.0 <= v <= 1.0 for v in row.values())
        assert row["share_exposed"] > 0  # some need is in some supplier's top 10
    table = format_fairness(results)
    assert "needs in a top 10" in table and "gini of exposure" in table and "without" in table


def test_the_fairness_term_spreads_suppliers_attention_over_needs_of_equal_fit():
    # Two needs nobody could tell apart, three suppliers with the same minibus: without the
    # term every supplier's top suggestion is the first need; with it, once that need has a
    # pledge the next supplier is shown the one nobody has answered yet.
    text = "Minibus for weekly day trips with older residents"
    needs = [Need(id, text, "Lunch club outings every Thursday.", "transport") for id in ("a", "b")]
    offers = [
        Offer(f"o{i}", "Minibus and driver for day trips", "For older residents' outings.", "transport", supplier=s)
        for i, s in enumerate(("Acme", "Brill", "Cole"))
    ]
    matcher = Matcher.build(needs, offers)  # lexical only: quick, and the two needs tie exactly
    suppliers = [[o.id] for o in offers]
    fair = supplier_exposure(matcher, suppliers, ["a", "b"], k=1)
    plain = supplier_exposure(without_fairness(matcher), suppliers, ["a", "b"], k=1)
    assert plain == {"share_exposed": 0.5, "gini": 0.5, "pledged_needs": 0.5}
    assert fair["share_exposed"] == 1.0 and fair["gini"] < plain["gini"] and fair["pledged_needs"] == 1.0
    assert matcher.params.fairness_weight > 0  # the copy without the term left the matcher as it was
