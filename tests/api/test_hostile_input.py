"""Bad input always gets a clear answer: never a 500, and nothing changes."""

import json

import pytest
from sqlalchemy import func, select

from marketplace.models import Need
from tests.conftest import need_fields, offer_fields


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/needs/99999999999999999999",
        "/api/v1/needs/-1",
        "/api/v1/needs/abc",
        "/api/v1/needs?category=%00",
        "/api/v1/needs?page=99999999999999999999",
        "/api/v1/offers?district=" + "x" * 5000,
        "/api/v1/needs?status=any&outcome=💥",
    ],
)
def test_odd_urls_get_client_errors(client, url):
    response = client.get(url)
    assert 400 <= response.status_code < 500
    assert "error" in response.get_json()


def test_nul_characters_and_deep_nesting_are_refused_cleanly(client, session, make_user, bearer):
    headers = {**bearer(make_user("community")), "Content-Type": "application/json"}
    before = session.scalar(select(func.count()).select_from(Need))
    response = client.post("/api/v1/needs", json=need_fields(quantity="two\x00three"), headers=headers)
    assert response.status_code == 422
    response = client.post("/api/v1/needs", data="[" * 100_000 + "]" * 100_000, headers=headers)
    assert response.status_code == 400
    response = client.post("/api/v1/needs", json=need_fields(outcomes=[{"deep": [1, 2]}]), headers=headers)
    assert response.status_code == 422
    assert session.scalar(select(func.count()).select_from(Need)) == before


@pytest.mark.parametrize("value", [None, 12, 1.5, True, [], {}, "x" * 100_000])
def test_every_field_survives_any_json_type(client, make_user, bearer, value):
    headers = bearer(make_user("community"))
    for field in ("title", "description", "category", "district", "outcomes", "quantity", "needed_by"):
        response = client.post("/api/v1/needs", json=need_fields(**{field: value}), headers=headers)
        assert response.status_code in (201, 422), (field, value, response.get_json())


@pytest.mark.parametrize(
    ("role", "method", "url", "body", "field"),
    [
        ("community", "post", "/api/v1/needs", need_fields(title="Tables \ud800 please"), "title"),
        ("supplier", "post", "/api/v1/offers", offer_fields(description="A room \udfff" * 5), "description"),
        ("community", "patch", "/api/v1/me", {"name": "Sam \ud800"}, "name"),
        ("officer", "post", "/api/v1/measures", {"code": "x-hours", "name": "Hours \ud800", "unit": "hour"}, "name"),
        ("officer", "post", "/api/v1/contracts", {"reference": "C-1", "title": "Roads \udc00"}, "title"),
        ("supplier", "post", "/api/v1/pledges", {"need_id": 1, "quantity": 5, "message": "\ud800"}, "message"),
    ],
)
def test_a_lone_surrogate_is_422_naming_the_field_on_every_endpoint_that_writes_text(
    client, make_user, officer, bearer, role, method, url, body, field
):
    """Issue 12, finding 3: the driver cannot encode it, so it must never reach the database."""
    user = officer if role == "officer" else make_user(role)
    text = json.dumps(body)  # json.dumps writes a lone surrogate as the escape \\ud800, as a client would
    response = getattr(client, method)(url, data=text, headers={**bearer(user), "Content-Type": "application/json"})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]


def test_a_repeated_query_parameter_is_refused_not_half_read(client, make_user, bearer):
    # Reading only the first supplier_id would list one supplier's contracts for a caller who
    # also asked about a second (or about nonsense).
    headers = bearer(make_user("officer"))
    response = client.get("/api/v1/contracts?supplier_id=1&supplier_id=%5B2%5D", headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"] == {"supplier_id": "Supplier ID is given more than once; give it once"}
    assert client.get("/api/v1/contracts?supplier_id=1", headers=headers).status_code == 200
    assert client.get("/api/v1/needs?category=goods&category=goods", headers=headers).status_code == 422
