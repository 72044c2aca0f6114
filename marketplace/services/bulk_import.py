"""Officers import many needs or offers at once from a CSV file, all or nothing.

Councils collect needs on paper and in spreadsheets. An officer saves the sheet as CSV
and uploads it; every row is checked by the same service functions that post a single
need or offer (so the same rules, messages, search outbox and embeddings apply), and
the whole file is reported row by row. If any row is wrong nothing is imported: the rows
are posted inside one SAVEPOINT that is rolled back, so no caller can commit half a file.

The file is read the way spreadsheets write it: UTF-8 with or without a byte-order mark,
Excel-style quoting (cells with commas, quotes or line breaks in double quotes), comma or
semicolon separated. Row numbers in messages are the spreadsheet's (the header is row 1),
even when a quoted cell spans several lines of the file.

Cells that start with ``=``, ``+``, ``-`` or ``@`` are kept as plain text (nothing here
ever evaluates them) and reported as warnings; the marketplace's own CSV downloads prefix
such cells with an apostrophe so a spreadsheet never runs them, and an apostrophe added
that way is removed again on import.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.formatting import count
from marketplace.models import AuditEntry, Need, Offer, Organisation, OrganisationKind, Role, User
from marketplace.services import needs as needs_service
from marketplace.services import offers as offers_service
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import NotFound, ValidationFailed
from marketplace.services.reference import ReferenceLists, holding_reference_lists
from marketplace.spreadsheets import looks_like_formula, unguard_cell, write_csv
from marketplace.validation import MAX_BODY_TEXT, MAX_UPLOAD_BYTES, Code

log = logging.getLogger(__name__)

MAX_BYTES = MAX_UPLOAD_BYTES
MAX_ROWS = 1000
# Row problems shown before the rest are summarised: a file that wrong needs fixing at source.
MAX_PROBLEMS = 500
# Warnings kept with the import in the audit log, for its result page.
MAX_KEPT_WARNINGS = 100
KINDS = ("needs", "offers")
AUDIT_ACTION = {"needs": "bulk_import.needs", "offers": "bulk_import.offers"}


@dataclass(frozen=True)
class Column:
    """One column of an import file."""

    name: str  # the header, as written in the template
    required: bool  # the column must be in the header (and the service decides if a value is)
    hint: str  # what to write in it, for the page that explains the template
    example: str  # the template's example row
    choice: str | None = None  # which reference list its values come from
    multiple: bool = False  # several values separated by ';'
    date: bool = False


@dataclass(frozen=True)
class Kind:
    """Needs or offers: the columns, the organisation kind and the service that posts a row."""

    name: str  # "needs" or "offers"
    noun: str  # "need" or "offer"
    organisation_kind: OrganisationKind
    organisation_noun: str  # "community group" or "supplier"
    columns: tuple[Column, ...]
    post: Callable[[Session, User, Mapping[str, object], date], Need | Offer]

    @property
    def column_names(self) -> list[str]:
        """The columns in template order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        return next(c for c in self.columns if c.name == name)


_ORGANISATION_HINT = "The name of the {noun}, exactly as registered in the marketplace"
_LIST_HINT = "Separate several with semicolons"

NEEDS = Kind(
    name="needs",
    noun="need",
    organisation_kind=OrganisationKind.COMMUNITY,
    organisation_noun="community group",
    columns=(
        Column("organisation", True, _ORGANISATION_HINT.format(noun="community group"), "Example Community Group"),
        Column("title", True, "5 to 120 characters", "Room for our carers' group"),
        Column(
            "description",
            True,
            "20 to 5,000 characters; line breaks are kept",
            "We meet monthly and need a warm, accessible room with a kettle for 15 people.",
        ),
        Column("category", True, "One category, by code or name", "premises", choice="category"),
        Column("district", True, "One district", "Charnwood", choice="district"),
        Column(
            "outcomes",
            True,
            f"At least one outcome, by code or name. {_LIST_HINT}",
            "wellbeing-and-opportunity; great-communities",
            choice="outcome",
            multiple=True,
        ),
        Column("quantity", False, "Optional: how much or how often, in the group's words", "one evening a month"),
        Column("needed_by", False, "Optional: a date, like 2027-03-31 or 31/03/2027", "", date=True),
        Column(
            "measure", False, "Optional: a measure, by code or name, needed with quantity_needed", "", choice="measure"
        ),
        Column("quantity_needed", False, "Optional: a number in the measure's unit, like 40", ""),
    ),
    post=needs_service.post_need,
)

OFFERS = Kind(
    name="offers",
    noun="offer",
    organisation_kind=OrganisationKind.SUPPLIER,
    organisation_noun="supplier",
    columns=(
        Column("organisation", True, _ORGANISATION_HINT.format(noun="supplier"), "Example Supplier Ltd"),
        Column("title", True, "5 to 120 characters", "Meeting room in Loughborough"),
        Column(
            "description",
            True,
            "20 to 5,000 characters; line breaks are kept",
            "Our ground-floor meeting room seats 20, has step-free access and a kitchenette.",
        ),
        Column("category", True, "One category, by code or name", "premises", choice="category"),
        Column(
            "districts",
            True,
            f"At least one district served. {_LIST_HINT}",
            "Charnwood; Melton",
            choice="district",
            multiple=True,
        ),
        Column(
            "outcomes",
            False,
            f"Optional: outcomes, by code or name. {_LIST_HINT}",
            "great-communities",
            choice="outcome",
            multiple=True,
        ),
        Column("available_until", False, "Optional: a date, like 2027-03-31 or 31/03/2027", "", date=True),
        Column(
            "measure",
            False,
            "Optional: a measure, by code or name, needed with capacity",
            "premises-provided",
            choice="measure",
        ),
        Column("capacity", False, "Optional: a number in the measure's unit, like 40", "1200"),
    ),
    post=offers_service.post_offer,
)

KIND_BY_NAME = {"needs": NEEDS, "offers": OFFERS}

# Other ways officers write the same header; matched after lower-casing and turning spaces
# and hyphens into underscores.
_ALIASES = {
    "organisation_name": "organisation",
    "organization": "organisation",
    "organization_name": "organisation",
    "group": "organisation",
    "supplier": "organisation",
    "outcome": "outcomes",
    "measure_code": "measure",
    "category_code": "category",
}
_OTHER_KIND_COLUMNS = {
    "needs": {"districts", "available_until", "capacity"},
    "offers": {"needed_by", "quantity_needed"},
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: a row (as numbered in the spreadsheet) and column, or the whole file."""

    message: str
    row: int | None = None  # None: the file as a whole
    column: str | None = None

    def as_json(self) -> dict[str, object]:
        """The problem for the API."""
        return {"row": self.row, "column": self.column, "message": self.message}

    @property
    def key(self) -> str:
        """Where it is, as a short label: ``row 3: title`` or ``file``."""
        if self.row is None:
            return "file"
        return f"row {self.row}: {self.column}" if self.column else f"row {self.row}"


class ImportFailed(ValidationFailed):
    """The file, or some of its rows, cannot be imported; nothing was."""

    def __init__(self, kind: str, problems: list[Problem], warnings: Sequence[Problem] = ()) -> None:
        rows = {p.row for p in problems if p.row is not None}
        if rows:
            message = (
                f"Nothing was imported: {count(len(problems), 'problem')} in {count(len(rows), 'row')}. "
                "Correct them in the spreadsheet and upload it again."
            )
        else:
            message = f"Nothing was imported. {problems[0].message}"
        fields: dict[str, str] = {}
        for problem in problems:
            fields.setdefault(problem.key, problem.message)
        super().__init__(fields, message)
        self.kind = kind
        self.problems = problems
        self.warnings = list(warnings)


@dataclass(frozen=True)
class ImportResult:
    """A finished import: what was created, and what to know about it."""

    kind: str
    items: list[Need] | list[Offer]
    audit_id: int  # the audit entry that records the import; the result page shows it
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ids(self) -> list[int]:
        """The new needs' or offers' ids, in file order."""
        return [item.id for item in self.items]


def import_csv(
    session: Session, actor: User | None, kind: str, content: bytes, today: date, *, filename: str = ""
) -> ImportResult:
    """Import needs or offers from a CSV file, all of them or none.

    Args:
        kind: ``needs`` or ``offers``.
        content: the file's bytes.
        filename: the uploaded file's name, kept in the audit log.

    Raises:
        NotSignedIn, Forbidden: unless the actor is an officer.
        ImportFailed: listing every problem in the file, row by row; nothing is created.
    """
    officer = require_role(actor, Role.OFFICER)
    if kind not in KIND_BY_NAME:
        raise ValidationFailed({"kind": "Choose whether the file holds needs or offers"})
    spec = KIND_BY_NAME[kind]
    header, rows = _read_table(spec, content)
    savepoint = session.begin_nested()
    try:
        with holding_reference_lists(session) as lists:
            created, problems, warnings = _post_rows(session, officer, spec, header, rows, lists, today)
        if problems:
            savepoint.rollback()
            log.info("bulk import refused", extra={"kind": kind, "rows": len(rows), "problems": len(problems)})
            raise ImportFailed(kind, problems, warnings)
        for item, (row_number, _) in zip(created, rows, strict=True):
            record(
                session, officer, f"{spec.noun}.import", spec.noun, item.id, None,
                {"title": item.title, "organisation": item.organisation.name, "row": row_number},
            )  # fmt: skip
        entry = record(
            session,
            officer,
            AUDIT_ACTION[kind],
            "import",
            (filename or f"{kind}.csv")[-60:],
            None,
            {
                "kind": kind,
                "file": filename[-200:],
                "rows": len(created),
                "ids": [item.id for item in created],
                "warnings": [w.as_json() for w in warnings[:MAX_KEPT_WARNINGS]],
            },
        )
        session.flush()
        savepoint.commit()
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    log.info("bulk import", extra={"kind": kind, "items_created": len(created), "audit_id": entry.id})
    return ImportResult(kind=kind, items=created, audit_id=entry.id, warnings=warnings)


def _post_rows(
    session: Session,
    officer: User,
    spec: Kind,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    lists: ReferenceLists,
    today: date,
) -> tuple[list[Need | Offer], list[Problem], list[Problem]]:
    """Post every row through the service; returns what was created, the problems and the warnings."""
    organisations = _organisations(session)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    created: list[Need | Offer] = []
    unverified_warned: set[int] = set()
    for row_number, cells in rows:
        data, row_problems, row_warnings = _row_data(spec, header, cells, row_number, lists)
        warnings.extend(row_warnings)
        organisation, organisation_problem = _organisation(spec, organisations, data.pop("organisation", ""))
        data["organisation_id"] = organisation.id if organisation is not None else None
        try:
            item = spec.post(session, officer, data, today)
        except ValidationFailed as error:
            row_problems.extend(_service_problems(spec, error, row_number, data, lists))
        else:
            created.append(item)
        if organisation_problem:
            row_problems.insert(0, Problem(organisation_problem, row_number, "organisation"))
        elif organisation is not None and not organisation.verified and organisation.id not in unverified_warned:
            unverified_warned.add(organisation.id)
            warnings.append(
                Problem(
                    f"{organisation.name} is not verified yet, so its {spec.name} stay hidden from the "
                    "public until an officer verifies it",
                    row_number,
                    "organisation",
                )
            )
        problems.extend(row_problems)
    return created, problems, warnings


@dataclass(frozen=True)
class PastImport:
    """An import as the audit log recorded it, with the items it created that still exist."""

    audit_id: int
    kind: str
    file: str
    at: object
    actor: User | None
    items: list[Need] | list[Offer]
    warnings: list[Problem]


def get_import(session: Session, actor: User | None, audit_id: int) -> PastImport:
    """A past import, for its result page.

    Raises:
        NotSignedIn, Forbidden: unless the actor is an officer.
        NotFound: when no import has that id.
    """
    require_role(actor, Role.OFFICER)
    entry = session.get(AuditEntry, audit_id)
    if entry is None or entry.action not in AUDIT_ACTION.values() or not isinstance(entry.after, dict):
        raise NotFound("There is no such import")
    kind = entry.after.get("kind")
    model = Need if kind == "needs" else Offer
    ids = [i for i in entry.after.get("ids", []) if isinstance(i, int)]
    found = {item.id: item for item in session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return PastImport(
        audit_id=entry.id,
        kind=str(kind),
        file=str(entry.after.get("file") or ""),
        at=entry.at,
        actor=entry.actor,
        items=[found[i] for i in ids if i in found],
        warnings=[
            Problem(str(w.get("message", "")), w.get("row"), w.get("column"))
            for w in entry.after.get("warnings", [])
            if isinstance(w, dict)
        ],
    )


def template_csv(kind: str) -> str:
    """A CSV file with the columns of ``kind`` and one example row, to fill in."""
    spec = KIND_BY_NAME[kind]
    return write_csv(spec.column_names, [[c.example for c in spec.columns]])


# Reading the file


def _read_table(spec: Kind, content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's column names and the data rows with their spreadsheet row numbers.

    Raises:
        ImportFailed: for a problem with the file as a whole (size, encoding, header, row count).
    """

    def refuse(message: str) -> ImportFailed:
        return ImportFailed(spec.name, [Problem(message)])

    if len(content) > MAX_BYTES:
        raise refuse(
            f"The file is {len(content):,} bytes; it must be {MAX_BODY_TEXT} ({MAX_BYTES:,} bytes) or smaller. "
            f"Split it into files of up to {MAX_ROWS:,} rows."
        )
    if content.startswith(b"PK\x03\x04") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse(
            "The file is an Excel workbook, not a CSV file. In Excel, save it as 'CSV UTF-8 (Comma delimited)'."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise refuse(
            "The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 (Comma delimited)'; "
            "in other programs choose the UTF-8 character set."
        ) from None
    if "\x00" in text:
        raise refuse("The file contains NUL characters, so it is not a CSV text file.")
    if not text.strip():
        raise refuse("The file is empty. Use the template, with a header row and one row per item.")

    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True))
    except csv.Error as error:
        raise refuse(
            f"The file cannot be read as CSV ({error}). "
            "Check that every cell starting with a double quote ends with one."
        ) from None
    header = [_column_name(name) for name in records[0]]
    _check_header(spec, records[0], header)

    rows: list[tuple[int, list[str]]] = []
    for index, cells in enumerate(records[1:], start=2):
        if any(cell.strip() for cell in cells):  # spreadsheets leave blank rows at the end
            rows.append((index, cells))
    if not rows:
        raise refuse(f"The file has a header row but no {spec.name} under it.")
    if len(rows) > MAX_ROWS:
        raise refuse(
            f"The file has {len(rows):,} rows of {spec.name}; at most {MAX_ROWS:,} can be imported at once. "
            "Split it into smaller files."
        )
    return header, rows


def _delimiter(text: str) -> str:
    # Excel in many European locales separates with semicolons; the header row says which.
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if ";" in first_line and "," not in first_line else ","


def _column_name(raw: str) -> str:
    name = re.sub(r"[\s\-]+", "_", raw.strip().lower()).strip("_")
    return _ALIASES.get(name, name)


def _check_header(spec: Kind, raw: list[str], header: list[str]) -> None:
    problems: list[Problem] = []
    known = set(spec.column_names)
    seen: set[str] = set()
    for position, (original, name) in enumerate(zip(raw, header, strict=True), start=1):
        if not name:
            problems.append(Problem(f"Column {position} of the header row has no name. Name it or delete the column."))
        elif name in seen:
            problems.append(Problem(f"The column '{original.strip()}' appears more than once in the header row."))
        elif name not in known:
            problems.append(
                Problem(
                    f"The column '{original.strip()[:60]}' is not known. "
                    f"The columns are: {', '.join(spec.column_names)}."
                )
            )
        seen.add(name)
    missing = [c.name for c in spec.columns if c.required and c.name not in seen]
    if missing:
        problems.append(
            Problem(
                f"The header row must have the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}. "
                "The first row of the file is the header; download the template to see it."
            )
        )
    if problems and seen & _OTHER_KIND_COLUMNS[spec.name]:
        other = "offers" if spec.name == "needs" else "needs"
        problems.insert(
            0, Problem(f"This looks like a file of {other}, not {spec.name}. Choose {other} and try again.")
        )
    if problems:
        raise ImportFailed(spec.name, problems)


# Turning a row into what the service expects


def _row_data(
    spec: Kind, header: list[str], cells: list[str], row: int, lists: ReferenceLists
) -> tuple[dict[str, object], list[Problem], list[Problem]]:
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
        problems.append(
            Problem(
                f"This row has {len(cells)} cells but the header has {len(header)} columns. Check for a stray "
                "comma, and put text that contains commas in double quotes.",
                row,
            )
        )
    data: dict[str, object] = {}
    for name, cell in zip(header, cells, strict=False):
        column = spec.column(name)
        value = cell.strip()
        value = unguard_cell(value)  # the apostrophe our own downloads add; the text is what follows
        if looks_like_formula(value) and column.choice is None and not column.date:
            warnings.append(
                Problem(
                    f"Starts with '{value[0]}', which a spreadsheet could run as a formula. It was kept as "
                    "plain text, and the marketplace's CSV downloads mark it so it is never run.",
                    row,
                    name,
                )
            )
        data[name] = _value(column, value, lists)
    for column in spec.columns:
        if column.name not in data and (column.multiple or column.choice or column.date):
            data[column.name] = [] if column.multiple else None
    return data, problems, warnings


def _value(column: Column, value: str, lists: ReferenceLists) -> object:
    if column.multiple:
        return [_code(column, part.strip(), lists) for part in re.split(r"[;,\n]", value) if part.strip()]
    if column.choice:
        return _code(column, value, lists) if value else None
    if column.date:
        return _iso_date(value) if value else None
    if column.name in ("quantity_needed", "capacity"):
        return value or None
    return value


def _choices(choice: str, lists: ReferenceLists) -> list[tuple[str, str]]:
    items = {"category": lists.categories, "district": lists.districts, "outcome": lists.outcomes}.get(choice)
    if items is None:
        items = lists.measures
    return [(item.code, item.name) for item in items]


def _code(column: Column, value: str, lists: ReferenceLists) -> str:
    """The code for a code or a name, in any case; unknown values pass through for the service to refuse."""
    wanted = value.casefold()
    for code, name in _choices(column.choice or "", lists):
        if wanted in (code.casefold(), name.casefold()):
            return code
    return value


def _iso_date(value: str) -> str:
    """31/03/2027 (how UK spreadsheets write dates) as 2027-03-31; anything else as written."""
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return value
    return value


def _organisations(session: Session) -> dict[str, list[Organisation]]:
    by_name: dict[str, list[Organisation]] = {}
    for organisation in session.scalars(select(Organisation).order_by(func.lower(Organisation.name))):
        by_name.setdefault(" ".join(organisation.name.split()).casefold(), []).append(organisation)
    return by_name


def _organisation(
    spec: Kind, organisations: dict[str, list[Organisation]], raw: object
) -> tuple[Organisation | None, str | None]:
    """The organisation a row names, or why it cannot be used."""
    name = " ".join(str(raw or "").split())
    if not name:
        return None, f"Enter the name of the {spec.organisation_noun}"
    matches = organisations.get(name.casefold(), [])
    exact = [o for o in matches if o.name == name]
    candidates = exact or matches
    fitting = [o for o in candidates if o.kind is spec.organisation_kind]
    if len(fitting) == 1:
        return fitting[0], None
    if len(fitting) > 1:
        return None, f"More than one {spec.organisation_noun} is called '{name}'; write the name exactly as registered"
    if candidates:
        kind = candidates[0].kind.value
        noun = {"community": "a community group", "supplier": "a supplier", "council": "the council"}[kind]
        return None, f"'{name[:120]}' is {noun}, not a {spec.organisation_noun}"
    return None, (
        f"There is no {spec.organisation_noun} called '{name[:120]}'. Check the spelling, or register the "
        f"{spec.organisation_noun} first"
    )


def _service_problems(
    spec: Kind, error: ValidationFailed, row: int, data: Mapping[str, object], lists: ReferenceLists
) -> list[Problem]:
    """The service's field errors as row problems, worded for a spreadsheet where a form's would confuse.

    Which wording fits is decided by each field's code (``marketplace.validation.Code``), never
    by reading the service's message.
    """
    problems = []
    for name, message in error.fields.items():
        if name == "organisation_id":
            continue  # the row's organisation is reported by name
        column = next((c for c in spec.columns if c.name == name), None)
        if column is not None and column.choice:
            message = _choice_message(spec, column, error.codes.get(name, Code.INVALID), data.get(name), lists)
        problems.append(Problem(message, row, name if column is not None else None))
    return problems


def _choice_message(spec: Kind, column: Column, code: str, value: object, lists: ReferenceLists) -> str:
    """Name the unknown value; a form's "Select a category" means nothing in a spreadsheet."""
    noun = column.choice or ""
    if code == Code.NEEDS_A_MEASURE:
        amount = "quantity_needed" if spec.name == "needs" else "capacity"
        return f"Enter the measure code that {amount} is counted in"
    given = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v]
    known = {choice_code for choice_code, _ in _choices(noun, lists)}
    unknown = [v for v in given if v not in known] or given
    if code == Code.UNKNOWN_CHOICE and unknown:
        return f"Unknown {noun}: {', '.join(unknown)[:200]}. Use a code or name from the lists on the import page"
    return (
        f"Enter {'at least one' if column.multiple else 'a'} {noun} (a code or name from the lists on the import page)"
    )
