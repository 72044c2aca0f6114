"""Downloading your data and closing your account, through the pages."""

import json

from tests.conftest import PASSWORD


def test_download_my_data_is_a_json_file_of_my_own_data(browser, make_user):
    user = make_user("supplier")
    other = make_user("supplier")
    browser.sign_in(user)
    assert 'href="/account/data"' in browser.client.get("/account").get_data(as_text=True)
    response = browser.client.get("/account/data")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="my-marketplace-data.json"'
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == user.email
    assert other.email not in response.get_data(as_text=True)


def test_close_account_with_the_password_signs_out_for_good(browser, make_user):
    user = make_user("community")
    browser.sign_in(user)
    page = browser.submit("/account/close", {"password": "wrong"}).get_data(as_text=True)
    assert "There is a problem" in page and "Enter your current password to close your account" in page
    assert browser.client.get("/account").status_code == 200

    page = browser.submit("/account/close", {"password": PASSWORD}).get_data(as_text=True)
    assert "Your account is closed and your personal details have been erased." in page
    assert browser.client.get("/account").status_code == 302
    assert "Email address or password is not correct" in browser.sign_in(user).get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for path in ("/account/data", "/account/close"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
