"""Switching the daily digest on and off: the account page (with CSRF) and PATCH /api/v1/me."""

from __future__ import annotations

import pytest

from marketplace.models import User
from marketplace.services import accounts


def reload(session, user):
    session.expire_all()
    return session.get(User, user.id)


def bearer(session, user):
    _, plain = accounts.create_token(session, user, "tests")
    session.flush()
    return {"Authorization": f"Bearer {plain}"}


def test_a_supplier_switches_the_digest_off_and_on_again(session, browser, client, make_user):
    supplier = make_user("supplier")
    browser.sign_in(supplier)
    page = client.get("/account").get_data(as_text=True)
    assert "Daily email of new needs" in page
    assert 'value="on" checked' in page

    response = browser.submit("/account/digest", {"digest": "off"}, form_url="/account")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You will not get the daily email of new needs." in html
    assert 'value="off" checked' in html
    assert reload(session, supplier).digest_enabled is False

    browser.submit("/account/digest", {"digest": "on"}, form_url="/account")
    assert reload(session, supplier).digest_enabled is True


def test_the_setting_needs_a_choice(session, browser, make_user):
    supplier = make_user("supplier")
    browser.sign_in(supplier)
    response = browser.submit("/account/digest", {}, form_url="/account")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and "Select whether you want the daily email" in html
    assert reload(session, supplier).digest_enabled is True


def test_the_setting_needs_the_csrf_token(session, browser, client, make_user):
    supplier = make_user("supplier")
    browser.sign_in(supplier)
    response = client.post("/account/digest", data={"digest": "off"})
    assert response.status_code in (400, 403)
    assert reload(session, supplier).digest_enabled is True


@pytest.mark.parametrize("role", ["community", "officer"])
def test_others_see_no_digest_setting_and_cannot_change_it(session, browser, client, make_user, officer, role):
    person = officer if role == "officer" else make_user(role)
    browser.sign_in(person)
    assert "Daily email of new needs" not in client.get("/account").get_data(as_text=True)
    response = browser.submit("/account/digest", {"digest": "off"}, form_url="/account")
    assert response.status_code == 403


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.post("/account/digest", data={"digest": "off"})
    assert response.status_code in (302, 400, 401)


def test_the_api_switches_the_digest(session, client, make_user):
    supplier = make_user("supplier")
    headers = bearer(session, supplier)
    assert client.get("/api/v1/me", headers=headers).get_json()["digest_enabled"] is True

    response = client.patch("/api/v1/me", json={"digest_enabled": False}, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["digest_enabled"] is False and body["email"] == supplier.email
    assert reload(session, supplier).digest_enabled is False

    assert client.patch("/api/v1/me", json={"digest_enabled": True}, headers=headers).get_json()["digest_enabled"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"digest_enabled": "no"}, "digest_enabled"),
        ({"digest_enabled": 0}, "digest_enabled"),
        ({"email": "x"}, "email"),
    ],
)
def test_the_api_refuses_bad_settings(session, client, make_user, body, field):
    supplier = make_user("supplier")
    response = client.patch("/api/v1/me", json=body, headers=bearer(session, supplier))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]
    assert reload(session, supplier).digest_enabled is True


def test_the_api_refuses_non_suppliers_and_strangers(session, client, make_user):
    member = make_user("community")
    response = client.patch("/api/v1/me", json={"digest_enabled": False}, headers=bearer(session, member))
    assert response.status_code == 403
    assert client.patch("/api/v1/me", json={"digest_enabled": False}).status_code in (400, 401)  # no CSRF token
    stranger = {"Authorization": "Bearer svm_bogus"}
    assert client.patch("/api/v1/me", json={"digest_enabled": False}, headers=stranger).status_code == 401
    assert client.patch("/api/v1/me", data="not json", headers=bearer(session, member)).status_code == 400


def test_the_api_documents_the_setting(client):
    document = client.get("/api/v1/openapi.json").get_json()
    me = document["paths"]["/me"]
    assert {"get", "patch"} <= set(me)
    assert "digest_enabled" in me["patch"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "digest_enabled" in document["components"]["schemas"]["Me"]["properties"]
