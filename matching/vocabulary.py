"""A small, hand-written domain vocabulary: what people call the things they need and offer.

Each concept is a label and the words that signal it. It no longer shapes any score (the
lexical side reads the texts' own words, see :mod:`matching.lexical`); it only names what
two texts are both about in a reason, and a reason names a concept only when each text
has one of its words. Measure codes map to categories (an offer's measure may imply the
need's category).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from matching.encoders import words

# label -> signal words (surface forms; stemmed at import)
CONCEPTS: dict[str, tuple[str, ...]] = {
    "meeting rooms and venues": (
        "room",
        "hall",
        "venue",
        "boardroom",
        "meeting",
        "space",
        "suite",
        "canteen",
        "kitchen",
        "office",
        "desk",
        "premises",
        "building",
        "centre",
        "classroom",
    ),
    "storage space": (
        "storage",
        "store",
        "warehouse",
        "unit",
        "garage",
        "lockup",
        "lock-up",
        "pallet",
        "racking",
        "depot",
        "shelving",
        "container",
    ),
    "transport and vehicles": (
        "transport",
        "minibus",
        "bus",
        "van",
        "vehicle",
        "driver",
        "driving",
        "lift",
        "delivery",
        "deliver",
        "collection",
        "fleet",
        "car",
        "coach",
        "trip",
        "journey",
    ),
    "volunteers": (
        "volunteer",
        "volunteering",
        "helper",
        "hands",
        "team",
        "staff",
        "employee",
        "befriend",
        "befriending",
        "mentor",
        "mentoring",
    ),
    "professional advice": (
        "advice",
        "expertise",
        "legal",
        "accountant",
        "accounting",
        "finance",
        "financial",
        "bookkeeping",
        "hr",
        "governance",
        "marketing",
        "pro",
        "bono",
        "consultant",
        "mentoring",
        "strategy",
        "audit",
        "trustee",
        "policy",
        "bid",
        "grant-writing",
    ),
    "training and skills": (
        "training",
        "course",
        "workshop",
        "skills",
        "qualification",
        "certificate",
        "first",
        "aid",
        "safeguarding",
        "coaching",
        "teach",
        "lesson",
        "learn",
    ),
    "jobs and work experience": (
        "job",
        "jobs",
        "employment",
        "work",
        "placement",
        "apprenticeship",
        "apprentice",
        "career",
        "cv",
        "interview",
        "experience",
        "traineeship",
        "recruit",
    ),
    "computers and IT": (
        "computer",
        "laptop",
        "tablet",
        "ipad",
        "pc",
        "it",
        "digital",
        "wifi",
        "internet",
        "software",
        "website",
        "printer",
        "phone",
        "device",
        "technology",
    ),
    "furniture and equipment": (
        "furniture",
        "table",
        "chair",
        "sofa",
        "bed",
        "wardrobe",
        "equipment",
        "tools",
        "kit",
        "appliance",
        "fridge",
        "freezer",
        "cooker",
        "shelves",
    ),
    "food": (
        "food",
        "meal",
        "larder",
        "pantry",
        "parcel",
        "tins",
        "groceries",
        "breakfast",
        "lunch",
        "cooking",
        "cookery",
        "catering",
        "fruit",
        "vegetables",
    ),
    "clothing and uniforms": (
        "clothing",
        "clothes",
        "uniform",
        "coat",
        "shoes",
        "boots",
        "kit",
        "hi-vis",
        "ppe",
        "workwear",
    ),
    "building and repairs": (
        "repair",
        "repairs",
        "decorating",
        "painting",
        "paint",
        "refurbish",
        "renovation",
        "roof",
        "plumbing",
        "electrical",
        "joinery",
        "builder",
        "construction",
        "trades",
        "fencing",
        "maintenance",
    ),
    "gardens and green spaces": (
        "garden",
        "gardening",
        "planting",
        "trees",
        "hedge",
        "allotment",
        "park",
        "green",
        "litter",
        "clean-up",
        "pick",
        "nature",
        "wildlife",
        "pond",
        "path",
        "landscaping",
    ),
    "energy and environment": (
        "energy",
        "solar",
        "insulation",
        "carbon",
        "recycling",
        "waste",
        "environment",
        "environmental",
        "climate",
        "emissions",
        "heating",
        "efficiency",
    ),
    "publicity and advertising": (
        "advertising",
        "advert",
        "publicity",
        "poster",
        "billboard",
        "banner",
        "leaflet",
        "printing",
        "print",
        "social",
        "media",
        "promote",
        "promotion",
        "newsletter",
        "radio",
        "screen",
        "display",
    ),
    "funding": (
        "funding",
        "fund",
        "grant",
        "donation",
        "donate",
        "sponsorship",
        "sponsor",
        "money",
        "cash",
        "pay",
        "cost",
        "costs",
    ),
    "sport and activity": (
        "sport",
        "football",
        "cricket",
        "club",
        "pitch",
        "gym",
        "exercise",
        "fitness",
        "walking",
        "swimming",
        "team",
    ),
    "young people": (
        "youth",
        "young",
        "children",
        "kids",
        "school",
        "pupils",
        "students",
        "teenagers",
        "care",
        "leavers",
        "nursery",
    ),
    "older and vulnerable people": (
        "older",
        "elderly",
        "pensioners",
        "isolated",
        "lonely",
        "loneliness",
        "carers",
        "dementia",
        "disabled",
        "disability",
        "wheelchair",
        "vulnerable",
    ),
}

MEASURE_CATEGORIES: dict[str, str] = {
    "volunteering-hours": "volunteering",
    "expert-hours": "expertise",
    "goods-donated": "goods",
    "premises-provided": "premises",
    "advertising-provided": "advertising",
    "transport-provided": "transport",
    "funding-donated": "funding",
    "work-placement-weeks": "skills-and-jobs",
    "apprenticeship-weeks": "skills-and-jobs",
    "carbon-saved": "environment",
}
"""Where a measure code implies a category (unknown codes are simply ignored)."""

_STEM_CONCEPTS: dict[str, set[str]] = {}
for _label, _signals in CONCEPTS.items():
    for _signal in _signals:
        for _w in words(_signal):
            _STEM_CONCEPTS.setdefault(_w, set()).add(_label)


@functools.lru_cache(maxsize=4096)
def concepts_in(text: str) -> frozenset[str]:
    """Concept labels whose signal words occur in a text.

    Args:
        text: any text.

    Returns:
        The labels of the concepts mentioned.
    """
    found: set[str] = set()
    for w in words(text):
        found |= _STEM_CONCEPTS.get(w, set())
    return frozenset(found)


def concepts_of(stems: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The words of a text that signal each concept.

    Args:
        stems: the text's ``surface_words`` (each content stem and its first surface form).

    Returns:
        ``{concept label: {stem: word as written (lower case)}}``, for the concepts mentioned.
    """
    found: dict[str, dict[str, str]] = {}
    # Most of a text's words signal no concept: those that do are found by a set
    # intersection, then taken in the text's order (the words a reason names come first).
    signals = stems.keys() & _STEM_CONCEPTS.keys()
    if signals:
        for word_stem in [s for s in stems if s in signals]:
            for label in _STEM_CONCEPTS[word_stem]:
                found.setdefault(label, {})[word_stem] = stems[word_stem]
    return found
