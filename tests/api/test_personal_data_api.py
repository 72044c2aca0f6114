"""GET /api/v1/me/data and POST /api/v1/me/close."""

from tests.conftest import PASSWORD


def test_my_data_through_the_api(client, make_user, bearer):
    user = make_user("community")
    response = client.get("/api/v1/me/data", headers=bearer(user))
    assert response.status_code == 200
    assert response.get_json()["account"]["email"] == user.email
    assert client.get("/api/v1/me/data").status_code == 401


def test_close_through_the_api_needs_the_password_and_ends_the_token(client, make_user, bearer):
    user = make_user("supplier")
    headers = bearer(user)
    refused = client.post("/api/v1/me/close", json={"password": "wrong"}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"] == {"password": "Enter your current password to close your account"}
    assert client.post("/api/v1/me/close", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/me/close", json={"password": PASSWORD, "also": 1}, headers=headers).status_code == 422
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    assert client.post("/api/v1/me/close", json={"password": PASSWORD}, headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
