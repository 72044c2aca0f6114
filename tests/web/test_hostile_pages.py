import pytest

from tests.web.conftest import csrf_token


@pytest.mark.parametrize(
    "url",
    ["/needs/99999999999999999999", "/offers/0", "/needs?category=%00", "/needs?page=abc", "/sign-in?next=%00"],
)
def test_odd_page_addresses_never_fail_with_a_server_error(client, url):
    response = client.get(url)
    assert response.status_code < 500
    assert "Sorry, there is a problem" not in response.get_data(as_text=True)


def test_nul_in_a_form_gets_a_clear_page(browser):
    response = browser.submit("/sign-in", {"email": "a\x00@example.org", "password": "x"})
    assert response.status_code == 422
    assert "must not contain NUL characters" in response.get_data(as_text=True)


def test_a_lone_surrogate_sent_as_utf_8_bytes_in_a_form_never_fails(browser, make_user):
    """Issue 12, finding 3: invalid UTF-8 in a form is read as a replacement character, never a 500."""
    browser.sign_in(make_user("community"))
    page = browser.client.get("/needs/new").get_data(as_text=True)
    token = csrf_token(page)
    body = (
        b"csrf_token=" + token.encode() + b"&title=Tables+%ED%A0%80+please&description=" + b"x" * 30
        + b"&category=goods&district=Melton&outcomes=great-communities"
    )  # fmt: skip
    response = browser.client.post(
        "/needs/new", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code < 500


def test_a_forged_host_gets_a_clear_400(client):
    """Issue 12, finding 2: links are never built from a host that is not the site's."""
    response = client.get("/forgot-password", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "MARKETPLACE_ALLOWED_HOSTS" in response.get_data(as_text=True)


def test_a_report_ending_on_the_last_day_there_is_works(browser, officer):
    """Issue 12, finding 5."""
    browser.sign_in(officer)
    response = browser.client.get("/officer/reports?to-day=31&to-month=12&to-year=9999")
    assert response.status_code == 200
    assert "Sorry, there is a problem" not in response.get_data(as_text=True)
