"""Findings of issue 12 ("Hardening, round two") through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import re

import pytest
from sqlalchemy import func, select

from marketplace.app import create_app
from marketplace.models import Need
from marketplace.services import accounts, needs
from tests.conftest import need_fields, offer_fields


def test_answers_to_a_token_are_never_stored(client, make_user, bearer):
    user = make_user("community")
    response = client.get("/api/v1/me", headers=bearer(user))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    public = client.get("/api/v1/needs")
    assert "no-store" not in public.headers.get("Cache-Control", "")


def test_made_up_bearer_tokens_count_against_the_address(config, session_factory, make_user, session):
    client = create_app(
        config.with_overrides(api_rate_limit="10 per minute"), session_factory=session_factory
    ).test_client()
    statuses = [
        client.get("/api/v1/measures", headers={"Authorization": f"Bearer svm_made_up_{n}"}).status_code
        for n in range(12)
    ]
    assert statuses == [401] * 10 + [429] * 2
    limiter = client.application.extensions["marketplace"].limiter
    # The limiter's memory holds the address, not one counter per invented token.
    keys = list(limiter.storage.events)
    assert any("address:" in key for key in keys)
    assert not any("made_up" in key for key in keys)
    assert sum("token:" in key for key in keys) == 0
    _, plain = accounts.create_token(session, make_user("community"), "a real script")
    session.flush()
    assert client.get("/api/v1/measures", headers={"Authorization": f"Bearer {plain}"}).status_code == 200


def _post_raw(client, url, text, headers):
    return client.post(url, data=text.encode("utf-8"), headers={**headers, "Content-Type": "application/json"})


@pytest.mark.parametrize("field", ["title", "description", "quantity"])
def test_a_lone_surrogate_is_refused_naming_the_field(client, session, make_user, bearer, field):
    headers = bearer(make_user("community"))
    before = session.scalar(select(func.count()).select_from(Need))
    body = json.dumps(need_fields()).replace('"' + field + '": "', '"' + field + '": "\\ud800', 1)
    response = _post_raw(client, "/api/v1/needs", body, headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["fields"]
    assert error["field_codes"][field] == "bad_characters"
    assert session.scalar(select(func.count()).select_from(Need)) == before


def test_a_lone_surrogate_in_a_patch_is_refused(client, make_user, bearer, session, today):
    user = make_user("community")
    need = needs.post_need(session, user, need_fields(), today)
    session.flush()
    response = _post_raw(client, f"/api/v1/needs/{need.id}", "", bearer(user))
    response = client.patch(
        f"/api/v1/needs/{need.id}",
        data='{"title": "Tables \\udfff for us"}',
        headers={**bearer(user), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "title" in response.get_json()["error"]["fields"]


def test_json_numbers_are_read_as_decimals_not_floats(client, make_user, bearer):
    headers = bearer(make_user("supplier"))
    body = json.dumps(offer_fields()).replace('"capacity": 1200', '"capacity": 0.1000000000000000001')
    response = _post_raw(client, "/api/v1/offers", body, headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"]["capacity"] == "Capacity can have at most 2 decimal places"
    assert error["field_codes"]["capacity"] == "too_precise"


def test_a_number_in_quotes_is_refused_where_the_schema_says_number(client, make_user, bearer):
    headers = bearer(make_user("supplier"))
    response = client.post("/api/v1/offers", json=offer_fields(capacity="5"), headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["fields"]["capacity"] == "Capacity must be null or a number, like 40 (without quotes)"
    assert error["field_codes"]["capacity"] == "wrong_type"
    assert client.post("/api/v1/offers", json=offer_fields(capacity=5), headers=headers).status_code == 201


def test_error_messages_name_fields_in_words_and_keep_the_keys(client, make_user, bearer, officer):
    """A message is read by a person: "Need ID", not "need_id"; the key stays for programs."""
    supplier, council = bearer(make_user("supplier")), bearer(officer)
    asked = [
        (client.post, "/api/v1/pledges", {"need_id": "seven", "quantity": 1}, supplier),
        (client.get, "/api/v1/contracts?supplier_id=x", None, council),
        (client.get, "/api/v1/contracts?supplier_id=1&supplier_id=2", None, council),
        (client.get, "/api/v1/reports/social-value?format=xml", None, council),
    ]
    messages = []
    for call, url, body, headers in asked:
        response = call(url, json=body, headers=headers) if body is not None else call(url, headers=headers)
        assert response.status_code == 422, response.get_data(as_text=True)[:300]
        messages.append(response.get_json()["error"]["fields"])
    assert messages[0]["need_id"] == "Need ID must be a whole number, like 3"
    assert messages[1] == {"supplier_id": "Supplier ID must be a whole number"}
    assert messages[2] == {"supplier_id": "Supplier ID is given more than once; give it once"}
    assert messages[3] == {"format": "Format must be json or csv"}
    for fields in messages:
        for message in fields.values():
            assert not re.search(r"[a-z]+_[a-z]+", message), message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(client, make_user, bearer, constant):
    headers = bearer(make_user("supplier"))
    body = json.dumps(offer_fields()).replace('"capacity": 1200', f'"capacity": {constant}')
    response = _post_raw(client, "/api/v1/offers", body, headers)
    assert response.status_code == 400
    assert f"{constant} is not a number in JSON" in response.get_json()["error"]["message"]


def test_a_chunked_body_over_1_mb_is_413(client, make_user, bearer):
    headers = bearer(make_user("community"))
    body = json.dumps(need_fields(description="x" * (1100 * 1024))).encode()
    response = client.post(
        "/api/v1/needs",
        input_stream=io.BytesIO(body),
        headers={**headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("to=9999-12-31", 200),
        ("from=0001-01-01&to=9999-12-31", 200),
        ("to=9999-12-31&format=csv", 200),
        ("to=10000-01-01", 422),
        ("to=2026-02-30", 422),
    ],
)
def test_any_real_date_works_in_reports_and_others_are_422(client, officer, bearer, query, status):
    response = client.get(f"/api/v1/reports/social-value?{query}", headers=bearer(officer))
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    if status == 422:
        assert response.get_json()["error"]["field_codes"]["to"] == "not_a_date"
