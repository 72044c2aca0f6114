"""A small, hand-written domain vocabulary: what people call the things they need and offer.

Each concept is a label (used in explanations, e.g. "both about meeting rooms") and the
words that signal it. It is deliberately general — the kinds of help any council's social
value marketplace brokers — and is used to add concept tokens to the lexical features so
that "hall" meets "venue" and "minibus" meets "transport". Categories map to concepts so a
need's category expands its vocabulary too, and measure codes map to categories.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

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

CATEGORY_CONCEPTS: dict[str, tuple[str, ...]] = {
    "premises": ("meeting rooms and venues", "storage space"),
    "advertising": ("publicity and advertising",),
    "goods": ("furniture and equipment", "computers and IT", "food", "clothing and uniforms"),
    "volunteering": ("volunteers",),
    "expertise": ("professional advice", "training and skills"),
    "skills-and-jobs": ("jobs and work experience", "training and skills"),
    "environment": ("gardens and green spaces", "energy and environment"),
    "transport": ("transport and vehicles",),
    "funding": ("funding",),
    "other": (),
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


def concept_tokens(text: str, categories: Iterable[str] = ()) -> str:
    """Concept tokens to append to a text's lexical features (query expansion).

    Args:
        text: the item's text.
        categories: the item's category (and any implied by its measure).

    Returns:
        A space-separated string of tokens such as ``zzconcept3``, one per concept found in
        the text or implied by a category; empty when none apply.
    """
    labels = set(concepts_in(text))
    for category in categories:
        labels |= set(CATEGORY_CONCEPTS.get(category, ()))
    return " ".join(f"zzconcept{_INDEX[label]}" for label in sorted(labels))


_INDEX = {label: i for i, label in enumerate(CONCEPTS)}
