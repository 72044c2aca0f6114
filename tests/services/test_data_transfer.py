"""Whole-database export and import: a full round trip through a new, empty database.

Each test database here is a real, separate database (a SQLite file, or a new PostgreSQL
database when MARKETPLACE_TEST_DATABASE_URL is set), because export and import work on
committed data and on whole databases.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Column, Engine, ForeignKey, Integer, MetaData, String, Table, func, inspect, select, text
from sqlalchemy.orm import Session

from marketplace.cli import Context, main
from marketplace.clock import council_today
from marketplace.db import Base, make_engine, make_session_factory
from marketplace.demo import load_demo_data
from marketplace.models import Need, Pledge, PledgeStatus, User
from marketplace.schema import head_revision, upgrade
from marketplace.search import replicas
from marketplace.services import (
    account_links,
    accounts,
    evidence,
    measures,
    messages,
    needs,
    offer_requests,
    offers,
    saved_searches,
    site_pages,
    teams,
)
from marketplace.services.account_links import LinkSettings
from marketplace.services.data_transfer import (
    MalformedExport,
    RevisionMismatch,
    TargetNotEmpty,
    _pk_order,
    export_database,
    import_database,
)
from marketplace.services.reference import seed_reference_data
from marketplace.suggestions.documents import need_document
from marketplace.suggestions.engine import SuggestionEngine
from tests.conftest import POSTGRES_ENV, _create_postgres_database, need_fields, offer_fields

# Text that trips naive encoders: quotes, backslashes, a newline, a line separator, non-ASCII.
AWKWARD = 'Café "quoted" \\ back\nslash \u2028 line sep, emoji 🌳, Łódź and naïve — dash'


@pytest.fixture(scope="module")
def new_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], str]]:
    """Makes new, empty databases (dropped at the end of the module)."""
    drops: list[Callable[[], None]] = []
    counter = iter(range(1000))

    def make() -> str:
        base = os.environ.get(POSTGRES_ENV)
        if base:
            url, drop = _create_postgres_database(base)
            drops.append(drop)
            return url
        return f"sqlite:///{tmp_path_factory.mktemp('transfer') / f'db{next(counter)}.sqlite3'}"

    yield make
    for drop in drops:
        drop()


def _fill(engine: Engine, today: date) -> None:
    """Every kind of row: demo data through the services, plus tokens, a new proxy version and vectors."""
    factory = make_session_factory(engine)
    with factory() as session:
        seed_reference_data(session)
        load_demo_data(session, today, progress=False)
        officer = session.scalar(select(User).where(User.email == "officer@example.gov.uk"))
        community = session.scalar(select(User).where(User.email == "community@example.org"))
        supplier = session.scalar(select(User).where(User.email == "supplier@example.com"))
        assert officer is not None and community is not None and supplier is not None
        accounts.create_token(session, community, "laptop")
        measures.update_measure(session, officer, "volunteering-hours", {"proxy_value": "17.15"})
        approved = session.scalar(select(Pledge).where(Pledge.status == PledgeStatus.APPROVED).limit(1))
        assert approved is not None, "the demo should have an approved pledge"
        pledger = session.scalar(select(User).where(User.organisation_id == approved.supplier_id).limit(1))
        upload = evidence.Upload("sign-in.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
        evidence.add_evidence(session, pledger, approved.id, upload, Path(tempfile.mkdtemp()))
        urn = needs.post_need(session, community, need_fields(title="Tea urn for the Café", description=AWKWARD), today)
        room = offers.post_offer(session, supplier, offer_fields(), today)  # the demo offers name no outcomes
        # Requests, messages, invitations and requests to join (issue 14).
        asked = offer_requests.ask_for_offer(session, community, room.id, {"need_id": urn.id, "message": AWKWARD})
        talk = messages.conversation(session, community, request_id=asked.id)
        messages.post_message(session, community, talk, "Café on Tuesdays? — thank you")
        links = LinkSettings(secret_key="transfer test", base_url="http://localhost")
        teams.invite(session, links, community, community.organisation_id, "new.colleague@example.org")
        saved_searches.save_search(session, community, {"q": 'Café "quoted" \\ 🌳 Łódź', "frequency": "weekly"})
        account_links.start_registration(
            session,
            links,
            accounts.Registration(
                name="Would Join", email="would.join@example.org", password="Quiet lantern orchard 47", role="community",
                password_confirmation="Quiet lantern orchard 47", organisation_name=community.organisation.name,
            ),
        )  # fmt: skip
        site_pages.send_feedback(session, "satisfied", "Quick to find a room", "/needs")
        site_pages.save_page(session, officer, "help", "## Call us\n\nRing the social value team.")
        session.commit()
        # Real vectors from the real model, for a few needs only: encoding all 90 would take long.
        few = session.scalars(select(Need).order_by(Need.id).limit(3)).all()
        SuggestionEngine(factory).store_vectors(session, "need", [need_document(need) for need in few])
        session.commit()
        # An app server's search index replica, as it records itself before its first rebuild.
        replicas.register(session, "app-1:/srv/marketplace/search-index")
        session.commit()


@pytest.fixture(scope="module")
def source(new_database: Callable[[], str]) -> Iterator[Engine]:
    """A database with rows in every table."""
    engine = make_engine(new_database())
    upgrade(engine)
    _fill(engine, council_today())
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def exported(source: Engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "marketplace.json"
    export_database(source, path)
    return path


@pytest.fixture
def target(new_database: Callable[[], str]) -> Iterator[Engine]:
    """A new, empty database."""
    engine = make_engine(new_database())
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def untouched(new_database: Callable[[], str]) -> Iterator[Engine]:
    """One empty database for the refusals: each checks that it is still empty afterwards."""
    engine = make_engine(new_database())
    yield engine
    engine.dispose()


def _assert_blank(engine: Engine) -> None:
    assert inspect(engine).get_table_names() == []  # not even the schema was created


def _table_contents(engine: Engine) -> dict[str, list[tuple]]:
    contents = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            query = select(*table.columns).order_by(*_pk_order(table, connection))
            contents[table.name] = [tuple(row) for row in connection.execute(query)]
    return contents


def _sql_nulls(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            f"{table.name}.{column.name}": connection.scalar(
                select(func.count()).select_from(table).where(column.is_(None))
            )
            for table in Base.metadata.sorted_tables
            for column in table.columns
            if column.nullable
        }


def test_every_table_round_trips_and_the_second_export_is_the_same_file(
    source: Engine, exported: Path, target: Engine, tmp_path: Path
):
    before = _table_contents(source)
    empty = [name for name, rows in before.items() if not rows]
    assert empty == [], f"the source database should have rows in every table; empty: {empty}"

    summary = import_database(target, exported)

    assert summary.revision == head_revision()
    assert summary.rows == {name: len(rows) for name, rows in before.items()}
    after = _table_contents(target)
    for name in before:
        assert after[name] == before[name], f"table {name} differs after import"
    # Read through the models a JSON null and an SQL NULL look alike; in the tables they must not differ.
    assert _sql_nulls(target) == _sql_nulls(source)
    again = tmp_path / "again.json"
    export_database(target, again)
    assert again.read_bytes() == exported.read_bytes()

    # The imported database works: the awkward text is intact and a new need gets a fresh id.
    factory = make_session_factory(target)
    with factory() as session:
        assert session.scalar(select(Need).where(Need.title == "Tea urn for the Café")).description == AWKWARD
        highest = session.scalar(select(func.max(Need.id)))
        community = session.scalar(select(User).where(User.email == "community@example.org"))
        need = needs.post_need(session, community, need_fields(title="After the import"), council_today())
        session.commit()
        assert need.id == highest + 1
        assert accounts.authenticate(session, "community@example.org", "demo-marketplace-2026") is not None


def test_the_file_is_utf8_json_with_vectors_in_base64_and_stable_formats(source: Engine, exported: Path):
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["alembic_revision"] == head_revision()
    assert list(document["tables"]) == sorted(Base.metadata.tables)
    assert "🌳" in exported.read_text(encoding="utf-8")  # written as UTF-8, not \\u escapes
    vectors = document["tables"]["listing_embedding"]
    with source.connect() as connection:
        stored = connection.execute(text("SELECT vector FROM listing_embedding ORDER BY kind, item_id, model")).first()
    assert vectors and vectors[0]["vector"].encode() == __import__("base64").b64encode(bytes(stored[0]))
    contract = document["tables"]["contract"][0]
    assert contract["value"] == "1250000.00"
    assert contract["created_at"].endswith("+00:00") and len(contract["created_at"]) == 32
    need_ids = [row["id"] for row in document["tables"]["need"]]
    assert need_ids == sorted(need_ids)
    for row in document["tables"]["need"]:
        assert list(row) == sorted(row)


def _count_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return sum(connection.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables)


def test_import_refuses_a_database_that_has_data(exported: Path, target: Engine):
    upgrade(target)
    with Session(target) as session:
        seed_reference_data(session)
        session.commit()
    rows = _count_rows(target)

    with pytest.raises(TargetNotEmpty, match="not empty"):
        import_database(target, exported)

    assert _count_rows(target) == rows


def _broken(exported: Path, tmp_path: Path, change: Callable[[list[str]], list[str]]) -> Path:
    lines = exported.read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path / "broken.json"
    path.write_text("".join(change(lines)), encoding="utf-8")
    return path


def _replace_in_row(lines: list[str], table: str, old: str, new: str) -> list[str]:
    start = lines.index(json.dumps(table) + ": [\n")
    lines[start + 1] = lines[start + 1].replace(old, new, 1)
    return lines


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lines: lines[:-40], "incomplete"),
        (lambda lines: ["not json at all\n"], "not a marketplace export"),
        (lambda lines: [*lines[:5], "{broken\n", *lines[5:]], "not valid JSON"),
        (
            lambda lines: _replace_in_row(lines, "need", '"title": ', '"headline": '),
            "missing: title; unknown: headline",
        ),
        (lambda lines: _replace_in_row(lines, "contract", '"value": "1250000.00"', '"value": "lots"'), "value is not"),
        (lambda lines: _replace_in_row(lines, "need", '"assisted": false', '"assisted": "no"'), "true or false"),
        (lambda lines: _replace_in_row(lines, "need", '"status": "', '"status": "ajar-'), "should be one of"),
        (lambda lines: [line for line in lines if not line.startswith('"pledge_event"')], "start a table"),
    ],
    ids=[
        "truncated",
        "not-an-export",
        "bad-json-line",
        "wrong-columns",
        "bad-decimal",
        "bad-boolean",
        "bad-status",
        "no-table",
    ],
)
def test_import_refuses_a_malformed_file_and_writes_nothing(exported, untouched, tmp_path, change, message):
    broken = _broken(exported, tmp_path, change)

    with pytest.raises(MalformedExport, match=message):
        import_database(untouched, broken)

    _assert_blank(untouched)


def test_rows_that_do_not_fit_together_are_refused_and_the_import_rolled_back(exported, untouched, tmp_path):
    # Every row is well formed, but a pledge points at a need that does not exist: the database finds
    # out only when inserting, after the schema and other tables were written in the same transaction.
    broken = _broken(
        exported, tmp_path, lambda lines: _replace_in_row(lines, "pledge", '"need_id": ', '"need_id": 9999')
    )

    with pytest.raises(MalformedExport, match="do not fit together"):
        import_database(untouched, broken)

    _assert_blank(untouched)


def test_import_refuses_a_file_from_another_schema_revision(exported, untouched, tmp_path):
    older = _broken(exported, tmp_path, lambda lines: [lines[0].replace(head_revision(), "0000"), *lines[1:]])

    with pytest.raises(RevisionMismatch, match="0000"):
        import_database(untouched, older)

    _assert_blank(untouched)


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> Result:
    """Run the command in this process, closing its database connections afterwards."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    context = Context()
    try:
        return CliRunner().invoke(main, args, obj=context)
    finally:
        context.engine.dispose()


def test_export_refuses_a_database_without_the_schema_and_leaves_no_file(untouched, tmp_path):
    path = tmp_path / "export.json"

    with pytest.raises(RevisionMismatch, match="marketplace init"):
        export_database(untouched, path)

    assert list(tmp_path.iterdir()) == []
    _assert_blank(untouched)


def test_command_line_round_trip(exported: Path, new_database, tmp_path: Path, monkeypatch):
    env = {"MARKETPLACE_DATABASE_URL": new_database(), "MARKETPLACE_INSTANCE_DIR": str(tmp_path)}

    done = _run(["import", str(exported)], monkeypatch, **env)
    assert done.exit_code == 0, done.output
    assert "Imported" in done.output and "Search index rebuilt" in done.output
    assert (tmp_path / "search-index").is_dir()

    again = _run(["import", str(exported)], monkeypatch, **env)
    assert again.exit_code == 1
    assert "not empty" in again.output

    copy = tmp_path / "copy.json"
    done = _run(["export", str(copy)], monkeypatch, **env)
    assert done.exit_code == 0, done.output
    assert copy.read_bytes() == exported.read_bytes()

    missing = _run(["import", str(tmp_path / "nowhere.json")], monkeypatch, **env)
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_a_table_that_refers_to_itself_round_trips_with_children_before_parents(new_database, tmp_path):
    """No table refers to itself yet; when one does, a child row may come before its parent."""
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    node = Table(
        "test_node",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("name", String(40), nullable=False),
        Column("parent_id", Integer, ForeignKey("test_node.id"), nullable=True),
    )
    rows = [{"id": 1, "name": "child", "parent_id": 3}, {"id": 2, "name": "root", "parent_id": None}]
    rows.append({"id": 3, "name": "middle", "parent_id": 2})
    engines = [make_engine(new_database()) for _ in range(2)]
    try:
        for engine in engines:
            upgrade(engine)
            node.create(engine)
        source, target = engines
        with source.begin() as connection:
            for position in (1, 2, 0):  # parents first, as the application would have added them
                connection.execute(node.insert(), rows[position])
        path = tmp_path / "nodes.json"
        export_database(source, path, metadata=metadata)

        summary = import_database(target, path, metadata=metadata)

        assert summary.rows["test_node"] == 3
        with target.connect() as connection:
            assert [dict(row._mapping) for row in connection.execute(select(node).order_by(node.c.id))] == rows
    finally:
        for engine in engines:
            engine.dispose()
