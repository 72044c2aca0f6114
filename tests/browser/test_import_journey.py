"""An officer imports a spreadsheet of needs in a real browser: the form, a file with problems, a good file.

Each state of the page is scanned with axe-core (WCAG 2.2 AA) and must have no violations.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marketplace.models import Need, Organisation, User
from tests.browser.support import EMAIL_BY_ROLE, LiveServer
from tests.browser.test_accessibility import AXE_OPTIONS, _report

pytestmark = pytest.mark.browser

SCREENS = Path("/tmp/screens-import")
DESCRIPTION = "We run a weekly lunch for older neighbours and need help with equipment and volunteers."


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture(scope="module")
def group_name(live_server: LiveServer) -> str:
    """The demo community group's name, as an officer would type it in the spreadsheet."""
    with live_server.session() as session:
        return session.scalar(
            select(Organisation.name)
            .join(User, User.organisation_id == Organisation.id)
            .where(User.email == EMAIL_BY_ROLE["community"])
        )


def _scan(page: Page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    violations = Axe().run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{name} ({page.url})\n{_report(violations)}"


def _upload(page: Page, content: bytes, filename: str) -> None:
    page.get_by_label("Needs, posted for community groups").check()
    page.get_by_label("CSV file").set_input_files({"name": filename, "mimeType": "text/csv", "buffer": content})
    page.get_by_role("button", name="Import").click()


def test_an_officer_imports_a_spreadsheet_after_correcting_it(
    page_as: Callable[[str | None], Page], live_server: LiveServer, group_name: str
) -> None:
    page = page_as("officer")
    page.goto("/officer")
    page.get_by_role("link", name="Import needs or offers from a spreadsheet (CSV)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import needs or offers")
    _scan(page, "import-form")

    marker = uuid.uuid4().hex[:8]
    header = ["organisation", "title", "description", "category", "district", "outcomes"]
    good = [group_name, f"Urn for lunch club {marker}", DESCRIPTION, "goods", "Melton", "great-communities"]
    bad = ["No Such Group", "Hi", DESCRIPTION, "Premisses", "Melton", "great-communities"]
    with live_server.session() as session:
        before = session.scalar(select(func.count()).select_from(Need))

    _upload(page, _csv([header, good, bad]), "lunch-club.csv")

    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Nothing was imported: 3 problems in 1 row.")
    problems = page.locator("#row-problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0).get_by_role("cell")).to_have_text(
        ["3", "organisation", re.compile(r"^There is no community group called 'No Such Group'\.")]
    )
    expect(page.locator("#row-problems")).to_contain_text("Unknown category: Premisses")
    expect(page).to_have_title(
        "Error: Import needs or offers – Social Value Marketplace – Leicestershire County Council"
    )
    with live_server.session() as session:
        assert session.scalar(select(func.count()).select_from(Need)) == before
    _scan(page, "import-errors")

    # The summary's link takes a keyboard user to the table of problems.
    summary.get_by_role("link", name="Nothing was imported: 3 problems in 1 row.", exact=False).click()
    expect(page).to_have_url(f"{live_server.url}/officer/import#row-problems")

    second = [
        group_name,
        f"Tea urn and cups {marker}",
        DESCRIPTION,
        "Goods and equipment",
        "melton",
        "Great communities",
    ]
    _upload(page, _csv([header, good, second]), "lunch-club.csv")

    expect(page.get_by_role("heading", level=1)).to_have_text("2 needs imported")
    expect(page.get_by_text("From lunch-club.csv, imported by")).to_be_visible()
    _scan(page, "import-result")
    with live_server.session() as session:
        need = session.scalar(select(Need).where(Need.title == f"Tea urn and cups {marker}"))
        assert need is not None and need.organisation.name == group_name and need.assisted
        assert session.scalar(select(func.count()).select_from(Need)) == before + 2
    expect(page.get_by_role("link", name=f"Tea urn and cups {marker}")).to_have_attribute("href", f"/needs/{need.id}")


def test_a_file_over_the_limit_is_refused_on_the_form(page_as: Callable[[str | None], Page]) -> None:
    page = page_as("officer")
    page.goto("/officer/import")
    _upload(page, b"organisation,title\r\n" + b"x" * (1024 * 1024), "huge.csv")
    expect(page.locator(".govuk-error-summary")).to_contain_text("The file must be 1 MB or smaller")
    _scan(page, "import-too-large")
