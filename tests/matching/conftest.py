"""Fixtures for the matching tests: the real embedding model, loaded once per session."""

from __future__ import annotations

import itertools

import pytest

from matching.documents import Need, Offer
from matching.encoders import SemanticEncoder, load_semantic_encoder

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def encoder() -> SemanticEncoder:
    enc = load_semantic_encoder("all-MiniLM-L6-v2")
    assert enc is not None
    return enc


@pytest.fixture
def make_need():
    def make(title: str, description: str = "", **kw) -> Need:
        kw.setdefault("id", f"n{next(_ids)}")
        kw.setdefault("category", "other")
        kw.setdefault("district", "Charnwood")
        return Need(title=title, description=description, **kw)

    return make


@pytest.fixture
def make_offer():
    def make(title: str, description: str = "", **kw) -> Offer:
        kw.setdefault("id", f"o{next(_ids)}")
        kw.setdefault("category", "other")
        kw.setdefault("districts", ("County-wide",))
        return Offer(title=title, description=description, **kw)

    return make
