"""Search finds the words people expect: parts of compound words and broader words of the vocabulary."""

from __future__ import annotations

import pytest

from search_index import SearchQuery
from search_index.schema import StemmingAnalyzer
from search_index.vocabulary import compound_parts, related_words


def keys(results):
    return {f"{hit.kind}:{hit.id}" for hit in results.hits}


@pytest.fixture
def corpus(index, make_item):
    items = {
        "boardroom": make_item(title="Boardroom for our trustees", description="Twelve seats and a screen."),
        "classroom": make_item(title="A classroom on Saturdays", description="For our English conversation group."),
        "laptops": make_item(title="Laptops for the homework club", description="Six for the children to share."),
        "minibus": make_item(kind="offer", title="Minibus and driver", description="Day trips for older people."),
        "broom": make_item(title="A broom and a mop", description="For the kitchen after lunch club."),
        "gardening": make_item(title="Gardening afternoon", description="Weeding the allotments."),
    }
    index.apply(items.values())
    return {name: item.key for name, item in items.items()}


def test_room_finds_the_boardroom_and_the_classroom_but_not_the_broom(index, corpus):
    found = keys(index.search(SearchQuery(q="room")))
    assert corpus["boardroom"] in found and corpus["classroom"] in found
    assert corpus["broom"] not in found


def test_computer_finds_laptops_through_the_vocabulary(index, corpus):
    assert keys(index.search(SearchQuery(q="computer"))) == {corpus["laptops"]}


def test_a_search_is_never_widened_the_other_way(index, corpus):
    """'laptop' finds laptops, not every computer; 'boardroom' finds the boardroom, not every board."""
    assert keys(index.search(SearchQuery(q="laptop"))) == {corpus["laptops"]}
    assert keys(index.search(SearchQuery(q="boardroom"))) == {corpus["boardroom"]}


def test_bus_and_vehicle_find_the_minibus(index, corpus):
    assert keys(index.search(SearchQuery(q="bus"))) == {corpus["minibus"]}
    assert keys(index.search(SearchQuery(q="vehicle"))) == {corpus["minibus"]}


def test_the_snippet_marks_the_word_that_matched(index, corpus):
    hit = next(h for h in index.search(SearchQuery(q="room")).hits if f"{h.kind}:{h.id}" == corpus["boardroom"])
    assert "<mark>Boardroom</mark>" in hit.title_html


def test_compound_parts_need_a_real_first_part():
    assert compound_parts("boardroom") == ("board", "room")
    assert compound_parts("broom") == ()
    assert compound_parts("room") == ()
    assert related_words("Laptops") == ("computer",)


def test_queries_are_analysed_as_typed():
    analyzer = StemmingAnalyzer()
    assert [t.text for t in analyzer("Boardroom laptops", mode="query")] == ["boardroom", "laptop"]
    assert [t.text for t in analyzer("Boardroom laptops", mode="index")] == [
        "boardroom",
        "board",
        "room",
        "laptop",
        "comput",
    ]
