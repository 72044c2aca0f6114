"""Short, checkable reasons for a suggestion ("both mention minibus", "the offer covers Charnwood").

Reasons are computed only for the suggestions actually shown, from the two documents and
the lexical IDF weights, so they always describe something a person can verify by reading
the need and the offer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from matching.documents import COUNTY_WIDE, Item, Need, Offer, covers, item_text
from matching.encoders import surface_words
from matching.scoring import needs_local_help
from matching.vocabulary import MEASURE_CATEGORIES, concepts_of

MAX_SHARED_WORDS = 4
# Texts whose words are kept: the item asked about is explained beside each of the ten
# shown, and the items suggested most often (hubs) are shown again and again.
TEXTS_KEPT = 4096


@dataclass(frozen=True, slots=True)
class TextWords:
    """What the reasons read of one item's text, worked out once per text.

    Attributes:
        stems: each content stem of the text and its first surface form (lower case).
        concepts: by concept label, the text's words that signal it (``{stem: word}``).
    """

    stems: Mapping[str, str]
    concepts: Mapping[str, Mapping[str, str]]


@functools.lru_cache(maxsize=TEXTS_KEPT)
def _text_words(text: str) -> TextWords:
    stems = surface_words(text)
    return TextWords(stems, concepts_of(stems))


def text_words(item: Item) -> TextWords:
    """The words of an item's text that reasons name (kept per text: do not modify them)."""
    return _text_words(item_text(item))


def words_record(item: Item) -> str:
    """An item's words as a matcher snapshot keeps them beside its document.

    Each content stem and its first surface form, space-separated (neither has a space).
    Worked out here rather than through the kept texts: a snapshot records every item once.
    """
    return " ".join(f"{word_stem} {word}" for word_stem, word in surface_words(item_text(item)).items())


def recorded_words(record: str) -> TextWords:
    """The words a :func:`words_record` holds, as reasons read them.

    At 100,000 items most texts explained are not among the kept ones, and reading a
    record is a few microseconds where analysing the text again is tens.
    """
    parts = iter(record.split(" ") if record else ())
    stems = dict(zip(parts, parts, strict=False))
    return TextWords(stems, concepts_of(stems))


def shared_words(
    need: TextWords, offer: TextWords, weight: Callable[[str], float] | None = None, limit: int = MAX_SHARED_WORDS
) -> list[str]:
    """Content words the two texts share, most telling first.

    Args:
        need: the need's words.
        offer: the offer's words.
        weight: how telling a stem is (e.g. its IDF); rarer words first. Defaults to length.
        limit: at most this many words.

    Returns:
        Words as written in the need (lower case).
    """
    a, b = need.stems, offer.stems
    # The sort key orders every stem (ties by the stem itself), so the order found in is free.
    common = [s for s in a.keys() & b.keys() if not s.isdigit()]
    key = weight or (lambda s: float(len(s)))
    common.sort(key=lambda s: (-key(s), s))
    return [a[s] for s in common[:limit]]


def category_words(category: str) -> str:
    """A category code in plain words (``skills-and-jobs`` → "skills and jobs")."""
    return category.replace("-", " ").strip() or "other"


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(f"“{w}”" for w in words)


def concept_reasons(need: TextWords, offer: TextWords, limit: int = 2) -> list[tuple[str, tuple[str, ...]]]:
    """Concepts both texts are about, in different words, with the words each text uses.

    A concept is named only when each text has a word of it (never from a category), and
    only when the texts use different words for it: the same word is a shared word instead.

    Args:
        need: the need's words.
        offer: the offer's words.
        limit: at most this many concepts.

    Returns:
        ``[(reason, words it names)]``.
    """
    mine, theirs = need.concepts, offer.concepts
    # Words both texts use are said by "both mention"; a word names one concept at most.
    said = {s for words in mine.values() for s in words} & {s for words in theirs.values() for s in words}
    out = []
    for label in sorted(set(mine) & set(theirs)):
        if set(mine[label]) & set(theirs[label]):
            continue
        a = [(s, w) for s, w in mine[label].items() if s not in said][:2]
        b = [(s, w) for s, w in theirs[label].items() if s not in said][:2]
        if not a or not b:
            continue
        said |= {s for s, _ in a} | {s for s, _ in b}
        need_words, offer_words = [w for _, w in a], [w for _, w in b]
        out.append(
            (
                f"both about {label}: {_quoted(need_words)} in the need, {_quoted(offer_words)} in the offer",
                (*need_words, *offer_words),
            )
        )
    return out[:limit]


def reasons(
    need: Need,
    offer: Offer,
    semantic_cosine: float | None = None,
    weight: Callable[[str], float] | None = None,
    words: tuple[TextWords | None, TextWords | None] = (None, None),
) -> tuple[str, ...]:
    """Human-readable reasons for pairing a need with an offer, each true of both texts.

    Every reason states only what the two texts, their categories or their districts show,
    in plain words (category codes are spelt out), and nothing is said twice.

    Args:
        need: the need.
        offer: the offer.
        semantic_cosine: the embedding cosine, if known (adds "similar in meaning").
        weight: IDF-like weight per stem for ordering shared words.
        words: the need's and the offer's words, where the caller has them (a snapshot's
            records); otherwise read from the texts.

    Returns:
        A few short phrases, most specific first.
    """
    out: list[str] = []
    # Words the caller already has (a snapshot's records), or the texts' own.
    need_words = text_words(need) if words[0] is None else words[0]
    offer_words = text_words(offer) if words[1] is None else words[1]
    shared = shared_words(need_words, offer_words, weight)
    if shared:
        out.append("both mention " + ", ".join(shared))
    out += [text for text, _ in concept_reasons(need_words, offer_words)]
    if not shared and semantic_cosine is not None and semantic_cosine >= 0.4:
        out.append("similar in meaning, in different words")
    need_cat, offer_cat = category_words(need.category), category_words(offer.category)
    if need.category == offer.category:
        out.append(f"both listed under {need_cat}")
    elif MEASURE_CATEGORIES.get(offer.measure or "") == need.category:
        out.append(f"the offer's social value measure counts as {need_cat}, the need's category")
    else:
        out.append(f"an offer for {offer_cat}; the need is listed under {need_cat}")
    if covers(offer.districts, need.district):
        if COUNTY_WIDE in offer.districts:
            out.append("the offer covers the whole county")
        elif need.district != COUNTY_WIDE:
            out.append(f"the offer covers {need.district}, where the need is")
    elif not needs_local_help(need):
        out.append(f"offered outside {need.district}, but this help need not be local")
    return tuple(out)


def pair_reasons(
    need: Need,
    offer: Offer,
    semantic_cosine: float | None,
    weight: Callable[[str], float] | None = None,
    *,
    via_offer: bool = False,
    words: tuple[TextWords | None, TextWords | None] = (None, None),
) -> tuple[str, ...]:
    """The reasons shown with one suggested pairing, in either direction.

    Args:
        need: the need.
        offer: the offer.
        semantic_cosine: the embedding cosine (None without a model).
        weight: IDF-like weight per stem for ordering shared words.
        via_offer: the pairing comes from a supplier-wide suggestion; the reasons then start
            by naming the offer.
        words: the need's and the offer's words, where the caller has them.

    Returns:
        The reasons, most specific first.
    """
    because = reasons(need, offer, semantic_cosine, weight, words)
    return (f"fits your offer “{offer.title}”", *because) if via_offer else because
