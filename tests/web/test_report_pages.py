"""The officers' report page and the public impact page, as people see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from marketplace.models import PledgeStatus
from tests.services.test_reports import make_contract, pledge_to


@pytest.fixture
def pledged(session, make_user, make_need, officer):
    """Two contracts (one behind its target) with pledges in several states."""
    group = make_user("community", organisation="Melton Lunch Club")
    supplier = make_user("supplier", organisation="Acme Builders")
    need = make_need(by=group, title="Minibus for the lunch club", district="Melton")
    behind = make_contract(session, officer, supplier, "LCC-0042", "10000")
    on_track = make_contract(session, officer, supplier, "LCC-0043", "100")
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.APPROVED, contract=behind, quantity=1500, measure="funding-donated",
              approved_at=datetime(2026, 3, 10, 12, tzinfo=UTC), **kw)  # fmt: skip
    pledge_to(session, PledgeStatus.CONFIRMED, contract=on_track, quantity=20, **kw)  # £338.60
    pledge_to(session, PledgeStatus.CONFIRMED, measure="work-placement-weeks", quantity=4, **kw)
    pledge_to(session, PledgeStatus.DELIVERED, measure="funding-donated", quantity=50, **kw)
    return {"group": group, "supplier": supplier, "officer": officer}


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_officer_sees_report_chart_table_and_downloads(browser, client, pledged):
    browser.sign_in(pledged["officer"])
    response = client.get("/officer/reports")
    assert response.status_code == 200
    page = text_of(response)
    assert '<h1 class="govuk-heading-l">Social value reports</h1>' in page
    # The chart is an image with a text summary, and the table carries every figure.
    assert re.search(r'<svg role="img" aria-labelledby="chart-title chart-desc"', page)
    assert '<title id="chart-title">Committed and delivered social value by contract</title>' in page
    assert "Committed and delivered social value by contract, in £ and in units</caption>" in page
    assert "LCC-0042: Contract LCC-0042" in page
    assert "£1,500" in page  # committed on LCC-0042
    assert "£1,888.60" in page  # total committed: 1,500 + 338.60 + 0 + 50
    assert "£338.60" in page  # delivered
    assert "4 weeks committed, 4 weeks confirmed" in page
    assert "no £ proxy" in page
    assert 'href="/api/v1/reports/social-value?format=csv&amp;group_by=contract"' in page
    assert 'href="/api/v1/reports/social-value?format=json&amp;group_by=contract"' in page
    # Contracts behind target: LCC-0042 has £1,500 of £10,000; LCC-0043 met its £100.
    behind = page.split("Contracts behind their target")[1]
    assert "LCC-0042" in behind and "£8,500" in behind
    assert "LCC-0043" not in behind


def test_grouping_and_date_filters(browser, client, pledged):
    browser.sign_in(pledged["officer"])
    page = text_of(
        client.get(
            "/officer/reports",
            query_string={"group_by": "month", "from-day": "1", "from-month": "3", "from-year": "2026",
                          "to-day": "31", "to-month": "3", "to-year": "2026"},
        )
    )  # fmt: skip
    assert "by month approved" in page
    assert "Pledges approved from 1 March 2026 to 31 March 2026." in page
    assert ">March 2026</th>" in page
    assert "1 pledge: £1,500 committed, £0 reported delivered, £0 confirmed, £0 overdue; delivery rate 0%." in page
    assert "from=2026-03-01" in page and "to=2026-03-31" in page
    outcome = text_of(client.get("/officer/reports?group_by=outcome"))
    assert "split equally between those outcomes" in outcome


@pytest.mark.parametrize(
    ("query", "message", "href"),
    [
        ({"from-day": "31", "from-month": "2", "from-year": "2026"}, "The start date must be a real date", "#from-day"),
        ({"to-day": "x", "to-month": "", "to-year": ""}, "The end date must include a month and year", "#to-day"),
        ({"from-day": "1", "from-month": "4", "from-year": ""}, "The start date must include a year", "#from-day"),
        ({"group_by": "colour"}, "Group by one of", "#group_by"),
        (
            {
                "from-day": "2",
                "from-month": "3",
                "from-year": "2026",
                "to-day": "1",
                "to-month": "3",
                "to-year": "2026",
            },
            "The end date must be the same as or after the start date",
            "#to-day",
        ),
    ],
)
def test_bad_filters_show_an_error_summary(browser, client, pledged, query, message, href):
    browser.sign_in(pledged["officer"])
    response = client.get("/officer/reports", query_string=query)
    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Error: Social value reports" in page
    assert "govuk-error-summary" in page
    assert message in page
    assert f'href="{href}"' in page
    assert "Contracts behind their target" in page


def test_only_officers_see_reports(browser, client, pledged):
    response = client.get("/officer/reports")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    browser.sign_in(pledged["supplier"])
    assert client.get("/officer/reports").status_code == 403


def test_officer_navigation_and_dashboard_link_to_reports(browser, client, pledged):
    browser.sign_in(pledged["officer"])
    dashboard = text_of(client.get("/officer"))
    assert 'href="/officer/reports"' in dashboard
    assert 'href="/impact"' in dashboard


def test_impact_page_is_public_and_names_no_people(client, pledged):
    response = client.get("/impact")
    assert response.status_code == 200
    page = text_of(response)
    assert '<h1 class="govuk-heading-l">Social value delivered</h1>' in page
    assert "£338.60" in page  # only confirmed pledges
    assert "£1,500" not in page and "£1,888.60" not in page
    assert "20 hours" in page and "4 weeks" in page
    assert "Social value delivered by district</caption>" in page
    assert "Social value delivered by the council’s strategic outcomes</caption>" in page
    assert "Acme Builders" in page and "Melton Lunch Club" in page and "Minibus for the lunch club" in page
    assert 'href="/impact.csv"' in page and 'href="/impact.json"' in page
    for person in pledged.values():
        assert person.email not in page
        assert person.name not in page
    assert "@example" not in page
    assert 'href="/impact"' in page  # in the navigation for everyone


def test_impact_open_data(client, pledged):
    response = client.get("/impact.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "public" in response.headers["Cache-Control"]
    assert response.headers["ETag"]
    assert "Set-Cookie" not in response.headers
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert sorted((r["measure"], r["quantity"], r["value"]) for r in rows) == [
        ("volunteering-hours", "20.00", "338.60"),
        ("work-placement-weeks", "4.00", "0.00"),
    ]
    assert {r["supplier"] for r in rows} == {"Acme Builders"}
    assert "@" not in response.get_data(as_text=True)
    again = client.get("/impact.csv", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304

    data = client.get("/impact.json")
    assert "public" in data.headers["Cache-Control"]
    body = data.get_json()
    assert body["totals"]["delivered"] == 338.6
    assert body["totals"]["units"] == {"volunteering-hours": 20.0, "work-placement-weeks": 4.0}
    assert [row["label"] for row in body["by_district"]] == ["Melton"]
    assert len(body["pledges"]) == 2
    assert "@" not in data.get_data(as_text=True)


def test_impact_page_with_nothing_delivered(client):
    page = text_of(client.get("/impact"))
    assert "No social value has been confirmed as delivered yet." in page
