from sqlalchemy import func, select

from marketplace.models import Need
from tests.conftest import PASSWORD, need_fields
from tests.web.conftest import csrf_token


def count_needs(session):
    return session.scalar(select(func.count()).select_from(Need))


def test_post_need_returns_the_item_with_its_organisation(client, make_user, bearer):
    member = make_user("community")
    response = client.post("/api/v1/needs", json=need_fields(), headers=bearer(member))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/needs/{body['id']}"
    assert body["status"] == "open"
    assert body["organisation"] == {
        "id": member.organisation_id,
        "name": member.organisation.name,
        "verified": True,
    }
    assert body["outcomes"] == ["wellbeing-and-opportunity"]
    assert {"created_at", "updated_at", "needed_by", "quantity", "category", "district"} <= set(body)
    assert client.get(f"/api/v1/needs/{body['id']}").get_json()["title"] == need_fields()["title"]


def test_validation_errors_name_every_field_and_change_nothing(client, session, make_user, bearer):
    headers = bearer(make_user("community"))
    before = count_needs(session)
    response = client.post("/api/v1/needs", json={"title": "Hi", "category": "nope"}, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert set(error["fields"]) == {"title", "description", "category", "district", "outcomes"}
    assert count_needs(session) == before


def test_malformed_json_is_a_400(client, make_user, bearer):
    headers = {**bearer(make_user("community")), "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b"", b"\xff\xfe"):
        response = client.post("/api/v1/needs", data=body, headers=headers)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "malformed_request"


def test_bodies_over_a_megabyte_are_refused(client, make_user, bearer):
    headers = {**bearer(make_user("community")), "Content-Type": "application/json"}
    response = client.post("/api/v1/needs", data=b'{"title": "' + b"x" * 1_100_000 + b'"}', headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_not_signed_in_is_401_and_wrong_role_is_403(client, make_user, bearer):
    assert client.post("/api/v1/needs", json=need_fields()).status_code in (400, 401)
    response = client.post("/api/v1/needs", json=need_fields(), headers={"Authorization": "Bearer svm_bogus"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "not_signed_in"
    response = client.post("/api/v1/needs", json=need_fields(), headers=bearer(make_user("supplier")))
    assert response.status_code == 403


def test_session_requests_without_csrf_are_refused(client, make_user):
    member = make_user("community")
    form = client.get("/sign-in").get_data(as_text=True)
    signed_in = client.post(
        "/sign-in", data={"csrf_token": csrf_token(form), "email": member.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 302
    response = client.post("/api/v1/needs", json=need_fields())
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    # With the page's token the same session may post.
    token = csrf_token(client.get("/needs/new").get_data(as_text=True))
    assert client.post("/api/v1/needs", json=need_fields(), headers={"X-CSRFToken": token}).status_code == 201


def test_unknown_ids_are_404(client, make_user, bearer):
    headers = bearer(make_user("community"))
    assert client.get("/api/v1/needs/999999").status_code == 404
    assert client.patch("/api/v1/needs/999999", json={"title": "Whatever title"}, headers=headers).status_code == 404
    assert client.post("/api/v1/needs/999999/withdraw", headers=headers).status_code == 404


def test_patch_changes_only_given_fields_and_only_for_the_owner(client, make_user, make_need, bearer):
    member = make_user("community")
    need = make_need(by=member)
    response = client.patch(f"/api/v1/needs/{need.id}", json={"title": "Bigger room wanted"}, headers=bearer(member))
    assert response.status_code == 200
    assert response.get_json()["title"] == "Bigger room wanted"
    assert response.get_json()["description"] == need_fields()["description"]
    other = bearer(make_user("community"))
    assert client.patch(f"/api/v1/needs/{need.id}", json={"title": "Not yours"}, headers=other).status_code == 403
    response = client.patch(f"/api/v1/needs/{need.id}", json={"district": "Mars"}, headers=bearer(member))
    assert response.status_code == 422 and "district" in response.get_json()["error"]["fields"]


def test_withdraw_then_withdraw_again_is_a_409_with_the_state(client, make_user, make_need, bearer):
    member = make_user("community")
    need = make_need(by=member)
    headers = bearer(member)
    assert client.post(f"/api/v1/needs/{need.id}/withdraw", headers=headers).get_json()["status"] == "withdrawn"
    response = client.post(f"/api/v1/needs/{need.id}/withdraw", headers=headers)
    assert response.status_code == 409
    assert "withdrawn" in response.get_json()["error"]["message"]


def test_list_is_paged_and_filtered(client, make_user, make_need):
    member = make_user("community")
    for i in range(3):
        make_need(by=member, title=f"Minibus trip number {i}", category="transport", district="Melton")
    response = client.get("/api/v1/needs?category=transport&district=Melton&per_page=2")
    body = response.get_json()
    assert body["per_page"] == 2 and body["page"] == 1 and body["total"] >= 3
    assert len(body["items"]) == 2
    assert all(item["category"] == "transport" for item in body["items"])
    assert client.get("/api/v1/needs?per_page=2&page=9999").get_json()["items"] == []


def test_bad_filters_and_paging_are_422(client):
    response = client.get("/api/v1/needs?category=rockets&page=zero&per_page=1000")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"category", "page", "per_page"}


def test_unverified_groups_needs_are_404_to_the_public(client, make_user, make_need, bearer):
    member = make_user("community", verified=False)
    need = make_need(by=member)
    assert client.get(f"/api/v1/needs/{need.id}").status_code == 404
    assert client.get(f"/api/v1/needs/{need.id}", headers=bearer(member)).status_code == 200


def test_script_and_emoji_come_back_exactly(client, make_user, bearer):
    title = "<script>alert(1)</script> 🎉 Café"
    response = client.post("/api/v1/needs", json=need_fields(title=title), headers=bearer(make_user("community")))
    assert response.get_json()["title"] == title
