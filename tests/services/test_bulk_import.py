"""Bulk import of needs and offers from CSV: all rows or none, every problem reported by row."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.models import AuditEntry, ListingChange, Need, Offer
from marketplace.services import bulk_import
from marketplace.services.bulk_import import ImportFailed, Problem, import_csv, template_csv
from marketplace.services.errors import Forbidden, NotSignedIn

NEED_HEADER = ["organisation", "title", "description", "category", "district", "outcomes", "quantity", "needed_by"]
OFFER_HEADER = ["organisation", "title", "description", "category", "districts", "measure", "capacity"]
DESCRIPTION = "We meet every week and need somewhere warm and dry for twenty people."


def csv_bytes(rows: list[list[str]], *, bom: bool = False, delimiter: str = ",") -> bytes:
    """A CSV file as Excel writes one: quoted where needed, CRLF line ends."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def need_row(group: str, title: str = "Hall for our youth club", **overrides: str) -> list[str]:
    values = {
        "organisation": group,
        "title": title,
        "description": DESCRIPTION,
        "category": "premises",
        "district": "Melton",
        "outcomes": "great-communities",
        "quantity": "",
        "needed_by": "",
    }
    values.update(overrides)
    return [values[name] for name in NEED_HEADER]


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def group(make_user):
    return make_user("community", organisation="Melton Youth Club").organisation


@pytest.fixture
def supplier(make_user):
    return make_user("supplier", organisation="Acme Builders Ltd").organisation


def failure(session, officer, today, content: bytes, kind: str = "needs") -> ImportFailed:
    before = count(session, Need), count(session, Offer), count(session, AuditEntry)
    with pytest.raises(ImportFailed) as caught:
        import_csv(session, officer, kind, content, today)
    assert (count(session, Need), count(session, Offer), count(session, AuditEntry)) == before
    return caught.value


def file_message(session, officer, today, content: bytes, kind: str = "needs") -> str:
    problems = failure(session, officer, today, content, kind).problems
    assert all(p.row is None for p in problems)
    return " | ".join(p.message for p in problems)


def test_a_valid_file_creates_every_need_as_posted_for_the_group(session, officer, today, group):
    needed_by = today + timedelta(days=30)
    content = csv_bytes(
        [
            ["Organisation", "Title", "Description", "Category", "District", "Outcomes", "Quantity", "Needed by"],
            [
                "melton youth club",
                "Hall for our youth club",
                'Line one, with a comma.\nLine two has "quotes" and more words.',
                "Premises and space",
                "melton",
                "Great communities; wellbeing-and-opportunity",
                "one evening a week",
                needed_by.strftime("%d/%m/%Y"),
            ],
            need_row(group.name, "Minibus for a day trip", category="transport", district="County-wide"),
            ["", "", "", "", "", "", "", ""],  # a blank row a spreadsheet left behind
        ],
        bom=True,
    )

    result = import_csv(session, officer, "needs", content, today, filename="spring-needs.csv")

    assert len(result.ids) == 2
    first, second = (session.get(Need, i) for i in result.ids)
    assert first.title == "Hall for our youth club"
    assert first.description == 'Line one, with a comma.\nLine two has "quotes" and more words.'
    assert (first.category_code, first.district_code, first.needed_by) == ("premises", "Melton", needed_by)
    assert [o.code for o in first.outcomes] == ["wellbeing-and-opportunity", "great-communities"]
    assert first.quantity == "one evening a week"
    assert first.organisation == group and first.assisted and first.created_by == officer
    assert (second.category_code, second.district_code) == ("transport", "County-wide")
    # Through the normal service: the search outbox has them.
    changed = set(session.scalars(select(ListingChange.item_id).where(ListingChange.kind == "need")))
    assert set(result.ids) <= changed
    # The audit log records the import and each need.
    summary = session.get(AuditEntry, result.audit_id)
    assert summary.action == "bulk_import.needs" and summary.actor == officer
    assert summary.after == {"kind": "needs", "file": "spring-needs.csv", "rows": 2, "ids": result.ids, "warnings": []}
    per_need = session.scalars(select(AuditEntry).where(AuditEntry.action == "need.import")).all()
    assert {(e.entity_id, e.after["row"]) for e in per_need} == {(str(result.ids[0]), 2), (str(result.ids[1]), 3)}
    assert result.warnings == []


def test_a_valid_file_creates_every_offer_for_its_supplier(session, officer, today, supplier):
    content = csv_bytes(
        [
            OFFER_HEADER,
            [
                "Acme Builders Ltd",
                "Volunteers for a garden day",
                DESCRIPTION,
                "volunteering",
                "Blaby, Melton",
                "volunteering-hours",
                "40",
            ],
            ["Acme Builders Ltd", "Spare office chairs", DESCRIPTION, "goods", "County-wide", "", ""],
        ]
    )

    result = import_csv(session, officer, "offers", content, today)

    first, second = (session.get(Offer, i) for i in result.ids)
    assert [d.code for d in first.districts] == ["Blaby", "Melton"]
    assert (first.measure_code, first.capacity) == ("volunteering-hours", 40)
    assert first.organisation == supplier and first.created_by == officer
    assert (second.measure_code, second.capacity, [d.code for d in second.districts]) == (None, None, ["County-wide"])
    assert session.get(AuditEntry, result.audit_id).action == "bulk_import.offers"


def test_one_bad_row_imports_nothing_and_every_problem_is_listed_by_row(session, officer, today, group, supplier):
    content = csv_bytes(
        [
            NEED_HEADER,
            need_row(group.name, "A perfectly good need"),
            need_row(group.name, "Hall", category="Premisses", outcomes="great-communities; world-peace"),
            need_row("Nobody We Know", "Another good title", needed_by="31/02/2027"),
            need_row(supplier.name, "Tables for the hall", district=""),
        ]
    )

    error = failure(session, officer, today, content)

    assert error.problems == [
        Problem("Title must be 5 characters or more", 3, "title"),
        Problem("Unknown category: Premisses. Use a code or name from the lists on the import page", 3, "category"),
        Problem("Unknown outcome: world-peace. Use a code or name from the lists on the import page", 3, "outcomes"),
        Problem(
            "There is no community group called 'Nobody We Know'. Check the spelling, or register the community "
            "group first",
            4,
            "organisation",
        ),
        Problem("The needed-by date must be a real date, like 2027-03-31", 4, "needed_by"),
        Problem("'Acme Builders Ltd' is a supplier, not a community group", 5, "organisation"),
        Problem("Enter a district (a code or name from the lists on the import page)", 5, "district"),
    ]
    assert error.message == (
        "Nothing was imported: 7 problems in 3 rows. Correct them in the spreadsheet and upload it again."
    )
    assert error.fields["row 3: title"] == "Title must be 5 characters or more"
    assert not session.new


def test_rows_are_numbered_as_in_the_spreadsheet_even_when_a_cell_spans_lines(session, officer, today, group):
    content = csv_bytes(
        [
            NEED_HEADER,
            need_row(group.name, description="A description\nthat runs over\nfour lines of the file."),
            need_row(group.name, title=""),
        ]
    )
    assert failure(session, officer, today, content).problems == [Problem("Enter a title", 3, "title")]


def test_a_supplier_cannot_be_named_in_needs_nor_a_group_in_offers(session, officer, today, group, supplier):
    row = [group.name, "Volunteers for a garden day", DESCRIPTION, "volunteering", "Blaby", "", ""]
    problems = failure(session, officer, today, csv_bytes([OFFER_HEADER, row]), "offers").problems
    assert problems == [Problem("'Melton Youth Club' is a community group, not a supplier", 2, "organisation")]


def test_measure_and_amount_rules_are_the_services(session, officer, today, supplier):
    rows = [
        OFFER_HEADER,
        [supplier.name, "Volunteers for a garden day", DESCRIPTION, "volunteering", "Blaby", "", "40"],
        [supplier.name, "Volunteers for a garden day", DESCRIPTION, "volunteering", "Blaby", "hugs", "-3"],
    ]
    assert failure(session, officer, today, csv_bytes(rows), "offers").problems == [
        Problem("Enter the measure code that capacity is counted in", 2, "measure"),
        Problem("Unknown measure: hugs. Use a code or name from the lists on the import page", 3, "measure"),
        Problem("Capacity must be more than 0", 3, "capacity"),
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "The file is empty. Use the template, with a header row and one row per item."),
        (b"\xef\xbb\xbf \r\n\r\n", "The file is empty. Use the template, with a header row and one row per item."),
        (",".join(NEED_HEADER).encode() + b"\r\n,,,,,,,\r\n", "The file has a header row but no needs under it."),
        (
            ",".join(NEED_HEADER).encode() + b"\r\nCaf\xe9 group,Title\r\n",
            "The file is not UTF-8 text. In Excel, save it as 'CSV UTF-8 (Comma delimited)'; in other programs "
            "choose the UTF-8 character set.",
        ),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "The file is an Excel workbook, not a CSV file. In Excel, save it as 'CSV UTF-8 (Comma delimited)'.",
        ),
        (b"title\x00,description\r\n", "The file contains NUL characters, so it is not a CSV text file."),
        (
            ",".join(NEED_HEADER).encode() + b'\r\nGroup,"Unclosed "quote,x\r\n',
            "The file cannot be read as CSV (',' expected after '\"'). Check that every cell starting with a double "
            "quote ends with one.",
        ),
    ],
    ids=["empty", "blank-with-bom", "header-only", "not-utf8", "xlsx", "nul", "bad-quotes"],
)
def test_a_file_that_cannot_be_read_gets_one_clear_message(session, officer, today, content, expected):
    assert file_message(session, officer, today, content) == expected


def test_header_problems_are_all_named(session, officer, today):
    header = ["Organisation", "Title", "Title", "Colour", "", "category", "outcomes"]
    assert file_message(session, officer, today, csv_bytes([header, ["x"] * 7])) == " | ".join(
        [
            "The column 'Title' appears more than once in the header row.",
            "The column 'Colour' is not known. The columns are: organisation, title, description, category, "
            "district, outcomes, quantity, needed_by, measure, quantity_needed.",
            "Column 5 of the header row has no name. Name it or delete the column.",
            "The header row must have the columns description, district. The first row of the file is the "
            "header; download the template to see it.",
        ]
    )


def test_an_offers_file_chosen_as_needs_says_so(session, officer, today, supplier):
    row = [supplier.name, "Volunteers for a garden day", DESCRIPTION, "volunteering", "Blaby", "", ""]
    message = file_message(session, officer, today, csv_bytes([OFFER_HEADER, row]), "needs")
    assert message.startswith("This looks like a file of offers, not needs. Choose offers and try again. | ")


def test_limits_on_rows_and_size(session, officer, today, group, monkeypatch):
    rows = [NEED_HEADER] + [need_row(group.name, f"Need number {n}") for n in range(bulk_import.MAX_ROWS + 1)]
    assert file_message(session, officer, today, csv_bytes(rows)) == (
        "The file has 1,001 rows of needs; at most 1,000 can be imported at once. Split it into smaller files."
    )
    big = csv_bytes([NEED_HEADER, need_row(group.name, description="x" * 1_000_001)])
    assert file_message(session, officer, today, big) == (
        f"The file is {len(big):,} bytes; it must be 1 MB (1,000,000 bytes) or smaller. Split it into files of up "
        "to 1,000 rows."
    )


def test_a_row_with_more_cells_than_the_header_is_refused(session, officer, today, group):
    row = [*need_row(group.name), "stray, cell"]
    assert failure(session, officer, today, csv_bytes([NEED_HEADER, row])).problems == [
        Problem(
            "This row has 9 cells but the header has 8 columns. Check for a stray comma, and put text that "
            "contains commas in double quotes.",
            2,
        )
    ]


def test_formula_looking_cells_are_kept_as_plain_text_with_a_warning(session, officer, today, group):
    content = csv_bytes(
        [
            NEED_HEADER,
            need_row(group.name, '=HYPERLINK("http://evil.example","Hall")', quantity="'+30 chairs"),
            need_row(group.name, "@ the village hall", description="-" + DESCRIPTION),
        ]
    )

    result = import_csv(session, officer, "needs", content, today)

    first, second = (session.get(Need, i) for i in result.ids)
    assert first.title == '=HYPERLINK("http://evil.example","Hall")'
    assert first.quantity == "+30 chairs"  # the apostrophe a spreadsheet export adds is taken off
    assert (second.title, second.description) == ("@ the village hall", "-" + DESCRIPTION)
    assert [(w.row, w.column) for w in result.warnings] == [
        (2, "title"),
        (2, "quantity"),
        (3, "title"),
        (3, "description"),
    ]
    assert result.warnings[0].message.startswith("Starts with '=', which a spreadsheet could run as a formula.")


def test_semicolon_separated_files_from_european_excel_are_read(session, officer, today, group):
    content = csv_bytes(
        [NEED_HEADER, need_row(group.name, outcomes="great-communities, strong-economy")], delimiter=";"
    )
    need = session.get(Need, import_csv(session, officer, "needs", content, today).ids[0])
    assert [o.code for o in need.outcomes] == ["strong-economy", "great-communities"]


def test_an_unverified_group_is_imported_with_a_warning(session, officer, today, make_user):
    group = make_user("community", organisation="New Allotment Society", verified=False).organisation
    result = import_csv(session, officer, "needs", csv_bytes([NEED_HEADER, need_row(group.name)] * 1), today)
    assert result.warnings == [
        Problem(
            "New Allotment Society is not verified yet, so its needs stay hidden from the public until an "
            "officer verifies it",
            2,
            "organisation",
        )
    ]


def test_only_officers_may_import(session, today, make_user, group):
    content = csv_bytes([NEED_HEADER, need_row(group.name)])
    with pytest.raises(Forbidden):
        import_csv(session, make_user("community"), "needs", content, today)
    with pytest.raises(NotSignedIn):
        import_csv(session, None, "needs", content, today)


@pytest.mark.parametrize("kind", ["needs", "offers"])
def test_the_template_imports_once_its_example_organisation_exists(session, officer, today, make_user, kind):
    organisation = "Example Community Group" if kind == "needs" else "Example Supplier Ltd"
    make_user("community" if kind == "needs" else "supplier", organisation=organisation)
    result = import_csv(session, officer, kind, template_csv(kind).encode(), today)
    past = bulk_import.get_import(session, officer, result.audit_id)
    assert (past.kind, [item.id for item in past.items]) == (kind, result.ids)


def test_a_thousand_rows_import_in_one_go(session, officer, today, group):
    rows = [NEED_HEADER] + [need_row(group.name, f"Need number {n}") for n in range(bulk_import.MAX_ROWS)]
    result = import_csv(session, officer, "needs", csv_bytes(rows), today)
    assert len(result.ids) == 1000
    assert session.get(Need, result.ids[-1]).title == "Need number 999"
