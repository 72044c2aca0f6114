"""POST /api/v1/imports/needs and /imports/offers: officers import a CSV, all rows or none."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from marketplace.models import Need, Offer
from tests.services.test_bulk_import import DESCRIPTION, NEED_HEADER, OFFER_HEADER, csv_bytes, need_row

CSV = {"Content-Type": "text/csv; charset=utf-8"}


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def group(make_user):
    return make_user("community", organisation="Blaby Men's Shed").organisation


def test_an_officer_imports_needs_from_a_csv_body(client, bearer, officer, session, group):
    content = csv_bytes([NEED_HEADER, need_row(group.name, "Workbench for the shed"), need_row(group.name)], bom=True)

    response = client.post("/api/v1/imports/needs", data=content, headers={**bearer(officer), **CSV})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "needs" and body["created"] == 2 and len(body["ids"]) == 2
    first = session.get(Need, body["ids"][0])
    assert (first.title, first.organisation_id, first.assisted) == ("Workbench for the shed", group.id, True)
    assert body["items"][0] == {"id": first.id, "title": first.title, "url": f"/api/v1/needs/{first.id}"}
    assert body["warnings"] == [] and body["result_page"].startswith("/officer/import/")
    # The new need is served like any other.
    assert client.get(body["items"][0]["url"], headers=bearer(officer)).get_json()["title"] == first.title


def test_an_officer_imports_offers_from_a_multipart_form(client, bearer, officer, session, make_user):
    supplier = make_user("supplier", organisation="Blaby Vans Ltd").organisation
    row = [supplier.name, "A van and driver for a day", DESCRIPTION, "transport", "Blaby; Harborough", "", ""]

    response = client.post(
        "/api/v1/imports/offers",
        data={"file": (io.BytesIO(csv_bytes([OFFER_HEADER, row])), "offers.csv")},
        headers=bearer(officer),
        content_type="multipart/form-data",
    )

    assert response.status_code == 201, response.get_json()
    offer = session.get(Offer, response.get_json()["ids"][0])
    assert offer.organisation_id == supplier.id and [d.code for d in offer.districts] == ["Blaby", "Harborough"]


def test_one_bad_row_gets_422_with_every_problem_and_nothing_is_created(client, bearer, officer, session, group):
    before = count(session, Need)
    content = csv_bytes([NEED_HEADER, need_row(group.name), need_row(group.name, "Hut", outcomes="")])

    response = client.post("/api/v1/imports/needs", data=content, headers={**bearer(officer), **CSV})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == (
        "Nothing was imported: 2 problems in 1 row. Correct them in the spreadsheet and upload it again."
    )
    assert error["rows"] == [
        {"row": 3, "column": "title", "message": "Title must be 5 characters or more"},
        {
            "row": 3,
            "column": "outcomes",
            "message": "Enter at least one outcome (a code or name from the lists on the import page)",
        },
    ]
    assert error["fields"] == {
        "row 3: title": "Title must be 5 characters or more",
        "row 3: outcomes": "Enter at least one outcome (a code or name from the lists on the import page)",
    }
    assert count(session, Need) == before


def test_a_file_problem_is_reported_for_the_file(client, bearer, officer):
    response = client.post("/api/v1/imports/offers", data=b"", headers={**bearer(officer), **CSV})
    assert response.status_code == 422
    assert response.get_json()["error"]["rows"] == [
        {
            "row": None,
            "column": None,
            "message": "The file is empty. Use the template, with a header row and one row per item.",
        }
    ]


@pytest.mark.parametrize("role", ["community", "supplier"])
def test_only_officers_may_import(client, bearer, make_user, group, role):
    content = csv_bytes([NEED_HEADER, need_row(group.name)])
    response = client.post("/api/v1/imports/needs", data=content, headers={**bearer(make_user(role)), **CSV})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"


def test_anonymous_callers_must_sign_in(client, group):
    response = client.post("/api/v1/imports/needs", data=csv_bytes([NEED_HEADER, need_row(group.name)]), headers=CSV)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "not_signed_in"


def test_other_bodies_are_refused_with_a_clear_message(client, bearer, officer):
    json_body = client.post("/api/v1/imports/needs", json={"title": "x"}, headers=bearer(officer))
    assert json_body.status_code == 415
    assert json_body.get_json()["error"]["message"].startswith(
        "Send the CSV file as the body with Content-Type: text/csv"
    )
    no_file = client.post(
        "/api/v1/imports/needs", data={"other": "x"}, headers=bearer(officer), content_type="multipart/form-data"
    )
    assert no_file.status_code == 422
    assert no_file.get_json()["error"]["fields"] == {"file": "Send the CSV file in the form field named 'file'"}


def test_a_body_over_the_limit_gets_413(client, bearer, officer):
    response = client.post("/api/v1/imports/needs", data=b"x" * (1024 * 1024 + 1), headers={**bearer(officer), **CSV})
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for kind in ("needs", "offers"):
        operation = paths[f"/imports/{kind}"]["post"]
        assert set(operation["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}
        assert {"201", "401", "403", "413", "415", "422"} <= set(operation["responses"])
        assert "organisation" in operation["description"]
