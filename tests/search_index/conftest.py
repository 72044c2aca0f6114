"""Fixtures for search_index tests: an item factory and a real index in tmp_path."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from search_index import IndexedItem, SearchIndex

_ids = itertools.count(1)
BASE_TIME = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_item():
    """Return a callable building an IndexedItem with sensible defaults."""

    def make(**overrides) -> IndexedItem:
        number = overrides.pop("id", None) or next(_ids)
        values = {
            "kind": "need",
            "id": number,
            "title": f"Item {number}",
            "description": "A community group would welcome some help.",
            "category": "other",
            "districts": ("Blaby",),
            "outcomes": ("great-communities",),
            "status": "open",
            "organisation_id": 1,
            "organisation_name": "Blaby Lunch Club",
            "organisation_verified": True,
            "created_at": BASE_TIME + timedelta(minutes=number),
            "updated_at": BASE_TIME + timedelta(minutes=number),
        }
        values.update(overrides)
        return IndexedItem(**values)

    return make


@pytest.fixture
def index(tmp_path) -> SearchIndex:
    """An empty index in a temporary directory."""
    ix = SearchIndex(tmp_path / "search")
    yield ix
    ix.close()
