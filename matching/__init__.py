"""Hybrid need/offer matching: pure library, no Flask, no SQLAlchemy, no ``marketplace``.

Build a :class:`Matcher` from documents and their stored vectors, keep it in step with
``upsert_*``/``remove_*``, and ask it for suggestions both ways. Evaluation lives in :mod:`matching.evaluation`
(``run_evaluation``, ``format_table``). See ``docs/MATCHING.md``.
"""

from matching import snapshot
from matching.documents import COUNTY_WIDE, Need, Offer, item_text
from matching.encoders import (
    DEFAULT_MODEL,
    MODEL_ENV,
    LazySemanticEncoder,
    LexicalEncoder,
    ModelUnavailable,
    SemanticEncoder,
    lazy_semantic_encoder,
    load_semantic_encoder,
)
from matching.matcher import Matcher, Suggestion, Suggestions, embed_items
from matching.scoring import MatchParams, load_params

__all__ = [
    "COUNTY_WIDE",
    "DEFAULT_MODEL",
    "MODEL_ENV",
    "LazySemanticEncoder",
    "LexicalEncoder",
    "MatchParams",
    "Matcher",
    "ModelUnavailable",
    "Need",
    "Offer",
    "SemanticEncoder",
    "Suggestion",
    "Suggestions",
    "embed_items",
    "item_text",
    "lazy_semantic_encoder",
    "load_params",
    "load_semantic_encoder",
    "snapshot",
]
