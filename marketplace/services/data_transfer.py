"""Whole-database export and import (``marketplace export`` / ``marketplace import``).

The file is JSON, written so that the same database always gives the same bytes:

* tables in name order, rows in primary-key order (strings compared by code point on
  every database), keys sorted, UTF-8, one row per line;
* timestamps as ISO 8601 in UTC with microseconds, dates as ISO dates, decimals as strings
  with the column's scale, binary values (the matcher's vectors) as base64.

Every table of the schema is included, found from the SQLAlchemy metadata, so tables and
columns added by later migrations are carried without changes here; the file records the
Alembic revision and is only imported by code at that same revision.

One row per line lets both directions stream: export writes rows as the cursor yields
them, import reads the file line by line (twice: once to check all of it before writing
anything, once to insert), so memory does not grow with the database.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    and_,
    bindparam,
    collate,
    func,
    inspect,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.schema import sort_tables_and_constraints
from sqlalchemy.types import TypeDecorator, TypeEngine

from marketplace import models  # noqa: F401  (registers every table on Base.metadata)
from marketplace.db import Base, write_intent
from marketplace.schema import current_revision, head_revision, migrate
from marketplace.services.errors import DomainError

FORMAT = "social-value-marketplace-export"
FORMAT_VERSION = 1
# Rows sent to the database per INSERT (executemany) and fetched per round trip.
BATCH = 1000
_TABLES_OPENER = ', "tables": {'
_ROW_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
_TABLE_LINE = re.compile(r'^("(?:[^"\\]|\\.)*"): \[$')


class DataTransferError(DomainError):
    """An export or import that cannot go ahead; nothing was written."""

    code = "data_transfer"


class MalformedExport(DataTransferError):
    """The file is not one written by ``marketplace export``, or it is damaged."""

    code = "malformed_export"


class RevisionMismatch(DataTransferError):
    """The file or the database is at another schema revision than this code."""

    code = "revision_mismatch"


class TargetNotEmpty(DataTransferError):
    """Import only fills an empty database, so it never mixes two databases' ids."""

    code = "target_not_empty"


@dataclass
class TransferSummary:
    """What an export or import moved: rows per table, and the schema revision."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows in all tables."""
        return sum(self.rows.values())


Progress = Callable[[int], None]


# --- values -----------------------------------------------------------------------------


def _base_type(type_: TypeEngine) -> TypeEngine:
    """The storage type behind a TypeDecorator such as UTCDateTime."""
    return type_.impl_instance if isinstance(type_, TypeDecorator) else type_


def _transfer_type(column: Column) -> TypeEngine:
    """The type values are read and written with, chosen to carry stored values unchanged.

    Enums travel as the stored string (not the Python member). JSON keeps the column's
    own type, so an empty value is written back as the application writes it (a JSON
    null, unless the column says otherwise).
    """
    base = _base_type(column.type)
    if isinstance(base, Enum):
        return String(base.length)
    return column.type


def _encode(value: Any, column: Column) -> Any:
    """A stored value as a JSON value with one stable spelling."""
    if value is None:
        return None
    base = _base_type(column.type)
    if isinstance(base, JSON):
        return value
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:  # a plain DateTime column: no zone to convert
            return value.isoformat(timespec="microseconds")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        scale = getattr(base, "scale", None)
        if scale is not None:
            value = value.quantize(Decimal(1).scaleb(-scale))
        return format(value, "f")
    if isinstance(value, float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{column.table.name}.{column.name}: cannot export a {type(value).__name__}")


def _needs_encoding(column: Column) -> bool:
    """Whether values of this column need converting for JSON (not so for text, numbers, flags and JSON)."""
    return not isinstance(_base_type(_transfer_type(column)), String | Integer | Boolean | JSON)


def _parsing(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("should be a string")
        try:
            return parse(value)
        except (ValueError, InvalidOperation, binascii.Error) as error:
            raise ValueError(f"is not valid ({error})") from error

    return convert


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no UTC offset")
    return parsed


def _converter(base: TypeEngine) -> Callable[[Any], Any]:
    """Checks a non-empty value from the file and turns it into the value to store (ValueError if unfit)."""
    if isinstance(base, JSON):
        return lambda value: value
    if isinstance(base, Boolean):

        def flag(value: Any) -> bool:
            if value is not True and value is not False:
                raise ValueError("should be true or false")
            return value

        return flag
    if isinstance(base, Integer):

        def whole(value: Any) -> int:
            if type(value) is not int:
                raise ValueError("should be a whole number")
            return value

        return whole
    if isinstance(base, Float):

        def number(value: Any) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError("should be a number")
            return value

        return number
    if isinstance(base, DateTime):
        return _parsing(_aware if base.timezone else datetime.fromisoformat)
    if isinstance(base, Date):
        return _parsing(date.fromisoformat)
    if isinstance(base, Numeric):
        return _parsing(Decimal)
    if isinstance(base, LargeBinary):
        return _parsing(lambda value: base64.b64decode(value, validate=True))
    # SQLite checks neither enum values nor lengths, and the application could not read such a row back.
    allowed = frozenset(base.enums) if isinstance(base, Enum) else None
    length = getattr(base, "length", None)

    def string(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError("should be a string")
        if allowed is not None and value not in allowed:
            raise ValueError(f"should be one of {', '.join(sorted(allowed))}")
        if length is not None and len(value) > length:
            raise ValueError(f"is longer than {length} characters")
        return value

    return string


def _decoder(column: Column) -> Callable[[Any], Any]:
    """The check and conversion of one column's values from the file."""
    convert = _converter(_base_type(column.type))
    nullable = column.nullable

    def decode(value: Any) -> Any:
        if value is None:
            if not nullable:
                raise ValueError("is empty but the column requires a value")
            return None
        return convert(value)

    return decode


@cache
def _decoders(table: Table) -> tuple[frozenset[str], tuple[tuple[str, Callable[[Any], Any]], ...]]:
    return frozenset(table.columns.keys()), tuple((column.name, _decoder(column)) for column in table.columns)


# --- tables -------------------------------------------------------------------------------


def _pk_order(table: Table, connection: Connection) -> list:
    """ORDER BY terms for primary-key order, strings by code point on PostgreSQL as on SQLite."""
    terms = []
    for column in table.primary_key.columns:
        if connection.dialect.name == "postgresql" and isinstance(_base_type(column.type), String):
            terms.append(collate(column, "C"))
        else:
            terms.append(column)
    return terms


def _check_database(connection: Connection, metadata: MetaData) -> str:
    """The database's revision, after checking it is this code's schema and holds nothing we would miss."""
    revision = current_revision(connection)
    head = head_revision()
    if revision != head:
        raise RevisionMismatch(
            f"The database is at schema revision {revision or 'none'}, this code at {head}. "
            "Run `marketplace init` with the matching version of the code first."
        )
    unknown = set(inspect(connection).get_table_names()) - set(metadata.tables) - {"alembic_version"}
    if unknown:
        raise DataTransferError(
            f"The database has tables this code does not know ({', '.join(sorted(unknown))}); "
            "exporting would leave them out."
        )
    return revision


def export_database(
    engine: Engine,
    path: Path,
    *,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    metadata: MetaData = Base.metadata,
) -> TransferSummary:
    """Write every row of every table to ``path`` (replaced only once the file is complete).

    Reads one consistent snapshot: rows committed while the export runs are not half in it.

    Args:
        engine: the database to export.
        path: the file to write.
        progress: called with the number of rows written since the last call.
        on_total: called once with the number of rows to write, before writing.
        metadata: the tables (every table of the application unless told otherwise).
    """
    partial = path.with_name(path.name + ".partial")
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    try:
        with write_intent(False), engine.connect().execution_options(**options) as connection:
            with connection.begin():
                revision = _check_database(connection, metadata)
                tables = sorted(metadata.tables.values(), key=lambda table: table.name)
                counts = {
                    table.name: connection.scalar(select(func.count()).select_from(table)) or 0 for table in tables
                }
                if on_total is not None:
                    on_total(sum(counts.values()))
                with partial.open("wb") as out:
                    rows = _write_export(connection, tables, revision, out, progress)
            os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return TransferSummary(revision=revision, rows=rows)


def _write_export(
    connection: Connection, tables: list[Table], revision: str, out: IO[bytes], progress: Progress | None
) -> dict[str, int]:
    header = {"alembic_revision": revision, "format": FORMAT, "format_version": FORMAT_VERSION}
    out.write((json.dumps(header, sort_keys=True)[:-1] + _TABLES_OPENER + "\n").encode())
    rows: dict[str, int] = {}
    for table_number, table in enumerate(tables):
        out.write(json.dumps(table.name).encode() + b": [\n")
        columns = list(table.columns)
        query = select(*(type_coerce(c, _transfer_type(c)).label(c.name) for c in columns)).order_by(
            *_pk_order(table, connection)
        )
        names = [column.name for column in columns]
        converted = [column for column in columns if _needs_encoding(column)]
        count = 0
        for partition in connection.execution_options(yield_per=BATCH).execute(query).partitions():
            for row in partition:
                record = dict(zip(names, row, strict=True))
                for column in converted:
                    record[column.name] = _encode(record[column.name], column)
                out.write((b",\n" if count else b"") + _ROW_ENCODER.encode(record).encode())
                count += 1
            if progress is not None:
                progress(len(partition))
        out.write(b"\n]" if count else b"]")
        out.write(b",\n" if table_number < len(tables) - 1 else b"\n")
        rows[table.name] = count
    out.write(b"}}\n")
    return rows


# --- reading a file -----------------------------------------------------------------------


@dataclass
class _Layout:
    """Where each table's rows start in a checked file, and how many there are."""

    revision: str
    offsets: dict[str, int]
    counts: dict[str, int]


def _read_header(line: bytes) -> dict[str, Any]:
    text_line = line.decode("utf-8").rstrip("\n")
    if not text_line.startswith("{") or not text_line.endswith(_TABLES_OPENER):
        raise MalformedExport("The file is not a marketplace export (its first line is not an export header).")
    try:
        header = json.loads(text_line[: -len(_TABLES_OPENER)] + "}")
    except json.JSONDecodeError as error:
        raise MalformedExport(f"The export header is not valid JSON: {error}.") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise MalformedExport("The file is not a marketplace export (no export header).")
    if header.get("format_version") != FORMAT_VERSION:
        raise MalformedExport(
            f"The file is export format version {header.get('format_version')}; this code reads {FORMAT_VERSION}."
        )
    if not isinstance(header.get("alembic_revision"), str):
        raise MalformedExport("The export header does not say which schema revision it was made at.")
    return header


def _row_from_line(line: str, table: Table, number: int, line_number: int) -> dict[str, Any]:
    """One row of the file, checked and converted to the values to insert."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise MalformedExport(f"Line {line_number} ({table.name} row {number}) is not valid JSON: {error}.") from error
    if not isinstance(record, dict):
        raise MalformedExport(f"Line {line_number} ({table.name} row {number}) is not a JSON object.")
    names, decoders = _decoders(table)
    if record.keys() != names:
        missing, extra = sorted(names - set(record)), sorted(set(record) - names)
        raise MalformedExport(
            f"Line {line_number} ({table.name} row {number}) has the wrong columns"
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + (f"; unknown: {', '.join(extra)}" if extra else "")
            + "."
        )
    values = {}
    for name, decode in decoders:
        try:
            values[name] = decode(record[name])
        except ValueError as error:
            raise MalformedExport(f"Line {line_number} ({table.name} row {number}): {name} {error}.") from error
    return values


def _lines(file: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(byte offset, line) pairs; only a newline ends a line, as the exporter writes them."""
    while True:
        offset = file.tell()
        line = file.readline()
        if not line:
            return
        yield offset, line


def _check_file(path: Path, metadata: MetaData, progress: Progress | None) -> _Layout:
    """Read the whole file once, checking its layout and every value, before anything is written."""
    offsets: dict[str, int] = {}
    counts: dict[str, int] = {}
    with path.open("rb") as file:
        lines = _lines(file)
        first = next(lines, None)
        if first is None:
            raise MalformedExport("The file is empty.")
        header = _read_header(first[1])
        line_number = 1
        table: Table | None = None
        # What may come next: "table" (a table's opening line), "first" (a row or the table's
        # end), "row" (after a comma), "close" (after a table's last row), "end", "done".
        state = "table"
        try:
            for offset, raw in lines:
                line_number += 1
                line = raw.decode("utf-8")
                if not line.endswith("\n"):
                    raise MalformedExport(f"The file stops in the middle of line {line_number}: it is incomplete.")
                line = line[:-1]
                if state == "done":
                    raise MalformedExport(f"Line {line_number} comes after the end of the export.")
                if state == "end":
                    if line != "}}":
                        raise MalformedExport(f"Line {line_number} should end the export with }}}}.")
                    state = "done"
                elif state == "table":
                    match = _TABLE_LINE.match(line)
                    if match is None:
                        raise MalformedExport(f"Line {line_number} should start a table.")
                    name = json.loads(match.group(1))
                    if name not in metadata.tables:
                        raise MalformedExport(f"Line {line_number}: the file has a table {name!r} this code lacks.")
                    if name in offsets:
                        raise MalformedExport(f"Line {line_number}: table {name!r} appears twice.")
                    table = metadata.tables[name]
                    offsets[name], counts[name] = offset + len(raw), 0
                    state = "first"
                elif line in ("]", "],"):
                    if state == "row":
                        raise MalformedExport(f"Line {line_number}: the row before it ends with a comma.")
                    state = "table" if line == "]," else "end"
                    if progress is not None and table is not None:
                        progress(counts[table.name] % BATCH)  # the rows not yet counted
                else:
                    assert table is not None
                    if state == "close":
                        raise MalformedExport(f"Line {line_number} should close table {table.name!r} with ].")
                    more = line.endswith(",")
                    counts[table.name] += 1
                    _row_from_line(line[:-1] if more else line, table, counts[table.name], line_number)
                    state = "row" if more else "close"
                    if progress is not None and counts[table.name] % BATCH == 0:
                        progress(BATCH)
        except UnicodeDecodeError as error:
            raise MalformedExport(f"Line {line_number} is not UTF-8 text.") from error
    if state != "done":
        raise MalformedExport("The file stops before the export ends: it is incomplete.")
    missing = sorted(set(metadata.tables) - set(offsets))
    if missing:
        raise MalformedExport(f"The file lacks tables: {', '.join(missing)}.")
    return _Layout(revision=header["alembic_revision"], offsets=offsets, counts=counts)


def _rows(path: Path, table: Table, offset: int) -> Iterator[dict[str, Any]]:
    """The rows of one table in an already checked file."""
    with path.open("rb") as file:
        file.seek(offset)
        for number, raw in enumerate(file, start=1):
            line = raw.decode("utf-8")[:-1]
            if line in ("]", "],"):
                return
            yield _row_from_line(line.removesuffix(","), table, number, 0)


# --- import ---------------------------------------------------------------------------------


def _table_order(metadata: MetaData) -> tuple[list[Table], dict[str, list[ForeignKeyConstraint]]]:
    """Tables parents first, and per table the foreign keys to fill in after every row is in.

    Those are the keys that point back into their own table or close a cycle: their
    rows cannot simply be inserted in order.
    """
    order: list[Table] = []
    deferred: dict[str, list[ForeignKeyConstraint]] = {}
    for table, _ in sort_tables_and_constraints(sorted(metadata.tables.values(), key=lambda t: t.name)):
        if table is not None:
            order.append(table)
    position = {table.name: index for index, table in enumerate(order)}
    for table in order:
        for constraint in table.foreign_key_constraints:
            target = constraint.referred_table
            if position[target.name] >= position[table.name]:
                deferred.setdefault(table.name, []).append(constraint)
    return order, deferred


def _check_empty(connection: Connection, metadata: MetaData) -> None:
    filled = [
        table.name
        for table in sorted(metadata.tables.values(), key=lambda t: t.name)
        if connection.scalar(select(literal(1)).select_from(table).limit(1)) is not None
    ]
    if filled:
        raise TargetNotEmpty(
            f"The database is not empty ({', '.join(filled)} have rows). Import only into a new, empty "
            "database: create one and point MARKETPLACE_DATABASE_URL at it (no need to run `marketplace init`)."
        )


def _reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """Make PostgreSQL hand out ids after the imported ones (SQLite does so by itself)."""
    if connection.dialect.name != "postgresql":
        return
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(table.name), "column": column.name},
            )
            if sequence is None:
                continue
            highest = select(func.max(column)).scalar_subquery()
            connection.execute(select(func.setval(sequence, func.coalesce(highest, 0) + 1, False)))


def import_database(
    engine: Engine,
    path: Path,
    *,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    metadata: MetaData = Base.metadata,
) -> TransferSummary:
    """Load an export into an empty database, in one transaction: all of it or nothing.

    The database may be brand new (no tables: the schema is created in the same
    transaction) or at this code's revision with every table empty. The file is checked
    completely before the first row is written.

    Args:
        engine: the database to fill.
        path: the export file.
        progress: called with the number of rows checked or written since the last call;
            the total is twice the number of rows (one pass to check, one to write).
        on_total: called once the file's size in rows is known, with twice that number.
        metadata: the tables (every table of the application unless told otherwise).

    Raises:
        MalformedExport, RevisionMismatch, TargetNotEmpty: nothing was written.
    """
    head = head_revision()
    with path.open("rb") as file:
        first = file.readline()
    if not first:
        raise MalformedExport("The file is empty.")
    try:
        revision = _read_header(first)["alembic_revision"]
    except UnicodeDecodeError as error:
        raise MalformedExport("The file is not a marketplace export (it is not UTF-8 text).") from error
    if revision != head:
        raise RevisionMismatch(
            f"The file was exported at schema revision {revision}, this code is at {head}. Import it with the "
            "version of the marketplace that exported it, then upgrade that database with `marketplace init`."
        )
    _check_target(engine, metadata, head)
    layout = _check_file(path, metadata, progress)
    if on_total is not None:
        on_total(2 * sum(layout.counts.values()))
    order, deferred = _table_order(metadata)
    try:
        with write_intent(True), engine.begin() as connection:
            if current_revision(connection) is None:
                migrate(connection)
            _check_target(connection, metadata, head)
            for table in order:
                _insert_rows(connection, table, _rows(path, table, layout.offsets[table.name]), deferred, progress)
            for table in order:
                _fill_deferred(connection, table, path, layout.offsets[table.name], deferred.get(table.name, []))
            _reset_sequences(connection, order)
        if engine.dialect.name == "postgresql":
            # Fresh tables have no planner statistics until autovacuum runs (never, when it is off).
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
    except (IntegrityError, DataError) as error:
        # Each row was well formed, but together they break a rule (a key pointing nowhere, a duplicate).
        raise MalformedExport(
            f"The file's rows do not fit together, so nothing was imported: {str(error.orig).strip()}."
        ) from error
    return TransferSummary(revision=revision, rows=layout.counts)


def _check_target(bind: Engine | Connection, metadata: MetaData, head: str) -> None:
    """Refuse a database that is not new and empty at this code's revision."""
    if isinstance(bind, Engine):
        with write_intent(False), bind.connect() as connection:
            _check_target(connection, metadata, head)
        return
    revision = current_revision(bind)
    if revision is None:
        existing = inspect(bind).get_table_names()
        if existing:
            raise TargetNotEmpty(
                f"The database already has tables ({', '.join(sorted(existing))}) but no marketplace schema "
                "revision. Import only into a new, empty database."
            )
        return
    if revision != head:
        raise RevisionMismatch(
            f"The database is at schema revision {revision}, this code at {head}. Import only into a new, "
            "empty database."
        )
    _check_empty(bind, metadata)


def _shadow(table: Table, columns: list[Column]) -> Table:
    """The table as seen by import: the same columns with the types values travel in."""
    return Table(
        table.name, MetaData(), *(Column(c.name, _transfer_type(c), primary_key=c.primary_key) for c in columns)
    )


def _insert_rows(
    connection: Connection,
    table: Table,
    rows: Iterator[dict[str, Any]],
    deferred: dict[str, list[ForeignKeyConstraint]],
    progress: Progress | None,
) -> None:
    later = {column.name for constraint in deferred.get(table.name, []) for column in constraint.columns}
    target = _shadow(table, list(table.columns))
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if batch:
            connection.execute(target.insert(), batch)
            if progress is not None:
                progress(len(batch))
            batch.clear()

    for row in rows:
        for name in later:
            row[name] = None
        batch.append(row)
        if len(batch) >= BATCH:
            flush()
    flush()


def _fill_deferred(
    connection: Connection, table: Table, path: Path, offset: int, constraints: list[ForeignKeyConstraint]
) -> None:
    """Set the foreign keys left empty on insert, now that every row they point to exists."""
    names = sorted({column.name for constraint in constraints for column in constraint.columns})
    if not names:
        return
    keys = [column.name for column in table.primary_key.columns]
    shadow = _shadow(table, list(table.columns))
    statement = (
        update(shadow)
        .where(and_(*(shadow.c[key] == bindparam(f"pk_{key}", type_=shadow.c[key].type) for key in keys)))
        .values({name: bindparam(f"v_{name}", type_=shadow.c[name].type) for name in names})
    )
    batch = []
    for row in _rows(path, table, offset):
        if any(row[name] is not None for name in names):
            batch.append({**{f"pk_{k}": row[k] for k in keys}, **{f"v_{n}": row[n] for n in names}})
            if len(batch) >= BATCH:
                connection.execute(statement, batch)
                batch.clear()
    if batch:
        connection.execute(statement, batch)
