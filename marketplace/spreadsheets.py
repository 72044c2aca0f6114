"""CSV files for spreadsheets: the one writer and the one formula guard, for downloads and imports alike.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and
one starting with a tab or carriage return can hide such a start), so text that came from
people is written with an apostrophe before it: the spreadsheet shows the text and never
runs it. The CSV import removes that apostrophe again, so a downloaded file imports as it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could run ``text`` as a formula."""
    return text[:1] in FORMULA_START


def guard_cell(value: object) -> object:
    """The cell as written to a CSV file: text that could run as a formula gets an apostrophe first."""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


def unguard_cell(text: str) -> str:
    """A cell read from a CSV file, without the apostrophe ``guard_cell`` put before a formula-like text."""
    if len(text) >= 2 and text[0] == "'" and looks_like_formula(text[1:]):
        return text[1:]
    return text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file (RFC 4180: comma separated, CRLF line ends) with every cell guarded."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guard_cell(name) for name in header])
    for row in rows:
        writer.writerow([guard_cell(value) for value in row])
    return out.getvalue()
