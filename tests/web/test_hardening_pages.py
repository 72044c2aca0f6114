"""Findings of issue 12 ("Hardening, round two") as a person in a browser would see them."""

from __future__ import annotations

from tests.web.conftest import Browser


def test_signing_out_ends_the_session_for_a_copied_cookie(app, make_user):
    user = make_user("community")
    browser = Browser(app.test_client())
    browser.sign_in(user)
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    assert browser.client.get("/account").status_code == 200

    copied = app.test_client()
    copied.set_cookie("session", cookie.value)
    assert copied.get("/account").status_code == 200

    browser.sign_out()
    copied.set_cookie("session", cookie.value)
    response = copied.get("/account")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_signing_in_again_after_signing_out_works(app, make_user):
    user = make_user("supplier")
    browser = Browser(app.test_client())
    browser.sign_in(user)
    browser.sign_out()
    browser.sign_in(user)
    assert browser.client.get("/account").status_code == 200
