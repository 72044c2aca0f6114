import pytest


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
