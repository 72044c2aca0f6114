"""The officer's import page: upload a CSV, see what was created, or every row's problems with nothing imported."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from marketplace.models import Need, Offer
from tests.services.test_bulk_import import DESCRIPTION, NEED_HEADER, OFFER_HEADER, csv_bytes, need_row
from tests.web.conftest import csrf_token


def needs_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Need))


@pytest.fixture
def officer_browser(browser, officer):
    browser.sign_in(officer)
    return browser


@pytest.fixture
def group(make_user):
    return make_user("community", organisation="Oadby Lunch Club").organisation


def upload(browser, content: bytes, kind: str | None = "needs", filename: str = "needs.csv", follow: bool = True):
    data: dict[str, object] = {"file": (io.BytesIO(content), filename)}
    if kind is not None:
        data["kind"] = kind
    return browser.submit("/officer/import", data, follow=follow)


def text_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def test_the_dashboard_links_to_the_import_page_which_offers_templates(officer_browser):
    dashboard = officer_browser.client.get("/officer").get_data(as_text=True)
    assert 'href="/officer/import"' in dashboard
    page = officer_browser.client.get("/officer/import")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html and 'name="kind"' in html
    assert 'href="/officer/import/needs-template.csv"' in html and 'href="/officer/import/offers-template.csv"' in html
    # The columns and the codes an officer may use are on the page.
    assert "quantity_needed" in text_of(page) and "wellbeing-and-opportunity" in html


@pytest.mark.parametrize(("kind", "header"), [("needs", "organisation,title,description"), ("offers", "districts")])
def test_templates_download_as_csv_for_excel(officer_browser, kind, header):
    response = officer_browser.client.get(f"/officer/import/{kind}-template.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{kind}-template.csv"'
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbforganisation,") and header.encode() in body.split(b"\r\n")[0]


def test_a_valid_file_is_imported_and_the_result_page_links_each_need(officer_browser, session, group):
    content = csv_bytes([NEED_HEADER, need_row(group.name, "Lunch club kitchen kit"), need_row(group.name)])

    response = upload(officer_browser, content, filename="oadby.csv", follow=False)

    assert response.status_code == 302 and re.fullmatch(r"/officer/import/\d+", response.location)
    page = officer_browser.client.get(response.location)
    text = text_of(page)
    assert "2 needs imported" in text and "From oadby.csv, imported by" in text
    ids = session.scalars(select(Need.id).where(Need.organisation_id == group.id).order_by(Need.id)).all()
    assert len(ids) == 2
    html = page.get_data(as_text=True)
    assert f'href="/needs/{ids[0]}">Lunch club kitchen kit</a>' in html and f'href="/needs/{ids[1]}"' in html


def test_offers_are_imported_for_suppliers(officer_browser, session, make_user):
    supplier = make_user("supplier", organisation="Wigston Print Ltd").organisation
    row = [supplier.name, "Printing for community posters", DESCRIPTION, "advertising", "Oadby and Wigston", "", ""]
    page = upload(officer_browser, csv_bytes([OFFER_HEADER, row]), kind="offers")
    assert "1 offer imported" in text_of(page)
    assert session.scalar(select(Offer.title).where(Offer.organisation_id == supplier.id)) == row[1]


def test_a_bad_row_shows_every_problem_by_row_and_imports_nothing(officer_browser, session, group):
    before = needs_count(session)
    content = csv_bytes(
        [NEED_HEADER, need_row(group.name), need_row("Nobody", "Hall"), need_row(group.name, district="Narnia")]
    )

    page = upload(officer_browser, content)

    html, text = page.get_data(as_text=True), text_of(page)
    assert page.status_code == 200 and "<title>Error:" in html
    assert "There is a problem" in text
    assert "Nothing was imported: 3 problems in 2 rows." in text
    assert 'href="#row-problems"' in html and 'id="row-problems"' in html
    rows = re.findall(
        r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>\s*<td[^>]*>([^<]+)</td>', html
    )
    assert rows == [("3", "organisation"), ("3", "title"), ("4", "district")]
    assert "There is no community group called &#39;Nobody&#39;" in html
    assert "Unknown district: Narnia" in text
    assert needs_count(session) == before


@pytest.mark.parametrize(
    ("content", "kind", "filename", "message"),
    [
        (b"", "needs", "empty.csv", "The file is empty."),
        (b"title,colour\r\nx,y\r\n", "needs", "odd.csv", "The column &#39;colour&#39; is not known."),
        (b"organisation,title\r\n", None, "a.csv", "Select whether the file holds needs or offers"),
        (b"\xff\xfeo\x00r\x00", "offers", "utf16.csv", "The file is not UTF-8 text."),
    ],
    ids=["empty", "unknown-column", "no-kind", "not-utf8"],
)
def test_file_problems_are_shown_in_the_error_summary_and_beside_the_file(
    officer_browser, session, content, kind, filename, message
):
    page = upload(officer_browser, content, kind=kind, filename=filename)
    html = page.get_data(as_text=True)
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    assert message in summary
    assert "govuk-error-message" in html and "row-problems" not in html


def test_no_file_chosen(officer_browser):
    page = officer_browser.submit("/officer/import", {"kind": "needs"})
    assert "Select a CSV file" in text_of(page)


def test_a_file_over_the_limit_is_refused_on_the_form(officer_browser):
    # Encoded here, in memory: the test client spools large forms to a file it leaves open.
    token = csrf_token(officer_browser.client.get("/officer/import").get_data(as_text=True))
    body = (
        (
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n\r\n'
        ).encode()
        + b"x" * (1024 * 1024)
        + b"\r\n--b--\r\n"
    )
    page = officer_browser.client.post("/officer/import", data=body, content_type="multipart/form-data; boundary=b")
    assert page.status_code == 413
    assert "The file must be 1 MB or smaller" in text_of(page) and 'type="file"' in page.get_data(as_text=True)


def test_formula_cells_are_imported_as_text_and_listed_on_the_result_page(officer_browser, session, group):
    page = upload(officer_browser, csv_bytes([NEED_HEADER, need_row(group.name, "=1+1 chairs please")]))
    text = text_of(page)
    assert "1 need imported" in text and "Starts with &#39;=&#39;" in page.get_data(as_text=True)
    assert session.scalar(select(Need.title).where(Need.organisation_id == group.id)) == "=1+1 chairs please"


def test_only_officers_see_the_import_pages(browser, make_user, client):
    assert client.get("/officer/import").status_code == 302  # to sign in
    browser.sign_in(make_user("community"))
    for url in ("/officer/import", "/officer/import/needs-template.csv"):
        assert client.get(url).status_code == 403


def test_an_unknown_import_is_not_found(officer_browser):
    assert officer_browser.client.get("/officer/import/999999").status_code == 404
