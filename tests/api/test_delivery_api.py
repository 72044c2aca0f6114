"""Delivery you can prove, through the API: edits never undercut what is pledged, an approved
pledge's value changes only through an officer, and the whole journey with evidence files."""

from tests.conftest import need_fields


def _pledge(client, headers, need_id, **fields):
    body = {"need_id": need_id, "quantity": 10, "measure": "volunteering-hours", **fields}
    response = client.post("/api/v1/pledges", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_offer_capacity_cannot_go_below_what_is_pledged(client, make_user, make_offer, make_need, bearer):
    supplier = make_user("supplier")
    headers = bearer(supplier)
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=40)
    _pledge(client, headers, make_need(category="volunteering").id, offer_id=offer.id, quantity=25)

    response = client.patch(f"/api/v1/offers/{offer.id}", json={"capacity": 20}, headers=headers)
    assert response.status_code == 422
    assert "25 hour already pledged" in response.get_json()["error"]["fields"]["capacity"]
    assert client.get(f"/api/v1/offers/{offer.id}", headers=headers).get_json()["capacity"] == 40.0

    response = client.patch(f"/api/v1/offers/{offer.id}", json={"measure": "premises-provided"}, headers=headers)
    assert response.status_code == 422
    assert "cannot change" in response.get_json()["error"]["fields"]["measure"]
    assert client.get(f"/api/v1/offers/{offer.id}", headers=headers).get_json()["measure"] == "volunteering-hours"

    assert client.patch(f"/api/v1/offers/{offer.id}", json={"capacity": 25}, headers=headers).status_code == 200


def test_need_quantity_cannot_go_below_what_is_pledged(client, make_user, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    fields = need_fields(category="volunteering", measure="volunteering-hours", quantity_needed=30)
    need = client.post("/api/v1/needs", json=fields, headers=bearer(group)).get_json()
    _pledge(client, bearer(supplier), need["id"], quantity=18)

    response = client.patch(f"/api/v1/needs/{need['id']}", json={"quantity_needed": 10}, headers=bearer(group))
    assert response.status_code == 422
    assert "18 hour already pledged" in response.get_json()["error"]["fields"]["quantity_needed"]
    response = client.patch(f"/api/v1/needs/{need['id']}", json={"measure": "expert-hours"}, headers=bearer(group))
    assert response.status_code == 422
    after = client.get(f"/api/v1/needs/{need['id']}", headers=bearer(group)).get_json()
    assert (after["measure"], after["quantity_needed"]) == ("volunteering-hours", 30.0)
