"""Delivery you can prove, through the API: edits never undercut what is pledged, an approved
pledge's value changes only through an officer, and the whole journey with evidence files."""

import errno
import io
import os

import pytest
from PIL import Image

from tests.conftest import need_fields
from tests.evidence_files import (
    GPS_IFD,
    image_bomb,
    impostor,
    pdf_with_javascript,
    photo_with_gps,
    plain_pdf,
    word_document,
)


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


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body with one ``file`` part, built in memory.

    (Werkzeug's test client spools large bodies to a temporary file it never closes.)
    """
    boundary = "----evidence-boundary-7d93"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(client, headers, pledge_id, name, data):
    body, content_type = multipart(name, data)
    return client.post(f"/api/v1/pledges/{pledge_id}/evidence", data=body, headers=headers, content_type=content_type)


@pytest.fixture
def people(make_user, officer, bearer):
    group, supplier = make_user("community"), make_user("supplier")
    other_group, other_supplier = make_user("community"), make_user("supplier")
    return {
        "group": bearer(group),
        "supplier": bearer(supplier),
        "officer": bearer(officer),
        "other_group": bearer(other_group),
        "other_supplier": bearer(other_supplier),
    }


def _approved(client, people, *, quantity=16, category="volunteering", deliver_by="2099-06-30"):
    need = client.post(
        "/api/v1/needs", json=need_fields(category=category, title="Volunteers for our hall"), headers=people["group"]
    ).get_json()
    pledge = _pledge(client, people["supplier"], need["id"], quantity=quantity)
    assert client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=people["group"]).status_code == 200
    response = client.post(
        f"/api/v1/pledges/{pledge['id']}/approve", json={"deliver_by": deliver_by}, headers=people["officer"]
    )
    assert response.status_code == 200, response.get_json()
    return need, response.get_json()


def _impact(client) -> str:
    return client.get("/impact").get_data(as_text=True)


def test_an_inflated_delivery_waits_for_an_officer_and_never_reaches_impact(client, people):
    need, pledge = _approved(client, people)
    assert (pledge["quantity"], pledge["value"], pledge["deliver_by"]) == (16.0, 270.88, "2099-06-30")
    before = _impact(client)
    url = f"/api/v1/pledges/{pledge['id']}"

    body = {"evidence": "Sixteen hours on two Saturdays", "actual_quantity": 16000, "declaration": True}
    delivered = client.post(f"{url}/deliver", json=body, headers=people["supplier"]).get_json()
    assert (delivered["quantity"], delivered["value"], delivered["pending_quantity"]) == (16.0, 270.88, 16000.0)
    assert delivered["declaration"].startswith("This contribution is not reported")

    # The group cannot wave it through: the council has not looked at the evidence.
    response = client.post(f"{url}/confirm", json={"need_met": True}, headers=people["group"])
    assert response.status_code == 409
    assert "not accepted the evidence" in response.get_json()["error"]["message"]
    # The officer must decide the change; refusing it keeps the approved value.
    response = client.post(f"{url}/accept-evidence", json={}, headers=people["officer"])
    assert response.status_code == 422 and "accept_change" in response.get_json()["error"]["fields"]
    accepted = client.post(f"{url}/accept-evidence", json={"accept_change": False}, headers=people["officer"])
    assert (accepted.get_json()["quantity"], accepted.get_json()["value"]) == (16.0, 270.88)
    assert accepted.get_json()["pending_quantity"] is None
    assert _impact(client) == before  # nothing is delivered social value before the group confirms

    confirmed = client.post(f"{url}/confirm", json={"need_met": True}, headers=people["group"]).get_json()
    assert (confirmed["status"], confirmed["value"]) == ("confirmed", 270.88)
    assert "£270,880" not in _impact(client)


def test_a_partial_delivery_lowers_the_value_but_not_the_commitment(client, people, officer, bearer):
    need, pledge = _approved(client, people, quantity=10)
    url = f"/api/v1/pledges/{pledge['id']}"
    body = {"evidence": "Six hours on one Saturday", "actual_quantity": 6, "declaration": True}
    delivered = client.post(f"{url}/deliver", json=body, headers=people["supplier"]).get_json()
    assert (delivered["quantity"], delivered["value"]) == (6.0, 101.58)
    assert (delivered["committed_quantity"], delivered["committed_value"]) == (10.0, 169.3)
    client.post(f"{url}/accept-evidence", json={}, headers=people["officer"])
    client.post(f"{url}/confirm", json={"need_met": False}, headers=people["group"])
    report = client.get("/api/v1/reports/social-value?group_by=supplier", headers=people["officer"]).get_json()
    totals = report["totals"]
    assert (totals["committed_value"], totals["delivered_value"], totals["delivery_rate"]) == (169.3, 101.58, 0.6)


def test_the_whole_journey_with_evidence_files(client, people, session):
    need, pledge = _approved(client, people, category="volunteering")
    pid = pledge["id"]
    url = f"/api/v1/pledges/{pid}"
    for name, data in (("hall-1.jpg", photo_with_gps("red")), ("hall-2.jpg", photo_with_gps("blue"))):
        response = _upload(client, people["supplier"], pid, name, data)
        assert response.status_code == 201, response.get_json()
        assert set(response.get_json()) >= {"id", "name", "content_type", "size"}
    body = {"evidence": "Painted the hall on 3 May", "declaration": True}
    assert client.post(f"{url}/deliver", json=body, headers=people["supplier"]).status_code == 200

    # Officer asks for more; the supplier adds a PDF and sends it again.
    response = client.post(
        f"{url}/request-evidence", json={"reason": "Add the sign-in sheet"}, headers=people["officer"]
    )
    assert response.get_json()["evidence_review"] == "more-needed"
    assert response.get_json()["review_note"] == "Add the sign-in sheet"
    assert _upload(client, people["supplier"], pid, "sign-in.pdf", plain_pdf()).status_code == 201
    resent = client.post(f"{url}/deliver", json={**body, "evidence": "Painted on 3 May; sign-in sheet attached"},
                         headers=people["supplier"])  # fmt: skip
    assert resent.get_json()["evidence_review"] == "waiting"

    listed = client.get(f"{url}/evidence", headers=people["officer"]).get_json()
    assert [(i["name"], i["content_type"]) for i in listed["items"]] == [
        ("hall-1.jpg", "image/jpeg"), ("hall-2.jpg", "image/jpeg"), ("sign-in.pdf", "application/pdf"),
    ]  # fmt: skip
    photo = client.get(f"/api/v1/evidence/{listed['items'][0]['id']}", headers=people["group"])
    assert photo.status_code == 200
    assert photo.headers["Content-Disposition"].startswith("attachment")
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert photo.headers["Cache-Control"] == "private, no-store"
    image = Image.open(io.BytesIO(photo.data))
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)  # no EXIF, so no GPS

    assert client.post(f"{url}/accept-evidence", json={}, headers=people["officer"]).status_code == 200
    done = client.post(f"{url}/confirm", json={"need_met": True}, headers=people["group"]).get_json()
    assert done["status"] == "confirmed"
    assert client.get(f"/api/v1/needs/{need['id']}", headers=people["group"]).get_json()["status"] == "met"
    steps = [(e["to"], e["note"]) for e in done["history"]]
    assert ("delivered", "more evidence needed: Add the sign-in sheet") in steps
    assert ("delivered", "more evidence sent") in steps
    assert steps[-1] == ("confirmed", "the group says the need is now met")


def test_evidence_is_unreachable_outside_the_pledge(client, people):
    need, pledge = _approved(client, people)
    item = _upload(client, people["supplier"], pledge["id"], "proof.pdf", plain_pdf()).get_json()
    for outsider in ("other_group", "other_supplier"):
        assert client.get(f"/api/v1/evidence/{item['id']}", headers=people[outsider]).status_code == 404
        assert client.get(f"/api/v1/pledges/{pledge['id']}/evidence", headers=people[outsider]).status_code == 404
        assert _upload(client, people[outsider], pledge["id"], "x.pdf", plain_pdf()).status_code == 404
    assert client.get(f"/api/v1/evidence/{item['id']}").status_code == 401
    assert _upload(client, people["group"], pledge["id"], "x.pdf", plain_pdf()).status_code == 403


@pytest.mark.parametrize(
    ("name", "make", "words"),
    [
        ("photo.jpg", impostor, "is not a photo"),
        ("empty.jpg", lambda: b"", "is empty"),
        ("big.pdf", lambda: plain_pdf() + b"0" * (10 * 1024 * 1024), "larger than 10 MB"),
        ("report.pdf", pdf_with_javascript, "JavaScript"),
        ("bomb.png", image_bomb, "pixels"),
        ("../../etc/passwd.jpg", photo_with_gps, "'..'"),
        ("photo\x1b[31m.jpg", photo_with_gps, "control characters"),
        ("minutes.docx", lambda: word_document(macros=True), "macros"),
    ],
)
def test_bad_files_are_refused_with_a_message_and_nothing_is_stored(client, people, config, name, make, words):
    need, pledge = _approved(client, people)
    response = _upload(client, people["supplier"], pledge["id"], name, make())
    assert response.status_code == 422
    assert words in response.get_json()["error"]["fields"]["file"]
    assert client.get(f"/api/v1/pledges/{pledge['id']}/evidence", headers=people["supplier"]).get_json()["total"] == 0
    folder = config.evidence_path
    assert not folder.exists() or not any(folder.iterdir())


def test_an_11_mb_upload_is_refused_with_a_message(client, people):
    need, pledge = _approved(client, people)
    response = _upload(client, people["supplier"], pledge["id"], "huge.pdf", plain_pdf() + b"0" * (11 * 1024 * 1024))
    assert response.status_code in (413, 422)
    assert response.get_json()["error"]["message"]


def test_a_full_disk_fails_cleanly_leaving_nothing_half_written(client, people, config, monkeypatch):
    need, pledge = _approved(client, people)

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the operating system's answer, not our code's
    response = _upload(client, people["supplier"], pledge["id"], "sheet.pdf", plain_pdf())
    monkeypatch.undo()
    assert response.status_code == 503
    assert "Nothing was stored" in response.get_json()["error"]["message"]
    assert list(config.evidence_path.iterdir()) == []
    assert client.get(f"/api/v1/pledges/{pledge['id']}/evidence", headers=people["supplier"]).get_json()["total"] == 0


def test_the_group_disputes_and_the_officer_hears_why(client, people):
    need, pledge = _approved(client, people)
    url = f"/api/v1/pledges/{pledge['id']}"
    client.post(f"{url}/deliver", json={"evidence": "All done", "declaration": True}, headers=people["supplier"])
    response = client.post(f"{url}/dispute", json={"reason": ""}, headers=people["group"])
    assert response.status_code == 422
    response = client.post(f"{url}/dispute", json={"reason": "Nobody came on 3 May"}, headers=people["group"])
    assert (response.get_json()["evidence_review"], response.get_json()["review_note"]) == (
        "disputed", "Nobody came on 3 May"
    )  # fmt: skip
    assert client.post(f"{url}/confirm", json={}, headers=people["group"]).status_code == 409
    assert client.post(f"{url}/dispute", json={"reason": "x"}, headers=people["supplier"]).status_code == 403
    response = client.post(f"{url}/request-evidence", json={"reason": "Show the sign-in sheet"},
                           headers=people["officer"])  # fmt: skip
    assert response.get_json()["evidence_review"] == "more-needed"


def test_delivery_needs_the_declaration(client, people):
    need, pledge = _approved(client, people)
    response = client.post(
        f"/api/v1/pledges/{pledge['id']}/deliver", json={"evidence": "All done"}, headers=people["supplier"]
    )
    assert response.status_code == 422
    assert "another contract" in response.get_json()["error"]["fields"]["declaration"]


def test_approval_needs_a_deliver_by_date(client, people, make_need, make_user, bearer):
    group = people["group"]
    fields = need_fields(category="volunteering")
    fields.pop("needed_by")
    need = client.post("/api/v1/needs", json=fields, headers=group).get_json()
    pledge = _pledge(client, people["supplier"], need["id"])
    client.post(f"/api/v1/pledges/{pledge['id']}/accept", headers=group)
    url = f"/api/v1/pledges/{pledge['id']}/approve"
    response = client.post(url, json={}, headers=people["officer"])
    assert response.status_code == 422 and "deliver_by" in response.get_json()["error"]["fields"]
    response = client.post(url, json={"deliver_by": "2001-01-01"}, headers=people["officer"])
    assert (
        response.status_code == 422 and "today or in the future" in response.get_json()["error"]["fields"]["deliver_by"]
    )
    assert client.get(f"/api/v1/pledges/{pledge['id']}", headers=group).get_json()["status"] == "accepted"
