"""Through the API: a group asks for an offer, the supplier pledges from the request, they exchange
messages, and each person's tasks show exactly their steps; teams; and the bad input of issue 14."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.clock import council_today
from marketplace.models import Message, Notification, OfferRequest, User
from marketplace.services import messages as messages_service
from marketplace.services.tasks import waiting_count
from tests.conftest import need_fields, offer_fields


def kinds(client, session, headers) -> list[str]:
    answer = client.get("/api/v1/me/tasks", headers=headers).get_json()
    assert answer["total"] == len(answer["items"])
    # The navigation counts the same tasks in one query.
    me = session.get(User, client.get("/api/v1/me", headers=headers).get_json()["id"])
    assert waiting_count(session, me) == answer["total"]
    return [item["kind"] for item in answer["items"]]


def test_ask_pledge_message_and_each_persons_tasks(client, session, make_user, officer, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    as_group, as_supplier, as_officer = bearer(group), bearer(supplier), bearer(officer)
    need = client.post("/api/v1/needs", json=need_fields(title="Paint our village hall"), headers=as_group).get_json()
    offer = client.post(
        "/api/v1/offers",
        json=offer_fields(title="Staff volunteering days", category="volunteering", measure="volunteering-hours",
                          capacity=40),
        headers=as_supplier,
    ).get_json()  # fmt: skip
    assert kinds(client, session, as_group) == [] and kinds(client, session, as_supplier) == []

    asked = client.post(
        f"/api/v1/offers/{offer['id']}/requests",
        json={"need_id": need["id"], "message": "Could 4 of you paint the hall in May?"},
        headers=as_group,
    )
    assert asked.status_code == 201
    request_id = asked.get_json()["id"]
    assert asked.get_json()["status"] == "open"
    assert kinds(client, session, as_supplier) == ["request_to_answer"]
    task = client.get("/api/v1/me/tasks", headers=as_supplier).get_json()["items"][0]
    assert task["url"].endswith(f"/requests/{request_id}") and "Staff volunteering days" in task["title"]
    assert kinds(client, session, as_group) == []
    # Both sides list it; the offer's capacity is untouched until pledged.
    assert [r["id"] for r in client.get("/api/v1/requests", headers=as_group).get_json()["items"]] == [request_id]
    assert [r["id"] for r in client.get("/api/v1/requests", headers=as_supplier).get_json()["items"]] == [request_id]

    pledged = client.post(
        "/api/v1/pledges", json={"request_id": request_id, "quantity": 16}, headers=as_supplier
    ).get_json()
    assert pledged["need_id"] == need["id"] and pledged["offer_id"] == offer["id"]
    assert client.get(f"/api/v1/requests/{request_id}", headers=as_group).get_json()["pledge_id"] == pledged["id"]
    # A request is pledged once.
    again = client.post("/api/v1/pledges", json={"request_id": request_id, "quantity": 1}, headers=as_supplier)
    assert again.status_code == 409
    assert kinds(client, session, as_supplier) == [] and kinds(client, session, as_group) == ["pledge_to_answer"]

    url = f"/api/v1/pledges/{pledged['id']}/messages"
    sent = client.post(url, json={"body": "Which Saturday suits you?"}, headers=as_supplier)
    assert sent.status_code == 201
    assert kinds(client, session, as_group) == ["message", "pledge_to_answer"]
    reply = client.post(url, json={"body": "The 10th <- any time after 9"}, headers=as_group)
    assert reply.status_code == 201
    assert "message" not in kinds(client, session, as_group) and kinds(client, session, as_supplier) == ["message"]
    listed = client.get(url, headers=as_officer).get_json()
    assert [m["body"] for m in listed["items"]] == ["Which Saturday suits you?", "The 10th <- any time after 9"]
    assert listed["items"][0]["author"]["organisation"] == supplier.organisation.name

    assert client.post(f"/api/v1/pledges/{pledged['id']}/accept", headers=as_group).status_code == 200
    assert kinds(client, session, as_officer).count("pledge_to_approve") == 1
    due = (council_today() + timedelta(days=30)).isoformat()
    approved = client.post(f"/api/v1/pledges/{pledged['id']}/approve", json={"deliver_by": due}, headers=as_officer)
    assert approved.status_code == 200
    assert "pledge_to_deliver" in kinds(client, session, as_supplier)
    report = {"evidence": "Hall painted on 10 May", "declaration": True}
    delivered = client.post(f"/api/v1/pledges/{pledged['id']}/deliver", json=report, headers=as_supplier)
    assert delivered.status_code == 200
    # The evidence is the council's to check first; the group confirms only after that.
    assert "evidence_to_review" in kinds(client, session, as_officer) and "pledge_to_deliver" not in kinds(
        client, session, as_supplier
    )
    assert "delivery_to_confirm" not in kinds(client, session, as_group)
    asked = client.post(
        f"/api/v1/pledges/{pledged['id']}/request-evidence", json={"reason": "Add a photo"}, headers=as_officer
    )
    assert asked.status_code == 200
    assert "evidence_asked_for" in kinds(client, session, as_supplier) and "evidence_to_review" not in kinds(
        client, session, as_officer
    )
    resent = client.post(f"/api/v1/pledges/{pledged['id']}/deliver", json=report, headers=as_supplier)
    assert resent.status_code == 200 and "evidence_asked_for" not in kinds(client, session, as_supplier)
    assert client.post(f"/api/v1/pledges/{pledged['id']}/accept-evidence", headers=as_officer).status_code == 200
    assert "delivery_to_confirm" in kinds(client, session, as_group) and "evidence_to_review" not in kinds(
        client, session, as_officer
    )

    # The group heard when the council approved, with a link straight to the pledge.
    bodies = session.scalars(
        select(Notification.body).where(
            Notification.to_email == group.email, Notification.subject.like("The council approved%")
        )
    ).all()
    assert len(bodies) == 1 and f"http://localhost/pledges/{pledged['id']}" in bodies[0]
    assert "16 volunteering hours" in bodies[0] or "16 hours" in bodies[0]


def test_a_supplier_declines_a_request_with_a_reason(client, session, make_user, make_need, make_offer, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    need, offer = make_need(by=group), make_offer(by=supplier)
    as_group, as_supplier = bearer(group), bearer(supplier)
    request_id = client.post(
        f"/api/v1/offers/{offer.id}/requests", json={"need_id": need.id, "message": "Please"}, headers=as_group
    ).get_json()["id"]
    assert client.post(f"/api/v1/requests/{request_id}/decline", json={}, headers=as_supplier).status_code == 422
    assert (
        client.post(f"/api/v1/requests/{request_id}/decline", json={"reason": "x"}, headers=as_group).status_code == 403
    )
    declined = client.post(
        f"/api/v1/requests/{request_id}/decline", json={"reason": "Booked until September"}, headers=as_supplier
    )
    assert declined.status_code == 200 and declined.get_json()["decline_reason"] == "Booked until September"
    assert (
        client.post("/api/v1/pledges", json={"request_id": request_id, "quantity": 1}, headers=as_supplier).status_code
        == 409
    )
    subjects = session.scalars(select(Notification.subject).where(Notification.to_email == group.email)).all()
    assert [s for s in subjects if s.startswith("Request")] == [f"Request declined: “{offer.title}”"]


def test_bad_requests_and_messages_change_nothing(client, session, make_user, make_need, make_offer, bearer):
    group, supplier, stranger = make_user("community"), make_user("supplier"), make_user("supplier")
    need, offer = make_need(by=group), make_offer(by=supplier)
    paused = make_offer(by=supplier, title="Paused van hire")
    as_group, as_supplier, as_stranger = bearer(group), bearer(supplier), bearer(stranger)
    assert client.post(f"/api/v1/offers/{paused.id}/pause", headers=as_supplier).status_code == 200
    answer = client.post(
        f"/api/v1/offers/{paused.id}/requests", json={"need_id": need.id, "message": "Please"}, headers=as_group
    )
    assert answer.status_code == 409 and "paused" in answer.get_json()["error"]["message"]
    missing = client.post(f"/api/v1/offers/{offer.id}/requests", json={"need_id": need.id}, headers=as_group)
    assert missing.status_code == 422 and "message" in missing.get_json()["error"]["fields"]
    assert (
        client.post(
            f"/api/v1/offers/{offer.id}/requests", json={"need_id": need.id, "message": "Hi"}, headers=as_supplier
        ).status_code
        == 403
    )
    assert session.scalar(select(OfferRequest.id)) is None

    pledge = client.post(
        "/api/v1/pledges", json={"need_id": need.id, "offer_id": offer.id, "quantity": 2}, headers=as_supplier
    ).get_json()
    url = f"/api/v1/pledges/{pledge['id']}/messages"
    for body, problem in (
        ("", "Enter a message"),
        ("   ", "Enter a message"),
        ("x" * 10_000, "5,000 characters or fewer"),
        ("<script>alert(1)</script>", "plain text"),
        ('Hello <a href="https://evil.example">click</a>', "plain text"),
    ):
        refused = client.post(url, json={"body": body}, headers=as_group)
        assert refused.status_code == 422 and problem in refused.get_json()["error"]["fields"]["body"]
    assert client.post(url, json={"body": "Not my pledge"}, headers=as_stranger).status_code == 404
    assert client.get(url, headers=as_stranger).status_code == 404
    assert session.scalar(select(Message.id)) is None

    for n in range(messages_service.RATE_LIMIT):
        assert client.post(url, json={"body": f"Message {n}"}, headers=as_group).status_code == 201
    limited = client.post(url, json={"body": "One too many"}, headers=as_group)
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    # As every 429 does, it says when a message can be sent again: when the oldest leaves the window.
    assert 0 < int(limited.headers["Retry-After"]) <= messages_service.RATE_WINDOW.total_seconds() + 1
    assert len(session.scalars(select(Message.id)).all()) == messages_service.RATE_LIMIT


def test_members_invitations_and_the_last_member(client, session, make_user, bearer):
    first = make_user("community", organisation="Syston Scouts")
    second = make_user("community", organisation="Syston Scouts")
    outsider = make_user("community")
    as_first, as_outsider = bearer(first), bearer(outsider)
    org = first.organisation_id
    members = client.get(f"/api/v1/organisations/{org}/members", headers=as_first).get_json()
    assert sorted(m["email"] for m in members["items"]) == sorted([first.email, second.email])
    assert client.get(f"/api/v1/organisations/{org}/members", headers=as_outsider).status_code == 404

    invited = client.post(f"/api/v1/organisations/{org}/invitations", json={"email": "New.Leader@Example.org"},
                          headers=as_first)  # fmt: skip
    assert invited.status_code == 201 and invited.get_json()["email"] == "new.leader@example.org"
    body = session.scalar(select(Notification.body).where(Notification.to_email == "new.leader@example.org"))
    assert "http://localhost/join/" in body and "within 7 days" in body
    taken = client.post(f"/api/v1/organisations/{org}/invitations", json={"email": outsider.email}, headers=as_first)
    assert taken.status_code == 422 and "another organisation" in taken.get_json()["error"]["fields"]["email"]
    assert client.post(f"/api/v1/organisations/{org}/invitations", json={"email": "a@b.org"},
                       headers=as_outsider).status_code == 404  # fmt: skip

    assert client.delete(f"/api/v1/organisations/{org}/members/{outsider.id}", headers=as_first).status_code == 404
    assert client.delete(f"/api/v1/organisations/{org}/members/{second.id}", headers=as_first).status_code == 204
    session.expire_all()
    assert session.get(User, second.id).active is False
    last = client.delete(f"/api/v1/organisations/{org}/members/{first.id}", headers=as_first)
    assert last.status_code == 409 and "last member" in last.get_json()["error"]["message"]


def test_email_preferences_through_the_api(client, session, make_user, make_need, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    url = "/api/v1/me/email-preferences"
    as_group = bearer(group)
    answer = client.get(url, headers=as_group).get_json()
    assert answer["email_preference"] == "each"
    assert [c["value"] for c in answer["choices"]] == ["each", "daily", "essential"]

    # Bad input: a clear answer naming the field, and the choice stays as it was.
    for bad in ({"email_preference": "never"}, {"email_preference": 3}, {}, {"email_preference": "daily", "x": 1}):
        refused = client.put(url, json=bad, headers=as_group)
        assert refused.status_code == 422, bad
        assert set(refused.get_json()["error"]["fields"]) & {"email_preference", "x"}
    assert client.get(url, headers=as_group).get_json()["email_preference"] == "each"
    assert client.put(url, headers=as_group).status_code == 400
    assert client.get(url).status_code == 401

    chosen = client.put(url, json={"email_preference": "daily"}, headers=as_group)
    assert chosen.status_code == 200 and chosen.get_json()["email_preference"] == "daily"
    # The choice is what the page shows and what the e-mails follow: news of a pledge waits for the summary.
    session.expire_all()
    assert session.get(User, group.id).email_preference == "daily"
    need = make_need(by=group, title="Tables for the lunch club")
    client.post(
        "/api/v1/pledges",
        json={"need_id": need.id, "measure": "goods-donated", "quantity": 2},
        headers=bearer(supplier),
    )
    held = session.scalars(select(Notification).where(Notification.to_email == group.email)).all()
    news = [n for n in held if "pledge" in n.subject.lower()]
    assert news and all(n.summary for n in news)
