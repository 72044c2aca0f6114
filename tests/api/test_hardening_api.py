"""Findings of issue 12 ("Hardening, round two") through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from marketplace.app import create_app
from marketplace.services import accounts


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
