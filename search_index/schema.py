"""The Whoosh schema: fields, analysers, and the mapping from an item to a document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

from whoosh import columns, fields
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.support.charset import accent_map

from search_index.documents import IndexedItem
from search_index.vocabulary import related_words

# Text fields the query parser searches, with their relevance boosts.
TEXT_FIELD_BOOSTS: dict[str, float] = {
    "title": 3.0,
    "description": 1.0,
    # The organisation's name, category, outcomes and districts as words.
    "about": 0.7,
}
# Facet fields: exact values (district names contain spaces, so they are never tokenised).
FACET_FIELDS: tuple[str, ...] = ("kind", "category", "district", "outcome", "status")
# Values of multi-valued facet fields are joined with this separator before indexing.
VALUE_SEPARATOR = "\x1f"
# Highlighting a huge text costs time on every search; descriptions are stored only up to
# this many characters (the whole text is still indexed).
STORED_TEXT_LIMIT = 10_000

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _standard_chain() -> Analyzer:
    return (
        RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map) | StopFilter() | StemFilter(cachesize=100_000)
    )


class StemmingAnalyzer(Analyzer):
    """Whoosh's tokenizer → lowercase → accent folding → stop words → Porter stemmer, fast.

    Gives the same tokens as the equivalent chain of Whoosh filters (positions skip
    stop words, as ``StopFilter`` renumbers them), but analyses each distinct word
    only once (memoised) and yields from a single generator instead of five stacked
    ones, which makes indexing markedly faster.
    """

    _WORD = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE)

    def __init__(self) -> None:
        self._chain = _standard_chain()
        self._memo: dict[str, str | None] = {}
        self._related: dict[str, tuple[str, ...]] = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __getstate__(self) -> dict[str, object]:
        return {}  # pickled into the index's TOC: keep it small and rebuildable

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__init__()

    def form(self, word: str) -> str | None:
        """The indexed form of one word, or None for a stop word.

        Args:
            word: One word as matched by the tokenizer.

        Returns:
            The lower-cased, accent-folded stem.
        """
        memo = self._memo
        if word in memo:
            return memo[word]
        tokens = [t.text for t in self._chain(word)]
        form = tokens[0] if len(tokens) == 1 else None
        if len(memo) < 500_000:
            memo[word] = form
        return form

    def related_forms(self, word: str) -> tuple[str, ...]:
        """The indexed forms of the other words ``word`` is also found by (see ``search_index.vocabulary``).

        Args:
            word: One word as matched by the tokenizer.

        Returns:
            Stems other than the word's own, without stop words or repeats.
        """
        memo = self._related
        if word in memo:
            return memo[word]
        own = self.form(word)
        forms: list[str] = []
        for extra in related_words(word):
            form = self.form(extra)
            if form is not None and form != own and form not in forms:
                forms.append(form)
        if len(memo) < 500_000:
            memo[word] = tuple(forms)
        return memo[word] if word in memo else tuple(forms)

    def __call__(  # noqa: D102 - Whoosh's analyser interface
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        if not tokenize:  # rare (whole-value terms): let the plain chain handle it
            yield from self._chain(
                value,
                positions=positions,
                chars=chars,
                keeporiginal=keeporiginal,
                removestops=removestops,
                start_pos=start_pos,
                start_char=start_char,
                tokenize=False,
                mode=mode,
                **kwargs,
            )
            return
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        form = self.form
        # Only what is indexed is widened (compound parts, broader words): a query stays as typed.
        related = self.related_forms if mode == "index" else None
        # As Whoosh's StopFilter: the first kept word keeps its raw position, later
        # kept words follow it without gaps; stop words keep their raw position.
        kept: int | None = None
        spans = ((m.group(0), m.start(), m.end()) for m in self._WORD.finditer(value))
        for raw, (word, start, end) in enumerate(spans, start_pos):
            text = form(word)
            if text is None:
                if removestops:
                    continue
                token.stopped = True
                text = word.lower()
                pos = raw
            else:
                token.stopped = False
                kept = pos = raw if kept is None else kept + 1
            token.text = text
            token.boost = 1.0
            if keeporiginal:
                token.original = word
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token
            if related is not None and not token.stopped:
                for extra in related(word):
                    # At the same position and characters as the word, like a synonym.
                    token.text = extra
                    yield token


def stemming_analyzer() -> Analyzer:
    """Build the analyser used by all searchable text fields.

    Words are lower-cased, accents are folded ("café" → "cafe"), English stop words are
    dropped and the rest are Porter-stemmed ("volunteers", "volunteering" → "volunt").

    Returns:
        A Whoosh analyser.
    """
    return StemmingAnalyzer()


def _facet_analyzer() -> Analyzer:
    # Keeps each separator-delimited value whole, spaces and case included.
    return RegexTokenizer(r"[^\x1f]+")


def build_schema() -> fields.Schema:
    """Build the schema of a search index.

    Returns:
        The Whoosh schema.
    """
    text = stemming_analyzer()
    facet = _facet_analyzer()
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),
        kind=fields.ID(),
        title=fields.TEXT(analyzer=text, stored=True),
        description=fields.TEXT(analyzer=text, stored=True),
        about=fields.TEXT(analyzer=text),
        category=fields.KEYWORD(analyzer=facet),
        district=fields.KEYWORD(analyzer=facet),
        outcome=fields.KEYWORD(analyzer=facet),
        status=fields.ID(),
        organisation_id=fields.ID(),
        verified=fields.ID(),
        # Column-only fields (not indexed as terms, so cheap to write): microseconds since
        # the epoch (UTC) for sorting by newest and for check(); dates as day ordinals.
        created=fields.COLUMN(columns.NumericColumn("q")),
        updated=fields.COLUMN(columns.NumericColumn("q")),
        needed_by=fields.COLUMN(columns.NumericColumn("i")),
        available_until=fields.COLUMN(columns.NumericColumn("i")),
    )


def timestamp_us(moment: datetime) -> int:
    """Convert a datetime into integer microseconds since the epoch.

    Naive datetimes are taken to be UTC, so the same value always maps to the same
    number whichever way the caller's database returns it.

    Args:
        moment: The datetime to convert.

    Returns:
        Microseconds since 1970-01-01 UTC.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _day(value: date | None) -> int:
    return value.toordinal() if value is not None else 0


def clean_value(value: str) -> str:
    """Strip control characters (including the value separator) from a facet value.

    Args:
        value: A category, district, outcome or status.

    Returns:
        The value without control characters and surrounding spaces.
    """
    return _CONTROL_CHARS.sub("", value).strip()


def _join(values: tuple[str, ...]) -> str:
    return VALUE_SEPARATOR.join(v for v in (clean_value(x) for x in values) if v)


def _words(value: str) -> str:
    # "skills-and-jobs" becomes searchable as "skills and jobs".
    return value.replace("-", " ").replace("_", " ")


def to_document(item: IndexedItem) -> dict[str, object]:
    """Map an item to the keyword arguments of ``writer.update_document``.

    Args:
        item: The item to index.

    Returns:
        A dict of field name to value.
    """
    tags = " ".join(_words(v) for v in (item.category, *item.outcomes, *item.districts))
    doc: dict[str, object] = {
        "key": item.key,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "about": f"{item.organisation_name}\n{tags}",
        "status": clean_value(item.status),
        "organisation_id": str(item.organisation_id),
        "verified": "1" if item.organisation_verified else "0",
        "created": timestamp_us(item.created_at),
        "updated": timestamp_us(item.updated_at),
        "needed_by": _day(item.needed_by),
        "available_until": _day(item.available_until),
    }
    if len(item.description) > STORED_TEXT_LIMIT:
        # Index everything, store (for snippets) only the start.
        doc["description"] = item.description
        doc["_stored_description"] = item.description[:STORED_TEXT_LIMIT]
    for field, value in (
        ("category", _join((item.category,))),
        ("district", _join(item.districts)),
        ("outcome", _join(item.outcomes)),
    ):
        if value:
            doc[field] = value
    return doc
