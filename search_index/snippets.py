"""Highlighted, HTML-escaped snippets of matching text."""

from __future__ import annotations

import html

from whoosh import highlight
from whoosh.analysis import Analyzer

SNIPPET_CHARS = 200


class _MarkFormatter(highlight.Formatter):
    """Escapes all text and wraps matched words in ``<mark>``."""

    between = " … "

    def _text(self, text: str) -> str:
        return html.escape(text)

    def format_token(self, text: str, token: object, replace: bool = False) -> str:
        return "<mark>" + html.escape(highlight.get_text(text, token, replace)) + "</mark>"


_FORMATTER = _MarkFormatter()
_CONTEXT = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
_WHOLE = highlight.WholeFragmenter(charlimit=None)


def snippet(text: str, terms: frozenset[str], analyzer: Analyzer) -> str:
    """Build a short HTML snippet of a text around the query's words.

    Args:
        text: The stored text.
        terms: Indexed (analysed) forms of the query's words in this text's field.
        analyzer: The field's analyser, so "volunteering" is marked for "volunteers".

    Returns:
        Escaped HTML with ``<mark>`` around matches, or the escaped start of the text
        when nothing matches.
    """
    if terms:
        marked = highlight.highlight(text, terms, analyzer, _CONTEXT, _FORMATTER, top=2)
        if marked:
            return marked
    if len(text) <= SNIPPET_CHARS:
        return html.escape(text)
    cut = text[:SNIPPET_CHARS].rsplit(" ", 1)[0]
    return html.escape(cut) + " …"


def highlight_whole(text: str, terms: frozenset[str], analyzer: Analyzer) -> str:
    """Escape a short text (a title) and mark the query's words in it.

    Args:
        text: The text.
        terms: Indexed forms of the query's words in this field.
        analyzer: The field's analyser.

    Returns:
        Escaped HTML with ``<mark>`` around matches.
    """
    if terms:
        marked = highlight.highlight(text, terms, analyzer, _WHOLE, _FORMATTER, top=1)
        if marked:
            return marked
    return html.escape(text)
