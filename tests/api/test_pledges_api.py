"""The whole pledge journey through the API, as three different callers."""

from tests.conftest import need_fields, offer_fields


def test_journey_need_offer_pledge_accept_approve_deliver_confirm(client, make_user, officer, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    as_group, as_supplier, as_officer = bearer(group), bearer(supplier), bearer(officer)
    need = client.post("/api/v1/needs", json=need_fields(category="goods"), headers=as_group).get_json()
    offer = client.post(
        "/api/v1/offers",
        json=offer_fields(category="goods", measure="goods-donated", capacity=500),
        headers=as_supplier,
    ).get_json()
    contract = client.post(
        "/api/v1/contracts",
        json={"reference": "LCC-2026-0142", "title": "Office cleaning", "supplier_id": supplier.organisation_id,
              "value": 250000, "start_date": "2026-04-01", "end_date": "2029-03-31", "social_value_target": 12500},
        headers=as_officer,
    )  # fmt: skip
    assert contract.status_code == 201
    contract = contract.get_json()
    response = client.post(
        "/api/v1/pledges",
        json={"need_id": need["id"], "offer_id": offer["id"], "contract_id": contract["id"], "quantity": 300,
              "message": "Six desks and chairs"},
        headers=as_supplier,
    )  # fmt: skip
    assert response.status_code == 201
    pledge = response.get_json()
    assert pledge["measure"] == "goods-donated" and pledge["value"] is None
    assert pledge["supplier"] == {"id": supplier.organisation_id, "name": supplier.organisation.name}
    url = f"/api/v1/pledges/{pledge['id']}"
    assert client.post(f"{url}/accept", headers=as_group).get_json()["status"] == "accepted"
    approved = client.post(f"{url}/approve", headers=as_officer).get_json()
    assert approved["status"] == "approved" and approved["value"] == 300.0
    assert client.post(f"{url}/approve", headers=as_officer).status_code == 409
    delivered = client.post(f"{url}/deliver", json={"evidence": "Delivered on 2 June", "actual_quantity": 280,
                                                 "declaration": True}, headers=as_supplier).get_json()  # fmt: skip
    assert delivered["quantity"] == 280.0 and delivered["value"] == 280.0  # a partial delivery
    assert delivered["committed_value"] == 300.0
    assert client.post(f"{url}/accept-evidence", headers=as_officer).status_code == 200
    confirmed = client.post(f"{url}/confirm", headers=as_group).get_json()
    assert confirmed["status"] == "confirmed"
    assert [(h["from"], h["to"]) for h in confirmed["history"]] == [
        (None, "proposed"), ("proposed", "accepted"), ("accepted", "approved"),
        ("approved", "delivered"), ("delivered", "delivered"), ("delivered", "confirmed"),
    ]  # fmt: skip
    progress = client.get(f"/api/v1/contracts/{contract['id']}", headers=as_supplier).get_json()
    assert progress["committed"] == 300.0 and progress["delivered"] == 280.0 and progress["behind_target"] is True
    listed = client.get(f"/api/v1/pledges?status=confirmed&need_id={need['id']}", headers=as_group).get_json()
    assert [p["id"] for p in listed["items"]] == [pledge["id"]]


def test_pledge_errors_have_the_right_codes(client, make_user, make_need, make_offer, officer, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group)
    as_supplier = bearer(supplier)
    assert client.post(
        "/api/v1/pledges", json={"need_id": need.id, "quantity": 1, "measure": "goods-donated"}
    ).status_code in (400, 401)
    assert client.post("/api/v1/pledges", json={"need_id": need.id, "quantity": -2, "measure": "goods-donated"},
                       headers=as_supplier).status_code == 422  # fmt: skip
    assert client.post("/api/v1/pledges", json={"need_id": 999999, "quantity": 1, "measure": "goods-donated"},
                       headers=as_supplier).status_code == 404  # fmt: skip
    their_offer = make_offer()
    assert client.post("/api/v1/pledges", json={"need_id": need.id, "offer_id": their_offer.id, "quantity": 1},
                       headers=as_supplier).status_code == 403  # fmt: skip
    pledge = client.post("/api/v1/pledges", json={"need_id": need.id, "quantity": 2, "measure": "goods-donated"},
                         headers=as_supplier).get_json()  # fmt: skip
    response = client.post(f"/api/v1/pledges/{pledge['id']}/reject", json={"reason": "no"}, headers=bearer(officer))
    assert response.status_code == 409 and "proposed" in response.get_json()["error"]["message"]
    assert client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=as_supplier).status_code == 403
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=bearer(make_user("supplier"))).status_code == 404
    assert client.get("/api/v1/pledges?status=lost", headers=as_supplier).status_code == 422


def test_contracts_and_measures_are_managed_by_officers(client, make_user, officer, bearer):
    supplier = make_user("supplier")
    body = {"reference": "LCC-9", "title": "Bridges", "supplier_id": supplier.organisation_id, "value": 90000,
            "start_date": "2026-01-01", "end_date": "2025-01-01"}  # fmt: skip
    response = client.post("/api/v1/contracts", json=body, headers=bearer(officer))
    assert response.status_code == 422 and "end_date" in response.get_json()["error"]["fields"]
    assert client.post("/api/v1/contracts", json=body, headers=bearer(supplier)).status_code == 403
    created = client.post(
        "/api/v1/contracts", json={**body, "end_date": "2027-01-01"}, headers=bearer(officer)
    ).get_json()
    assert created["needs_target"] is True
    patched = client.patch(
        f"/api/v1/contracts/{created['id']}", json={"social_value_target": 4500}, headers=bearer(officer)
    )
    assert patched.get_json()["needs_target"] is False
    assert client.get(f"/api/v1/contracts/{created['id']}", headers=bearer(make_user("supplier"))).status_code == 403
    measure = client.patch(
        "/api/v1/measures/expert-hours", json={"proxy_value": 110}, headers=bearer(officer)
    ).get_json()
    assert measure["proxy_value"] == 110.0 and measure["proxy_version"] == 2
    assert (
        client.patch("/api/v1/measures/expert-hours", json={"proxy_value": -1}, headers=bearer(officer)).status_code
        == 422
    )
    assert client.patch("/api/v1/measures/nope", json={"name": "Nope"}, headers=bearer(officer)).status_code == 404
    new = client.post("/api/v1/measures", json={"code": "trees-planted", "name": "Trees planted", "unit": "tree",
                                                "proxy_value": 25, "outcomes": ["great-communities"]},
                      headers=bearer(officer))  # fmt: skip
    assert new.status_code == 201 and new.get_json()["code"] == "trees-planted"
    assert (
        client.post(
            "/api/v1/measures", json={"code": "x", "name": "Xx", "unit": "u"}, headers=bearer(supplier)
        ).status_code
        == 403
    )


def test_the_same_pending_pledge_twice_is_a_409_and_changes_nothing(client, make_user, make_need, make_offer, bearer):
    need = make_need(category="volunteering")
    supplier = make_user("supplier")
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=100)
    as_supplier = bearer(supplier)
    pledge = {"need_id": need.id, "offer_id": offer.id, "quantity": 10, "message": "Ten hours of gardening"}
    first = client.post("/api/v1/pledges", json=pledge, headers=as_supplier)
    assert first.status_code == 201

    again = client.post("/api/v1/pledges", json=pledge, headers=as_supplier)

    assert again.status_code == 409
    error = again.get_json()["error"]
    assert error["code"] == "conflict" and "has already pledged 10 hours" in error["message"]
    mine = client.get("/api/v1/pledges", headers=as_supplier).get_json()
    assert mine["total"] == 1
    # Once the first is cancelled, the same pledge can be made again.
    assert (
        client.post(f"/api/v1/pledges/{first.get_json()['id']}/cancel", json={}, headers=as_supplier).status_code == 200
    )
    assert client.post("/api/v1/pledges", json=pledge, headers=as_supplier).status_code == 201
