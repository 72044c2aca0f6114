"""Highlighted, HTML-escaped snippets of matching text.

Whoosh's highlighter re-runs the whole analysis chain on every word of every hit; here
each distinct word is analysed once (memoised) and matching is a set lookup, which
makes a page of twenty snippets cost well under a millisecond.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from search_index.schema import StemmingAnalyzer

SNIPPET_CHARS = 200
_LEAD = 60  # characters of context before the first match
# Same word pattern as Whoosh's RegexTokenizer default, so words split identically.
_WORD = re.compile(r"\w+(?:\.?\w+)*")
_ANALYZER = StemmingAnalyzer()
_indexed_form = _ANALYZER.form
_related_forms = _ANALYZER.related_forms


@lru_cache(maxsize=65_536)
def _is_match(word: str, terms: frozenset[str]) -> bool:
    # A word also matches through the words it is indexed as ("Boardroom" for "room").
    return _indexed_form(word) in terms or not terms.isdisjoint(_related_forms(word))


def _matches(text: str, terms: frozenset[str], within: int | None = None) -> list[tuple[int, int]]:
    # One cached answer per word and query: a page's twenty snippets and titles ask about
    # the same few hundred words (half of the search page's own time before).
    spans: list[tuple[int, int]] = []
    for m in _WORD.finditer(text):
        if within is not None and spans and m.start() >= spans[0][0] + within:
            break  # past any text shown after the first match: the rest is never rendered
        if _is_match(m.group(0), terms):
            spans.append(m.span())
    return spans


def _render(text: str, spans: list[tuple[int, int]], start: int, end: int) -> str:
    out, position = [], start
    for left, right in spans:
        if left < start or right > end:
            continue
        out.append(html.escape(text[position:left]))
        out.append("<mark>" + html.escape(text[left:right]) + "</mark>")
        position = right
    out.append(html.escape(text[position:end]))
    return "".join(out)


def snippet(text: str, terms: frozenset[str]) -> str:
    """Build a short HTML snippet of a text around the query's words.

    Args:
        text: The stored text.
        terms: Indexed (analysed) forms of the query's words, e.g. ``{"volunt"}``,
            so "volunteering" is marked for a search for "volunteers".

    Returns:
        Escaped HTML with ``<mark>`` around matches, or the escaped start of the text
        when nothing matches; `` …`` marks a cut.
    """
    spans = _matches(text, terms, SNIPPET_CHARS) if terms else []
    start = 0
    if spans and spans[0][0] > _LEAD and len(text) > SNIPPET_CHARS:
        start = text.rfind(" ", 0, spans[0][0] - _LEAD) + 1
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    body = _render(text, spans, start, end)
    return ("… " if start else "") + body + (" …" if end < len(text) else "")


def highlight_whole(text: str, terms: frozenset[str]) -> str:
    """Escape a short text (a title) and mark the query's words in it.

    Args:
        text: The text.
        terms: Indexed forms of the query's words.

    Returns:
        Escaped HTML with ``<mark>`` around matches.
    """
    return _render(text, _matches(text, terms) if terms else [], 0, len(text))
