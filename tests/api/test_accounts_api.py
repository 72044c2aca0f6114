import re


def test_me_describes_the_caller(client, make_user, bearer):
    supplier = make_user("supplier")
    body = client.get("/api/v1/me", headers=bearer(supplier)).get_json()
    assert body["id"] == supplier.id
    assert body["role"] == "supplier"
    assert body["organisation"]["id"] == supplier.organisation_id
    assert client.get("/api/v1/me").status_code == 401


def test_officers_list_and_verify_organisations(client, make_user, officer, bearer):
    waiting = make_user("community", verified=False)
    headers = bearer(officer)
    listed = client.get("/api/v1/organisations?verified=false&per_page=100", headers=headers).get_json()
    assert waiting.organisation_id in [o["id"] for o in listed["items"]]
    assert all(not o["verified"] for o in listed["items"])
    response = client.post(f"/api/v1/organisations/{waiting.organisation_id}/verify", headers=headers)
    assert response.status_code == 200 and response.get_json()["verified"] is True
    assert client.post(f"/api/v1/organisations/{waiting.organisation_id}/verify", headers=headers).status_code == 409
    assert client.get("/api/v1/organisations?verified=maybe", headers=headers).status_code == 422


def test_reject_with_reason_and_only_by_officers(client, make_user, officer, bearer):
    waiting = make_user("supplier", verified=False)
    url = f"/api/v1/organisations/{waiting.organisation_id}/reject"
    assert client.post(url, json={"reason": "x"}, headers=bearer(make_user("supplier"))).status_code == 403
    response = client.post(url, json={"reason": "No such company"}, headers=bearer(officer))
    assert response.get_json()["verification"] == "rejected"
    assert response.get_json()["verification_note"] == "No such company"
    assert client.get("/api/v1/organisations", headers=bearer(make_user("community"))).status_code == 403


def test_measures_carry_code_unit_proxy_and_outcomes(client):
    body = client.get("/api/v1/measures").get_json()
    by_code = {m["code"]: m for m in body["items"]}
    assert by_code["volunteering-hours"]["proxy_value"] == 16.93
    assert by_code["volunteering-hours"]["unit"] == "hour"
    assert by_code["volunteering-hours"]["outcomes"] == ["great-communities"]
    assert by_code["carbon-saved"]["proxy_value"] is None
    assert body["total"] == len(body["items"]) == 10


def test_openapi_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if "<any(" in rule.rule:
                continue
            assert (path, method) in described, f"{method} {path} is not in openapi.json"
    for action in ("pause", "resume", "withdraw"):
        assert ("/offers/{offer_id}/" + action, "POST") in described
    for action in ("accept", "decline", "approve", "reject", "deliver", "confirm", "cancel"):
        assert ("/pledges/{pledge_id}/" + action, "POST") in described
