"""The social value report API: JSON and CSV of the same figures, for officers only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from marketplace.models import PledgeStatus
from tests.services.test_reports import make_contract, pledge_to

URL = "/api/v1/reports/social-value"


@pytest.fixture
def pledged(session, make_user, make_need, officer):
    """A contract with an approved and a confirmed pledge, and a confirmed pledge without a contract."""
    group = make_user("community")
    supplier = make_user("supplier", organisation="Acme Builders")
    need = make_need(by=group, district="Melton", outcomes=["strong-economy", "great-communities"])
    contract = make_contract(session, officer, supplier, "LCC-0042", "10000")
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    march = datetime(2026, 3, 10, 12, tzinfo=UTC)
    pledge_to(session, PledgeStatus.APPROVED, contract=contract, quantity=100, approved_at=march, **kw)  # £1,693
    pledge_to(session, PledgeStatus.CONFIRMED, contract=contract, measure="expert-hours", quantity=3, **kw)  # £303
    pledge_to(session, PledgeStatus.CONFIRMED, measure="work-placement-weeks", quantity=4, **kw)  # £0, 4 weeks
    return {"contract": contract, "supplier": supplier, "group": group}


def test_officer_gets_json_grouped_by_contract(client, bearer, officer, pledged):
    response = client.get(URL, query_string={"group_by": "contract"}, headers=bearer(officer))
    assert response.status_code == 200
    body = response.get_json()
    assert body["rows"] == [
        {
            "key": pledged["contract"].id,
            "label": "LCC-0042: Contract LCC-0042",
            "committed": 1996.0,
            "delivered": 303.0,
            "pledges": 2,
            "units": {
                "expert-hours": {"committed": 3.0, "delivered": 3.0, "reported_delivered": 3.0, "overdue": 0.0},
                "volunteering-hours": {"committed": 100.0, "delivered": 0.0, "reported_delivered": 0.0, "overdue": 0.0},
            },
            "committed_value": 1996.0,
            "reported_delivered_value": 303.0,
            "delivered_value": 303.0,
            "overdue_value": 0.0,
            "delivery_rate": 0.1518,
        },
        {
            "key": None,
            "label": "No contract",
            "committed": 0.0,
            "delivered": 0.0,
            "pledges": 1,
            "units": {
                "work-placement-weeks": {"committed": 4.0, "delivered": 4.0, "reported_delivered": 4.0, "overdue": 0.0}
            },
            "committed_value": 0.0,
            "reported_delivered_value": 0.0,
            "delivered_value": 0.0,
            "overdue_value": 0.0,
            "delivery_rate": None,
        },
    ]
    assert body["totals"]["committed"] == 1996.0
    assert body["totals"]["delivered"] == 303.0
    assert body["totals"]["units"]["work-placement-weeks"]["delivered"] == 4.0


def test_outcome_rows_are_split_and_add_up(client, bearer, officer, pledged):
    body = client.get(URL, query_string={"group_by": "outcome"}, headers=bearer(officer)).get_json()
    assert [row["key"] for row in body["rows"]] == ["strong-economy", "great-communities"]
    assert [row["committed"] for row in body["rows"]] == [998.0, 998.0]
    assert sum(row["committed"] for row in body["rows"]) == body["totals"]["committed"]
    assert body["split_between_outcomes"] is True


def test_date_filters_apply_to_approval(client, bearer, officer, pledged):
    body = client.get(
        URL, query_string={"group_by": "month", "from": "2026-03-01", "to": "2026-03-31"}, headers=bearer(officer)
    ).get_json()
    assert [(row["key"], row["committed"]) for row in body["rows"]] == [("2026-03", 1693.0)]
    assert body["totals"] == {
        "committed": 1693.0,
        "delivered": 0.0,
        "pledges": 1,
        "units": {
            "volunteering-hours": {"committed": 100.0, "delivered": 0.0, "reported_delivered": 0.0, "overdue": 0.0}
        },
        "committed_value": 1693.0,
        "reported_delivered_value": 0.0,
        "delivered_value": 0.0,
        "overdue_value": 0.0,
        "delivery_rate": 0.0,
    }


def test_csv_download(client, bearer, officer, pledged):
    response = client.get(
        URL, query_string={"group_by": "supplier", "format": "csv", "from": "2026-01-01"}, headers=bearer(officer)
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "social-value-by-supplier-from-2026-01-01.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    row = rows[0]
    assert row["key"] == str(pledged["supplier"].organisation_id)
    assert row["label"] == "Acme Builders"
    assert (row["committed"], row["delivered"], row["pledges"]) == ("1996.00", "303.00", "3")
    assert row["committed_units:volunteering-hours"] == "100.00"
    assert row["delivered_units:expert-hours"] == "3.00"
    assert row["delivered_units:work-placement-weeks"] == "4.00"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "contract", "from": "last tuesday"}, "from"),
        ({"group_by": "contract", "to": "2026-13-01"}, "to"),
        ({"group_by": "contract", "format": "xlsx"}, "format"),
    ],
)
def test_bad_parameters_are_422(client, bearer, officer, query, field):
    response = client.get(URL, query_string=query, headers=bearer(officer))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]


def test_only_officers(client, bearer, make_user):
    assert client.get(URL).status_code == 401
    for role in ("supplier", "community"):
        response = client.get(URL, headers=bearer(make_user(role)))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"


def test_documented_in_openapi(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/reports/social-value"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"group_by", "from", "to", "format"}
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
    assert "SocialValueReport" in document["components"]["schemas"]
