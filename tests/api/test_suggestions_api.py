from tests.conftest import need_fields, offer_fields


def test_need_suggestions_shape_and_rules(client, make_user, bearer):
    member = make_user("community")
    need = client.post(
        "/api/v1/needs",
        json=need_fields(
            title="Volunteers to paint our community centre",
            category="volunteering",
            district="Blaby",
            description="The hall needs two coats of paint; we need a team of volunteers for a weekend.",
        ),
        headers=bearer(member),
    ).get_json()
    supplier = make_user("supplier")
    offer = client.post(
        "/api/v1/offers",
        json=offer_fields(
            title="Staff volunteering team for painting and decorating",
            category="volunteering",
            districts=["Blaby"],
            measure="volunteering-hours",
            capacity=60,
            description="A team of ten staff can paint and decorate a community building over a weekend.",
        ),
        headers=bearer(supplier),
    ).get_json()
    body = client.get(f"/api/v1/needs/{need['id']}/suggestions?limit=3", headers=bearer(supplier)).get_json()
    assert body["no_good_match"] is False
    first = body["items"][0]
    assert first["offer"]["id"] == offer["id"]
    assert 0 <= first["score"] <= 1 and first["reasons"]
    back = client.get(f"/api/v1/offers/{offer['id']}/suggestions", headers=bearer(supplier)).get_json()
    assert back["items"][0]["need"]["id"] == need["id"]
    mine = client.get("/api/v1/suggestions/needs", headers=bearer(supplier)).get_json()
    assert mine["items"][0]["need"]["id"] == need["id"]
    assert mine["items"][0]["via_offer"]["id"] == offer["id"]


def test_suggestion_errors(client, make_user, make_need, make_offer, bearer):
    need = make_need()
    offer = make_offer()
    assert client.get(f"/api/v1/needs/{need.id}/suggestions").status_code == 401
    assert (
        client.get(f"/api/v1/needs/{need.id}/suggestions?limit=500", headers=bearer(make_user("officer"))).status_code
        == 422
    )
    assert (
        client.get(f"/api/v1/offers/{offer.id}/suggestions", headers=bearer(make_user("supplier"))).status_code == 403
    )
    assert client.get("/api/v1/needs/999999/suggestions", headers=bearer(make_user("supplier"))).status_code == 404
    assert client.get("/api/v1/suggestions/needs", headers=bearer(make_user("community"))).status_code == 403
