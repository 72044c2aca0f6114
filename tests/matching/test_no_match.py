"""The "no good match" study (matching.no_match): its features mean what the docs say, and a
decision learnt on one set is judged on another by the tune command's rule."""

import numpy as np
import pytest

from matching import no_match


def _covers_none(need_id: str, offer_id: str) -> float:
    return 0.0


def test_sentences_keep_the_title_and_drop_fragments():
    parts = no_match.sentences(
        "Minibus for the lunch club", "We need lifts on Wednesdays. Thanks! Drivers have D1 licences."
    )
    assert parts == ["Minibus for the lunch club", "We need lifts on Wednesdays.", "Drivers have D1 licences."]


def test_coverage_is_low_when_an_offer_speaks_to_only_part_of_a_need():
    a, b, c = np.eye(3, dtype=np.float32)
    assert no_match.coverage(np.stack([a, b]), np.stack([a, b])) == pytest.approx(1.0)
    assert no_match.coverage(np.stack([a, b]), np.stack([a, c])) == pytest.approx(0.5)
    assert no_match.coverage(np.zeros((0, 3)), np.stack([a])) == 0.0


def test_features_read_the_best_offer_its_margin_and_whether_the_need_is_that_offers_best():
    raw = {"n1": [("o1", 1.0), ("o2", 0.2)], "n2": [("o1", 1.5), ("o2", 0.9)], "n3": []}
    x = no_match.features(raw, {"n1": "Melton", "n2": "Blaby", "n3": "Melton"}, {"o1": ["Melton"]}, _covers_none)
    top, gap, _, mutual, typical, district, _ = x[0]
    assert (top, gap, mutual, district) == pytest.approx((1.0, 0.8, 0.5, 1.0))  # n2 outranks n1 for o1
    assert typical == pytest.approx(1.0 - 1.25)  # o1's typical score is the mean of its best (1.5 and 1.0)
    assert x[1][3] == 1.0 and x[1][5] == 0.0  # n2 is o1's best; o1 does not name Blaby
    assert x[2][0] == -10.0  # nothing eligible: the lowest top score


def test_a_decision_learnt_on_one_set_is_judged_on_another():
    rng = np.random.default_rng(0)

    def made(n: int) -> no_match.Labelled:
        fits = rng.integers(0, 2, n)
        x = rng.normal(size=(n, len(no_match.FEATURES)))
        x[:, 0] += np.where(fits == 1, -3.0, 3.0)  # the top score separates them
        return no_match.Labelled(x, fits)

    out = no_match.learn_and_judge(made(200), made(100), ("top",))
    assert out["false_no_match"] <= 0.05 and out["no_match_accuracy"] >= 0.9
    assert out["in_sample_false"] <= no_match.MAX_FALSE_NO_MATCH


def test_the_tune_commands_cross_check_judges_each_decision_on_the_set_it_did_not_learn_from(encoder):
    from matching.evaluation import parse_dataset
    from matching.tune import cross_validate, no_match_study
    from tests.matching.test_evaluation import TINY

    sets = [parse_dataset({**TINY, "name": name}) for name in ("first", "second")]
    learnt = [params for _, params, _ in cross_validate(sets, encoder)]
    rows = no_match_study(sets, encoder, learnt)
    assert [(held, decision) for held, decision, _ in rows] == [
        (held, decision) for held in ("first", "second") for decision in no_match.DECISIONS
    ]
    for _, _, figures in rows:
        assert all(0.0 <= v <= 1.0 for v in figures.values())
