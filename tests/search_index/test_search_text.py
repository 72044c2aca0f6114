"""Text matching: stemming, accents, phrases, exclusion, OR, snippets, suggestions."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search_index import SearchQuery


def keys(results):
    return {f"{hit.kind}:{hit.id}" for hit in results.hits}


@pytest.fixture
def corpus(index, make_item):
    items = {
        "volunteering": make_item(
            title="Volunteering day at the community garden",
            description="We would love a team to help with volunteering in the garden.",
        ),
        "cafe": make_item(title="Chairs for our café", description="Our dementia café needs twenty chairs."),
        "office": make_item(title="Office space wanted", description="A small office with space for four desks."),
        "space_office": make_item(title="Garden space", description="Space near the office for a vegetable patch."),
        "van": make_item(kind="offer", title="Van and driver", description="A van for deliveries."),
        "minibus": make_item(title="Minibus for trips", description="Trips to the seaside for older people."),
        "laptops": make_item(title="Laptops for the homework club", description="Laptops for the school."),
        "laptops_home": make_item(title="Laptops for families", description="Laptops to use at home."),
    }
    index.apply(items.values())
    return {name: item.key for name, item in items.items()}


def test_stemming_finds_other_forms_of_a_word(index, corpus):
    assert keys(index.search(SearchQuery(q="volunteers"))) == {corpus["volunteering"]}


def test_accent_folding_both_ways(index, corpus):
    assert keys(index.search(SearchQuery(q="cafe"))) == {corpus["cafe"]}
    assert keys(index.search(SearchQuery(q="CAFÉ"))) == {corpus["cafe"]}


def test_words_must_all_match(index, corpus):
    assert keys(index.search(SearchQuery(q="office space"))) == {corpus["office"], corpus["space_office"]}


def test_phrase_matches_only_adjacent_words(index, corpus):
    assert keys(index.search(SearchQuery(q='"office space"'))) == {corpus["office"]}


def test_minus_excludes_a_word(index, corpus):
    assert keys(index.search(SearchQuery(q="laptops -school"))) == {corpus["laptops_home"]}


def test_or_between_words(index, corpus):
    assert keys(index.search(SearchQuery(q="van OR minibus"))) == {corpus["van"], corpus["minibus"]}


def test_title_matches_rank_above_description_matches(index, corpus):
    hits = index.search(SearchQuery(q="office")).hits
    assert f"{hits[0].kind}:{hits[0].id}" == corpus["office"]
    assert hits[0].score > hits[1].score


def test_snippet_escapes_html_and_keeps_marks(index, make_item):
    item = make_item(
        title="Help with <b>bold</b> plans",
        description='Please <script>alert("x")</script> help our volunteers & friends.',
    )
    index.apply([item])
    (hit,) = index.search(SearchQuery(q="volunteer")).hits
    assert "<script>" not in hit.snippet
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in hit.snippet
    assert "<mark>volunteers</mark>" in hit.snippet
    assert "&amp; friends" in hit.snippet
    assert hit.title_html == "Help with &lt;b&gt;bold&lt;/b&gt; plans"
    assert hit.title == "Help with <b>bold</b> plans"


def test_title_highlight(index, corpus):
    (hit,) = index.search(SearchQuery(q="minibus")).hits
    assert hit.title_html == "<mark>Minibus</mark> for trips"


def test_did_you_mean_for_a_misspelling(index, corpus):
    results = index.search(SearchQuery(q="minibsu"))
    assert results.total == 0
    assert results.suggestion == "minibus"
    assert index.search(SearchQuery(q="offcie space")).suggestion == "office space"


def test_no_suggestion_when_the_query_finds_enough(index, corpus):
    assert index.search(SearchQuery(q="laptops")).suggestion is None
    assert index.search(SearchQuery(q="qqqzzzxxx")).suggestion is None


HOSTILE = [
    '"unbalanced',
    'office "space',
    "((garden",
    "garden))",
    "AND",
    "OR",
    "NOT",
    "NOT NOT van",
    "van AND",
    "OR OR OR",
    "ANDNOT",
    "garden ANDMAYBE van",
    "*",
    "van*",
    "?",
    "title:",
    "title:van",
    "status:withdrawn",
    "kind:offer AND status:withdrawn",
    "[a TO z]",
    "{a TO}",
    "van^100",
    "-",
    "--",
    "-van",
    "+",
    "+van -",
    "x" * 10_000,
    "garden " * 5_000,
    "😀🎉 volunteers 🙈",
    "\x00",
    "van\x00driver",
    "'; DROP TABLE needs; --",
    "1=1 OR 1=1",
    "<script>alert(1)</script>",
    "<mark>van</mark>",
    "&amp; &lt;",
    "\\",
    "\\\\\\",
    "%s %d %n",
    "{{ config }}",
    "\u202egarden\u202c",
    "\ufeffvan",
    "   ",
    "",
    "ﬁnance",
    "İstanbul ß straße",
]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_query_strings_never_raise(index, corpus, q):
    for sort in ("relevance", "newest"):
        results = index.search(SearchQuery(q=q, sort=sort))
        assert results.total >= 0
        assert len(results.query) <= 256
        for hit in results.hits:
            assert "<script" not in hit.snippet and "<script" not in hit.title_html


QUERY_ALPHABET = st.sampled_from(
    [*"abcvanedrOTNAD\"()[]{}-+*?:^~\\/'<>&;% \x00\t\n", "AND", "OR", "NOT", "é", "😀", "title:", "status:"]
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(st.text(max_size=60), st.lists(QUERY_ALPHABET, max_size=25).map("".join)))
def test_any_query_string_returns_results(index, corpus, q):
    results = index.search(SearchQuery(q=q))
    assert 0 <= len(results.hits) <= results.total <= len(corpus)
