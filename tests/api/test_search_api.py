import pytest

from tests.conftest import need_fields, offer_fields


def test_search_finds_what_was_just_posted_with_facets(client, make_user, bearer):
    headers = bearer(make_user("community"))
    posted = client.post(
        "/api/v1/needs",
        json=need_fields(title="Volunteers to clear the canal towpath", category="volunteering"),
        headers=headers,
    ).get_json()
    client.post(
        "/api/v1/offers", json=offer_fields(title="Staff volunteering days"), headers=bearer(make_user("supplier"))
    )
    body = client.get("/api/v1/search?q=volunteers").get_json()
    assert body["total"] >= 2
    assert posted["id"] in [item["id"] for item in body["items"] if item["kind"] == "need"]
    assert body["facets"]["kind"] == {"need": 1, "offer": 1}
    assert body["did_you_mean"] is None
    hit = next(item for item in body["items"] if item["id"] == posted["id"])
    assert "<mark>" in hit["snippet"] or "<mark>" in hit["title"] or hit["score"] is not None
    only_needs = client.get("/api/v1/search?q=volunteers&kind=need").get_json()
    assert {item["kind"] for item in only_needs["items"]} == {"need"}


def test_withdrawn_items_disappear_from_search(client, make_user, bearer):
    member = make_user("community")
    headers = bearer(member)
    need = client.post(
        "/api/v1/needs", json=need_fields(title="Bunting for the jubilee party"), headers=headers
    ).get_json()
    assert client.get("/api/v1/search?q=bunting").get_json()["total"] == 1
    client.post(f"/api/v1/needs/{need['id']}/withdraw", headers=headers)
    assert client.get("/api/v1/search?q=bunting").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=bunting&status=withdrawn").get_json()["total"] == 0
    assert client.get("/api/v1/search?q=bunting&status=any", headers=headers).get_json()["total"] == 1


def test_misspelling_gets_a_did_you_mean(client, make_user, bearer):
    client.post(
        "/api/v1/needs", json=need_fields(title="Wheelchair accessible minibus"), headers=bearer(make_user("community"))
    )
    body = client.get("/api/v1/search?q=wheelchiar").get_json()
    assert body["did_you_mean"]


@pytest.mark.parametrize(
    "q",
    [
        '"unbalanced',
        "(((",
        "AND",
        "OR OR",
        "NOT",
        "*",
        "title:",
        "status:withdrawn",
        "x" * 10_000,
        "🎉🎉",
        "'; DROP TABLE need; --",
        "<script>alert(1)</script>",
        "a\tb",
    ],
)
def test_any_query_string_gets_an_answer(client, q):
    response = client.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200
    assert isinstance(response.get_json()["items"], list)


def test_bad_filters_are_422_and_past_the_end_is_empty(client):
    response = client.get("/api/v1/search?kind=sandwich&sort=random")
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"kind", "sort"}
    assert client.get("/api/v1/search?q=room&page=500").get_json()["items"] == []


def test_saved_searches_through_the_api(client, session, make_user, bearer):
    group, other = make_user("community"), make_user("community")
    as_group, url = bearer(group), "/api/v1/me/saved-searches"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=as_group).get_json() == {"items": [], "total": 0}

    for bad, field in (
        ({"q": "paint"}, "frequency"),
        ({"q": "paint", "frequency": "hourly"}, "frequency"),
        ({"category": "no-such", "frequency": "daily"}, "category"),
        ({"q": 5, "frequency": "daily"}, "q"),
        ({"frequency": "daily", "status": "open"}, "status"),
    ):
        refused = client.post(url, json=bad, headers=as_group)
        assert refused.status_code == 422 and field in refused.get_json()["error"]["fields"], bad
    assert client.get(url, headers=as_group).get_json()["total"] == 0

    made = client.post(url, json={"q": "paint", "category": "volunteering", "frequency": "weekly"}, headers=as_group)
    assert made.status_code == 201
    saved = made.get_json()
    assert saved["kind"] == "offer" and saved["frequency"] == "weekly" and saved["last_sent_at"] is None
    assert saved["search_url"].endswith("/search?q=paint&kind=offer&category=volunteering")
    twice = client.post(url, json={"q": "paint", "category": "volunteering", "frequency": "daily"}, headers=as_group)
    assert twice.status_code == 422
    assert [s["id"] for s in client.get(url, headers=as_group).get_json()["items"]] == [saved["id"]]

    # Someone else's saved search does not exist for them.
    assert client.delete(f"{url}/{saved['id']}", headers=bearer(other)).status_code == 404
    assert client.delete(f"{url}/{saved['id']}", headers=as_group).status_code == 204
    assert client.delete(f"{url}/{saved['id']}", headers=as_group).status_code == 404
    assert client.get(url, headers=as_group).get_json()["total"] == 0
