"""Migrations keep data: a database filled at the first migration keeps every row through to head.

Generic on purpose, so each new migration is checked without changing this test: the
tables are reflected at the first revision, filled with rows generated from their column
types (valid enum values taken from the models, foreign keys pointing at real parents,
some nullable columns left empty), upgraded to the newest migration, and every value read
back. The upgraded rows must also be readable through the application's models.

A migration that drops or renames a column on purpose lists it in ``DROPPED_ON_PURPOSE``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
)

from marketplace import models  # noqa: F401  (registers every table on Base.metadata)
from marketplace.cli import Context, main
from marketplace.db import Base, make_engine
from marketplace.schema import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from tests.conftest import POSTGRES_ENV, _create_postgres_database

ROWS_PER_TABLE = 3
# {"table": {"column", ...}} for columns a migration removes on purpose (none so far).
DROPPED_ON_PURPOSE: dict[str, set[str]] = {}


def _first_revision() -> str:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    bases = ScriptDirectory.from_config(config).get_bases()
    assert len(bases) == 1, f"expected one first migration, found {bases}"
    return bases[0]


@pytest.fixture
def new_engine(tmp_path) -> Iterator[Callable[[], Engine]]:
    """Makes engines on new, empty databases (SQLite files, or PostgreSQL databases dropped afterwards)."""
    cleanups: list[Callable[[], None]] = []
    numbers = count()

    def make() -> Engine:
        base = os.environ.get(POSTGRES_ENV)
        if base:
            url, drop = _create_postgres_database(base)
        else:
            url, drop = f"sqlite:///{tmp_path / f'db{next(numbers)}.sqlite3'}", lambda: None
        engine = make_engine(url)
        cleanups.extend([drop, engine.dispose])
        return engine

    yield make
    for cleanup in reversed(cleanups):
        cleanup()


def _model_column(table: str, column: str) -> Column | None:
    model_table = Base.metadata.tables.get(table)
    return model_table.columns.get(column) if model_table is not None else None


def _value(column: Column, n: int, parents: dict[str, list[tuple]]) -> object:
    """A plausible value for row ``n`` of a column, from its reflected type and the models."""
    table = column.table.name
    for fk in column.foreign_keys:
        rows = parents[fk.column.table.name]
        assert rows, f"{table}.{column.name} refers to {fk.column.table.name}, which has no rows yet"
        position = [c.name for c in fk.column.table.primary_key.columns].index(fk.column.name)
        return rows[n % len(rows)][position]
    if column.nullable and not column.primary_key and n == 0:
        return None  # an empty optional value must stay empty
    model = _model_column(table, column.name)
    enums = getattr(model.type, "enums", None) if model is not None else None
    if enums:
        return enums[n % len(enums)]
    type_ = column.type
    if isinstance(type_, Boolean):
        return n % 2 == 1
    if isinstance(type_, Integer):
        return n + 1
    if isinstance(type_, Numeric):
        return Decimal(f"{1234 + 1000 * n}.{25 + n:02d}")
    if isinstance(type_, DateTime):
        return datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC) + timedelta(days=n, minutes=7 * n)
    if isinstance(type_, Date):
        return date(2026, 4, 1) + timedelta(days=30 * n)
    if isinstance(type_, LargeBinary):
        return bytes(range(n, n + 64))
    if isinstance(type_, JSON):
        return {"status": "open", "title": f"Row {n} of {table}", "quantity": n}
    if isinstance(type_, String | Text):
        value = f"{column.name.replace('_', ' ')} {n} of {table} — café"
        if "email" in column.name:
            value = f"person{n}.{table}@example.org"
        length = getattr(type_, "length", None)
        return value[:length] if length else value
    raise AssertionError(f"no sample value for {table}.{column.name} of type {type_!r}: add one here")


def _fill(connection: Connection, tables: list[Table]) -> dict[str, list[tuple]]:
    """Insert rows into every table, parents first; returns each table's primary keys."""
    keys: dict[str, list[tuple]] = {}
    for table in tables:
        rows = [{c.name: _value(c, n, keys) for c in table.columns} for n in range(ROWS_PER_TABLE)]
        connection.execute(table.insert(), rows)
        keys[table.name] = [tuple(row[c.name] for c in table.primary_key.columns) for row in rows]
    return keys


def _read(connection: Connection, table: Table, columns: list[str]) -> list[tuple]:
    order = [table.c[c.name] for c in table.primary_key.columns]
    return [tuple(row) for row in connection.execute(select(*(table.c[name] for name in columns)).order_by(*order))]


def test_every_row_filled_at_the_first_migration_survives_the_upgrade_to_head(new_engine):
    engine = new_engine()
    first = _first_revision()
    upgrade(engine, first)
    old = MetaData()
    with engine.begin() as connection:
        old.reflect(connection)
        tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
        assert tables, "the first migration should create tables"
        _fill(connection, tables)
        before = {t.name: _read(connection, t, [c.name for c in t.columns]) for t in tables}

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    new = MetaData()
    with engine.connect() as connection:
        new.reflect(connection)
        for table in tables:
            assert table.name in new.tables, f"table {table.name} disappeared in the upgrade"
            kept = [c.name for c in table.columns if c.name not in DROPPED_ON_PURPOSE.get(table.name, set())]
            missing = [name for name in kept if name not in new.tables[table.name].columns]
            assert not missing, f"columns of {table.name} disappeared in the upgrade: {missing}"
            positions = [[c.name for c in table.columns].index(name) for name in kept]
            expected = [tuple(row[i] for i in positions) for row in before[table.name]]
            assert _read(connection, new.tables[table.name], kept) == expected, f"rows of {table.name} changed"
        # The application reads every upgraded row through its own types (enums, UTC timestamps, JSON).
        for model_table in Base.metadata.sorted_tables:
            rows = connection.execute(select(model_table)).all()
            if model_table.name in before:
                assert len(rows) == ROWS_PER_TABLE, model_table.name


def test_accounts_added_by_later_migrations_are_nullable_and_existing_users_are_confirmed(new_engine):
    """0002 adds email_confirmed_at and closed_at to user_account; people already there are confirmed."""
    engine = new_engine()
    upgrade(engine, _first_revision())
    with engine.begin() as connection:
        old = MetaData()
        old.reflect(connection)
        _fill(connection, [t for t in old.sorted_tables if t.name != "alembic_version"])
        created = dict(connection.execute(text("SELECT id, created_at FROM user_account")).all())

    upgrade(engine)

    columns = {c["name"]: c for c in inspect(engine).get_columns("user_account")}
    assert columns["closed_at"]["nullable"] and columns["email_confirmed_at"]["nullable"]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, email_confirmed_at, closed_at FROM user_account")).all()
    assert {row.id: row.email_confirmed_at for row in rows} == created  # confirmed when they registered
    assert all(row.closed_at is None for row in rows)


def test_init_refuses_a_database_newer_than_the_code_and_changes_nothing(new_engine, tmp_path, monkeypatch):
    engine = new_engine()
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d_from_the_future'"))
    tables_before = sorted(inspect(engine).get_table_names())

    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    context = Context()
    try:
        result = CliRunner().invoke(main, ["init"], obj=context)
    finally:
        context.engine.dispose()

    assert result.exit_code == 1
    assert "f00d_from_the_future" in result.output and "newer version" in result.output
    assert current_revision(engine) == "f00d_from_the_future"
    assert sorted(inspect(engine).get_table_names()) == tables_before
    with engine.connect() as connection:
        # init seeds reference data when it succeeds; here not a row was added.
        for table in Base.metadata.sorted_tables:
            assert connection.scalar(select(func.count()).select_from(table)) == 0, table.name
