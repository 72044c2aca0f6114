"""The index's files are read in place: searches find what Whoosh's own reader finds, without a copy."""

from __future__ import annotations

import tracemalloc

import pytest
from whoosh import index as whoosh_index

from search_index import SearchIndex, SearchQuery, Viewer
from search_index import storage as generations

OFFICER = Viewer(is_officer=True)
QUERIES = [
    SearchQuery(q="minibus"),
    SearchQuery(q="garden volunteers", sort="relevance"),
    SearchQuery(q="garden", category="environment"),
    SearchQuery(q="paint OR printing", per_page=50),
    SearchQuery(q="gardn"),  # a "did you mean", from the index's own words
    SearchQuery(status="*", per_page=100),
]
TEXTS = [
    ("Minibus to the lunch club", "transport", "Our members need a minibus on Tuesdays to reach the hall."),
    ("Garden volunteers wanted", "environment", "Volunteers to dig the community garden and plant trees."),
    ("Printing for our newsletter", "goods", "We print a newsletter each month and need paint for the hall."),
    ("Spare laptops", "goods", "Laptops for the homework club, wiped and ready."),
]


def _items(make_item, count: int):
    for n in range(count):
        title, category, description = TEXTS[n % len(TEXTS)]
        yield make_item(title=f"{title} {n}", category=category, description=f"{description} Number {n}.")


def _answers(index: SearchIndex) -> list[tuple]:
    out = []
    for query in QUERIES:
        results = index.search(query, OFFICER)
        hits = [(h.kind, h.id, h.score, h.title_html, h.snippet) for h in results.hits]
        out.append((results.total, hits, results.suggestion, results.facets))
    return out


def _whoosh_answers(index: SearchIndex, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """The same searches through Whoosh's own file reading (which copies each compound segment)."""
    with monkeypatch.context() as patched:
        patched.setattr("search_index.index.open_generation", lambda generation: whoosh_index.open_dir(str(generation)))
        index.close()
        try:
            return _answers(index)
        finally:
            index.close()


def test_searches_find_what_whoosh_itself_reads(tmp_path, make_item, monkeypatch):
    index = SearchIndex(tmp_path / "search")
    index.rebuild(_items(make_item, 400))
    for start in range(0, 30, 10):  # small segments beside the big one, and a deletion
        index.apply(list(_items(make_item, 10)), deletes=[f"need:{start + 1}"])
    generation = generations.current_generation(index.path)
    assert generation is not None
    # What every index written so far holds: segments in compound files (one file each).
    assert list(generation.glob("*.seg"))

    assert _answers(index) == _whoosh_answers(index, monkeypatch)
    index.close()


def test_an_index_is_read_without_copying_its_files_into_memory(tmp_path, make_item):
    index = SearchIndex(tmp_path / "search")
    index.rebuild(_items(make_item, 3000))
    generation = generations.current_generation(index.path)
    assert generation is not None
    on_disk = sum(p.stat().st_size for p in generation.iterdir())
    index.close()

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        reopened = SearchIndex(tmp_path / "search", create=False)
        assert reopened.search(SearchQuery(q="garden")).total == 750
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # Whoosh's own reader held a copy of each compound segment (the whole index); what a
    # process holds now is its masks and columns, a small share of the files.
    assert on_disk > 1_000_000
    assert held < on_disk / 3, (held, on_disk)
    reopened.close()


def test_writes_and_merges_read_the_segments_they_merge(tmp_path, make_item):
    index = SearchIndex(tmp_path / "search")
    items = list(_items(make_item, 60))
    for start in range(0, 60, 3):  # enough small commits for Whoosh to merge segments
        index.apply(items[start : start + 3])
    index.apply(deletes=[items[0].key])
    assert index.search(SearchQuery(status="*", per_page=100), OFFICER).total == 59
    assert index.search(SearchQuery(q="laptops")).total == 15
    assert index.check(items[1:]).ok
    index.close()
