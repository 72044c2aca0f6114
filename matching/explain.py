"""Short, checkable reasons for a suggestion ("both about meeting rooms", "covers Charnwood").

Reasons are computed only for the suggestions actually shown, from the two documents and
the lexical IDF weights, so they always describe something a person can verify by reading
the need and the offer.
"""

from __future__ import annotations

from collections.abc import Callable

from matching.documents import COUNTY_WIDE, Need, Offer, covers, item_text
from matching.encoders import surface_words
from matching.scoring import needs_local_help
from matching.vocabulary import MEASURE_CATEGORIES, concepts_in

MAX_SHARED_WORDS = 4


def shared_words(
    need: Need, offer: Offer, weight: Callable[[str], float] | None = None, limit: int = MAX_SHARED_WORDS
) -> list[str]:
    """Content words the two texts share, most telling first.

    Args:
        need: the need.
        offer: the offer.
        weight: how telling a stem is (e.g. its IDF); rarer words first. Defaults to length.
        limit: at most this many words.

    Returns:
        Words as written in the need (lower case).
    """
    a = surface_words(item_text(need))
    b = surface_words(item_text(offer))
    common = [s for s in a if s in b and not s.isdigit()]
    key = weight or (lambda s: float(len(s)))
    common.sort(key=lambda s: (-key(s), s))
    return [a[s] for s in common[:limit]]


def reasons(
    need: Need,
    offer: Offer,
    semantic_cosine: float | None = None,
    weight: Callable[[str], float] | None = None,
) -> tuple[str, ...]:
    """Human-readable reasons for pairing a need with an offer.

    Args:
        need: the need.
        offer: the offer.
        semantic_cosine: the embedding cosine, if known (adds "similar in meaning").
        weight: IDF-like weight per stem for ordering shared words.

    Returns:
        A few short phrases, most specific first.
    """
    out: list[str] = []
    topics = sorted(concepts_in(item_text(need)) & concepts_in(item_text(offer)))
    if topics:
        out.append("both about " + " and ".join(topics[:2]))
    if need.category == offer.category:
        out.append(f"same category: {need.category}")
    elif MEASURE_CATEGORIES.get(offer.measure or "") == need.category:
        out.append(f"offer's measure fits a {need.category} need")
    else:
        out.append(f"different category ({offer.category} offer for a {need.category} need)")
    if covers(offer.districts, need.district):
        if COUNTY_WIDE in offer.districts:
            out.append("offer is County-wide")
        elif need.district != COUNTY_WIDE:
            out.append(f"covers {need.district}")
    elif not needs_local_help(need):
        out.append(f"offered outside {need.district}, but this help need not be local")
    words = shared_words(need, offer, weight)
    if words:
        out.append("shared words: " + ", ".join(words))
    elif semantic_cosine is not None and semantic_cosine >= 0.4:
        out.append("similar in meaning, in different words")
    return tuple(out)


def pair_reasons(
    need: Need,
    offer: Offer,
    semantic_cosine: float | None,
    weight: Callable[[str], float] | None = None,
    *,
    via_offer: bool = False,
) -> tuple[str, ...]:
    """The reasons shown with one suggested pairing, in either direction.

    Args:
        need: the need.
        offer: the offer.
        semantic_cosine: the embedding cosine (None without a model).
        weight: IDF-like weight per stem for ordering shared words.
        via_offer: the pairing comes from a supplier-wide suggestion; the reasons then start
            by naming the offer.

    Returns:
        The reasons, most specific first.
    """
    because = reasons(need, offer, semantic_cosine, weight)
    return (f"fits your offer “{offer.title}”", *because) if via_offer else because
