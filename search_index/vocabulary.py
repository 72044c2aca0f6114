"""The search vocabulary: what else a word in a need or offer should be found by.

People search in their own words. Someone looking for a "room" expects the "Boardroom"
and the "clubhouse"; someone looking for a "computer" expects "laptops". When a need or
offer is indexed, each of its words is also indexed, at the same place, as

- the parts of a compound word ending in a common part (``boardroom`` → ``room``), and
- the broader words of the vocabulary (``laptop`` → ``computer``),

so a search for the part or the broader word finds it, and its snippet marks the word.
A search is never widened the other way: "laptop" does not find every computer.
Changing this vocabulary needs ``marketplace reindex`` for listings already indexed.
"""

from __future__ import annotations

# Endings that make English compound words people search for on their own.
COMPOUND_PARTS: tuple[str, ...] = (
    "room",
    "rooms",
    "house",
    "hall",
    "bus",
    "buses",
    "ground",
    "grounds",
    "space",
    "shop",
    "book",
    "books",
    "board",
    "boards",
    "work",
    "care",
    "garden",
    "gardens",
    "yard",
    "club",
    "centre",
)
# The shortest first part worth splitting off ("classroom" yes, "broom" no).
MIN_HEAD = 4

# A word → the broader words it should also be found by (all lower case, singular).
BROADER: dict[str, tuple[str, ...]] = {
    "laptop": ("computer",),
    "laptops": ("computer",),
    "chromebook": ("computer", "laptop"),
    "chromebooks": ("computer", "laptop"),
    "desktop": ("computer",),
    "desktops": ("computer",),
    "pc": ("computer",),
    "pcs": ("computer",),
    "tablet": ("computer",),
    "tablets": ("computer",),
    "ipad": ("computer", "tablet"),
    "ipads": ("computer", "tablet"),
    "printer": ("computer",),
    "printers": ("computer",),
    "monitor": ("computer", "screen"),
    "monitors": ("computer", "screen"),
    "minibus": ("vehicle", "transport"),
    "minibuses": ("vehicle", "transport"),
    "van": ("vehicle", "transport"),
    "vans": ("vehicle", "transport"),
    "car": ("vehicle", "transport"),
    "cars": ("vehicle", "transport"),
    "lorry": ("vehicle", "transport"),
    "coach": ("vehicle", "transport"),
    "hall": ("room", "venue", "space"),
    "halls": ("room", "venue", "space"),
    "venue": ("room", "space"),
    "premises": ("room", "space"),
    "office": ("room", "space"),
    "offices": ("room", "space"),
    "tables": ("furniture",),
    "table": ("furniture",),
    "chairs": ("furniture",),
    "chair": ("furniture",),
    "desks": ("furniture",),
    "desk": ("furniture",),
    "sofa": ("furniture",),
    "shelving": ("furniture",),
    "painting": ("decorating",),
    "paint": ("decorating",),
    "decorate": ("painting",),
    "decorating": ("painting",),
    "cv": ("employment", "job"),
    "cvs": ("employment", "job"),
    "interview": ("employment", "job"),
    "interviews": ("employment", "job"),
    "apprenticeship": ("employment", "job", "training"),
    "apprenticeships": ("employment", "job", "training"),
    "mentoring": ("mentor", "support"),
    "mentor": ("mentoring", "support"),
    "lawyer": ("legal",),
    "solicitor": ("legal",),
    "accountant": ("finance", "accounts"),
    "bookkeeping": ("finance", "accounts"),
    "food": ("meals",),
    "meals": ("food",),
    "lunch": ("food", "meals"),
    "lunches": ("food", "meals"),
    "groceries": ("food",),
}


def compound_parts(word: str) -> tuple[str, ...]:
    """The parts a compound word is also found by: ``boardroom`` → (``board``, ``room``).

    Args:
        word: One word, lower case.

    Returns:
        The first part and the known ending, or nothing when the word is not such a compound.
    """
    for part in COMPOUND_PARTS:
        head = word[: -len(part)]
        if word.endswith(part) and len(head) >= MIN_HEAD and head.isalpha():
            return (head, part)
    return ()


def related_words(word: str) -> tuple[str, ...]:
    """Every other word ``word`` should be found by (compound parts, then broader words).

    Args:
        word: One word as written; case does not matter.

    Returns:
        The words, without repeats, never ``word`` itself.
    """
    lower = word.lower()
    found: list[str] = []
    for extra in (*compound_parts(lower), *BROADER.get(lower, ())):
        if extra != lower and extra not in found:
            found.append(extra)
    return tuple(found)
