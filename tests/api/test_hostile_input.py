"""Bad input always gets a clear answer: never a 500, and nothing changes."""

import pytest
from sqlalchemy import func, select

from marketplace.models import Need
from tests.conftest import need_fields


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
