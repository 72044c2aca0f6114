from tests.conftest import offer_fields


def test_offer_round_trip_with_districts_and_capacity(client, make_user, bearer):
    headers = bearer(make_user("supplier"))
    response = client.post("/api/v1/offers", json=offer_fields(districts=["Melton", "Blaby"]), headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["districts"] == ["Blaby", "Melton"]
    assert body["measure"] == "premises-provided" and body["capacity"] == 1200.0
    assert body["available_until"] is None


def test_pause_resume_withdraw_follow_the_lifecycle(client, make_user, make_offer, bearer):
    supplier = make_user("supplier")
    offer = make_offer(by=supplier)
    headers = bearer(supplier)
    assert client.post(f"/api/v1/offers/{offer.id}/pause", headers=headers).get_json()["status"] == "paused"
    assert client.post(f"/api/v1/offers/{offer.id}/pause", headers=headers).status_code == 409
    assert client.post(f"/api/v1/offers/{offer.id}/resume", headers=headers).get_json()["status"] == "open"
    assert client.post(f"/api/v1/offers/{offer.id}/withdraw", headers=headers).get_json()["status"] == "withdrawn"
    assert client.post(f"/api/v1/offers/{offer.id}/resume", headers=headers).status_code == 409
    assert client.post(f"/api/v1/offers/{offer.id}/explode", headers=headers).status_code == 404


def test_other_supplier_gets_403(client, make_user, make_offer, bearer):
    offer = make_offer()
    response = client.post(f"/api/v1/offers/{offer.id}/withdraw", headers=bearer(make_user("supplier")))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_districts_must_be_a_list(client, make_user, bearer):
    response = client.post(
        "/api/v1/offers", json=offer_fields(districts="Melton"), headers=bearer(make_user("supplier"))
    )
    assert response.status_code == 422
    assert "districts" in response.get_json()["error"]["fields"]
