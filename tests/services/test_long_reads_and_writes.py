"""Long reads never keep other workers from writing.

On SQLite a writing transaction holds the database's only write lock from its first
statement, so a worker that reads every listing inside one (building its first matcher,
rebuilding its search index) made every other write wait for as long as the read took,
half a minute to a minute at 100,000 items, and fail past the busy timeout. These tests
have another worker write, with a short busy timeout, at every read such a job makes.

They commit for real (a database of their own, SQLite or PostgreSQL as the suite runs),
because the writes must come from another connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import sessionmaker

import matching
from marketplace.clock import council_today
from marketplace.db import make_engine, make_session_factory, writes_intended
from marketplace.models import ListingEmbedding
from marketplace.search.sync import SearchSync
from marketplace.services import needs, offers
from marketplace.suggestions.engine import SuggestionEngine
from search_index import SearchQuery, Viewer
from tests.committing import verified_user
from tests.conftest import _officer, need_fields, offer_fields


@pytest.fixture
def listings(own_factory: sessionmaker) -> int:
    """A verified group's two needs and a verified supplier's offer; the officer's id."""
    today = council_today()
    with own_factory() as session:
        officer = _officer(session)
        people = {role: verified_user(session, role, 1) for role in ("community", "supplier")}
        for title in ("Minibus to the lunch club on Thursdays", "Folding tables for the scout hut"):
            needs.post_need(session, people["community"], need_fields(title=title), today)
        offers.post_offer(
            session,
            people["supplier"],
            offer_fields(title="Minibus and driver on Thursdays", category="transport", districts=["County-wide"]),
            today,
        )
        session.commit()
        return officer.id


@pytest.fixture
def another_worker(own_database_url: str) -> Iterator[Callable[[str], None]]:
    """Writes as another worker would, failing at once (200 ms) where it would have to wait."""
    engine = make_engine(own_database_url)
    writes: list[str] = []

    def write(while_: str) -> None:
        with make_session_factory(engine)() as session:
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text("PRAGMA busy_timeout = 200"))  # not the 30 s a request waits
            else:
                session.execute(text("SET lock_timeout = '200ms'"))
            session.execute(text("UPDATE user_account SET name = name WHERE email = 'community1@example.org'"))
            session.commit()
        writes.append(while_)

    write.writes = writes  # type: ignore[attr-defined]
    yield write
    engine.dispose()


def _writes_at_every_read(factory: sessionmaker, write: Callable[[str], None]):
    """While in effect, another worker writes before every read this factory's engine makes
    (but those of a transaction that declared it will write, which may hold the lock)."""

    def before(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not writes_intended():
            write("reading " + re.search(r"FROM (\w+)", statement).group(1))

    bind = factory.kw["bind"]

    class Hooked:
        def __enter__(self):
            event.listen(bind, "before_cursor_execute", before)

        def __exit__(self, *exc):
            event.remove(bind, "before_cursor_execute", before)

    return Hooked()


class _WritesWhileEncoding(matching.LazySemanticEncoder):
    """The configured model, which before each encoding has another worker write to the database."""

    def __init__(self, write: Callable[[], None]) -> None:
        super().__init__(matching.DEFAULT_MODEL, None)
        self.write = write

    def encode(self, texts, progress=None, show_progress_bar=False):
        self.write()
        return super().encode(texts, progress=progress, show_progress_bar=show_progress_bar)


def test_other_workers_can_write_while_the_first_matcher_is_built(own_factory, listings, another_worker):
    engine = SuggestionEngine(own_factory, encoder=_WritesWhileEncoding(lambda: another_worker("encoding")))
    with _writes_at_every_read(own_factory, another_worker):
        engine.catch_up()
    # Tried while reading the items and their vectors, and while encoding: none waited.
    assert {"reading need", "reading offer", "reading listing_embedding", "encoding"} <= set(another_worker.writes)
    with own_factory() as session:  # the vectors encoded were stored
        assert session.scalar(select(func.count()).select_from(ListingEmbedding)) == 3


def test_other_workers_can_write_while_a_search_index_is_rebuilt(own_factory, listings, another_worker, tmp_path):
    # A server starting on a new or lost index folder rebuilds it from every listing.
    sync = SearchSync(own_factory, tmp_path / "index", background=False, replica="this-server")
    with _writes_at_every_read(own_factory, another_worker):
        sync.start()
    assert {"reading need", "reading offer"} <= set(another_worker.writes)
    results = sync.index.search(SearchQuery(q="minibus"), Viewer(is_officer=True))
    assert {(hit.kind, hit.title) for hit in results.hits} == {
        ("need", "Minibus to the lunch club on Thursdays"),
        ("offer", "Minibus and driver on Thursdays"),
    }
    sync.stop()
