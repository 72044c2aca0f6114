"""The reasons given with every suggestion on both development sets are true, plain and said once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from matching.documents import item_text
from matching.encoders import stem, surface_words
from matching.evaluation import load_dataset
from matching.matcher import Matcher
from matching.vocabulary import CONCEPTS

EVAL = Path(__file__).resolve().parents[2].parent / "shared" / "eval"
SETS = ("dev.json", "dev-large.json")
CATEGORY_CODES = ("skills-and-jobs",)
TOPIC = re.compile(r"^both about (?P<label>.+?): (?P<need>.+) in the need, (?P<offer>.+) in the offer$")


def _quoted(text: str) -> list[str]:
    return re.findall(r"“([^”]+)”", text)


def _signals(label: str) -> set[str]:
    return {stem(w) for signal in CONCEPTS[label] for w in re.findall(r"[^\W_]+", signal.lower())}


@pytest.mark.parametrize("name", SETS)
def test_every_reason_on_the_dev_sets_is_true_of_both_texts(encoder, name):
    path = EVAL / name
    if not path.exists():
        pytest.skip(f"{path} is not here (the shared evaluation sets sit beside the repository)")
    dataset = load_dataset(path)
    matcher = Matcher.build(dataset.needs, dataset.offers, encoder=encoder)
    topics = 0
    for need in dataset.needs:
        for suggestion in matcher.suggest_offers(need.id, limit=10).items:
            offer = matcher.offer(suggestion.id)
            assert offer is not None
            need_words = surface_words(item_text(need))
            offer_words = surface_words(item_text(offer))
            reasons = suggestion.reasons
            assert len(set(reasons)) == len(reasons), reasons  # nothing printed twice
            named = [w for r in reasons if r.startswith(("both mention", "both about")) for w in _words_named(r)]
            assert len(named) == len(set(named)), reasons  # no word named in two reasons
            for reason in reasons:
                assert not any(code in reason for code in CATEGORY_CODES), reason  # no category codes
                assert not re.search(r"\ba [aeiou]", reason), reason  # no "a expertise need"
                if reason.startswith("both mention "):
                    for word in reason.removeprefix("both mention ").split(", "):
                        assert stem(word) in need_words and stem(word) in offer_words, (reason, need.id, offer.id)
                match = TOPIC.match(reason)
                if reason.startswith("both about"):
                    assert match, reason
                    topics += 1
                    signals = _signals(match["label"])
                    for side, words in (("need", need_words), ("offer", offer_words)):
                        quoted = _quoted(match[side])
                        assert quoted, reason
                        for word in quoted:
                            # a word of that concept, and a word of that text
                            assert stem(word) in signals and stem(word) in words, (reason, need.id, offer.id)
    assert topics > 0  # the check above was exercised


def _words_named(reason: str) -> list[str]:
    if reason.startswith("both mention "):
        return [stem(w) for w in reason.removeprefix("both mention ").split(", ")]
    return [stem(w) for w in _quoted(reason)]
