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


def test_token_alignment_reads_whether_an_offer_covers_what_a_need_asks(encoder):
    texts = [
        "Minibus with a driver to take our lunch club to the seaside",
        "Loan of a minibus and a volunteer driver for community day trips",
        "Free accountancy advice for charity treasurers",
    ]
    need, covering, unrelated = (no_match.content_tokens(*tv) for tv in encoder.token_vectors(texts))
    assert "the" not in need.pieces and "[CLS]" not in need.pieces  # stop words and markers dropped
    assert need.vectors.dtype == np.float16
    weights = no_match.idf([need, covering, unrelated])
    recall_covering, *_ = no_match.alignment(need, covering, weights)
    recall_unrelated, *_ = no_match.alignment(need, unrelated, weights)
    assert recall_covering > recall_unrelated + 0.1


def test_mode_lean_tells_a_telephone_service_from_a_face_to_face_one(encoder):
    remote, in_person = (encoder.encode(list(p)).mean(axis=0) for p in (no_match.REMOTE, no_match.IN_PERSON))
    phone = encoder.encode(["Our volunteers ring isolated people every week for a chat."])
    visit = encoder.encode(["Our volunteers visit isolated people at home every week."])
    assert no_match.mode_lean(phone, remote, in_person) > no_match.mode_lean(visit, remote, in_person)


def test_a_per_pair_decision_says_no_good_match_when_no_candidate_clears_the_cut():
    rng = np.random.default_rng(1)

    def made(needs: int) -> no_match.PairSet:
        fits = rng.integers(0, 2, needs)
        rows, need, relevance = [], [], []
        for i, f in enumerate(fits):
            for rank in range(3):
                meets = f == 0 and rank == 0
                row = rng.normal(size=len(no_match.PAIR_FEATURES))
                row[0] += 3.0 if meets else -3.0  # the score separates pairs that meet the need
                rows.append(row)
                need.append(i)
                relevance.append(2 if meets else 0)
        return no_match.PairSet(
            np.array(rows), np.array(need), np.array(relevance), fits, np.zeros(needs), np.array(["s"] * needs)
        )

    train, test = made(200), made(100)
    for decision in ("top score", "top + recall"):
        _, says = no_match.pair_decision(train, test, decision)
        accuracy, false = no_match.judged(says, test.nothing_fits)
        assert accuracy >= 0.9 and false <= 0.05
    pooled = no_match.pooled_folds(no_match.PairSet.join([train, test]), "top score", folds=3, seeds=1)
    assert pooled["s"][0] >= 0.9 and pooled["s"][1] <= 0.05
