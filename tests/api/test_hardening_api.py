"""Findings of issue 12 ("Hardening, round two") through the API, on SQLite and PostgreSQL."""

from __future__ import annotations


def test_answers_to_a_token_are_never_stored(client, make_user, bearer):
    user = make_user("community")
    response = client.get("/api/v1/me", headers=bearer(user))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    public = client.get("/api/v1/needs")
    assert "no-store" not in public.headers.get("Cache-Control", "")
