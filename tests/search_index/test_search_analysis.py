"""The fast analyser gives exactly the tokens of the equivalent Whoosh filter chain."""

from __future__ import annotations

import pickle

import pytest

from search_index.schema import StemmingAnalyzer, _standard_chain
from search_index.snippets import snippet

TEXTS = [
    "The café of the naïve Volunteers, e.g. 3.5 x",
    "",
    "a an the",
    "Ünïcode ﬁnance straße İstanbul 😀 of OF Of",
    "the the cat",
    "Volunteering volunteers VOLUNTEER",
    "<script>alert('x')</script> & co",
]
OPTIONS = [
    {},
    {"positions": True, "chars": True},
    {"removestops": False, "positions": True},
    {"positions": True, "start_pos": 5, "start_char": 3, "chars": True},
    {"tokenize": False},
    {"mode": "query", "positions": True},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_same_tokens_as_whoosh_chain(options):
    fast, chain = StemmingAnalyzer(), _standard_chain()

    def tokens(analyzer, text):
        return [
            (t.text, getattr(t, "pos", None), getattr(t, "startchar", None), getattr(t, "endchar", None), t.stopped)
            for t in analyzer(text, **options)
        ]

    for text in TEXTS:
        assert tokens(fast, text) == tokens(chain, text)


def test_analyzer_pickles_small():
    analyzer = StemmingAnalyzer()
    analyzer.form("volunteers")
    assert len(pickle.dumps(analyzer)) < 200
    assert pickle.loads(pickle.dumps(analyzer)) == analyzer


def test_long_snippet_is_cut_around_the_first_match():
    text = "Lorem ipsum dolor sit amet. " * 20 + "We need volunteers. " + "More filler text here. " * 20
    html = snippet(text, frozenset({"volunt"}))
    assert html.startswith("… ") and html.endswith(" …")
    assert "<mark>volunteers</mark>" in html
    assert len(html) < 260
