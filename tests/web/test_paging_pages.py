"""Paged lists: a page past the end leads to the last page, and bad page numbers are explained in plain words."""

from __future__ import annotations

import pytest

from marketplace.web.listing_pages import PER_PAGE

PAGE_MESSAGE = "Page must be a whole number between 1 and 1,000,000"


def test_a_page_past_the_end_of_needs_leads_to_the_last_page_with_the_same_filters(client, make_user, make_need):
    group = make_user("community")
    for n in range(PER_PAGE + 1):
        make_need(by=group, title=f"Minibus trip number {n}", category="transport")

    response = client.get("/needs?category=transport&page=999999")

    assert response.status_code == 302
    assert response.headers["Location"] == "/needs?category=transport&page=2"
    last = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"{PER_PAGE + 1} needs found" in last
    assert "Minibus trip number 0" in last and "No needs match" not in last


PAGED_LISTS = [
    (None, "/offers?page=7", "/offers"),
    (None, "/search?q=minibus&page=7", "/search?q=minibus"),
    ("community", "/account/needs?page=7", "/account/needs"),
    ("supplier", "/account/offers?page=7", "/account/offers"),
    ("supplier", "/account/pledges?page=7", "/account/pledges"),
    ("community", "/account/requests?page=7", "/account/requests"),
    ("officer", "/officer/pledges/all?status=stuck&page=7", "/officer/pledges/all?status=stuck"),
    ("officer", "/officer/audit?page=7", "/officer/audit"),
    ("officer", "/officer/feedback?page=7", "/officer/feedback"),
]


@pytest.mark.parametrize(("role", "url", "first_page"), PAGED_LISTS)
def test_every_paged_list_sends_a_page_past_the_end_to_its_last_page(
    client, browser, make_user, officer, role, url, first_page
):
    if role is not None:
        browser.sign_in(officer if role == "officer" else make_user(role))

    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"] == first_page
    assert client.get(first_page).status_code == 200


@pytest.mark.parametrize("page", ["abc", "0", "1000001", "1.5"])
def test_a_bad_page_number_is_explained_in_plain_words(client, page):
    for url in (f"/needs?page={page}", f"/search?q=hall&page={page}"):
        html = client.get(url).get_data(as_text=True)
        assert "govuk-error-summary" in html
        assert PAGE_MESSAGE in html
        assert "page must be" not in html


def test_the_api_says_the_same_and_keeps_its_codes(client):
    response = client.get("/api/v1/needs?page=zero&per_page=1000")

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"] == {
        "page": PAGE_MESSAGE,
        "per_page": "The number of results per page must be a whole number between 1 and 100",
    }
    assert error["field_codes"] == {"page": "invalid", "per_page": "invalid"}
    # A page past the end stays an empty page in the API, as documented.
    assert client.get("/api/v1/needs?page=999999").get_json()["items"] == []


@pytest.mark.parametrize(("role", "url", "first_page"), PAGED_LISTS[2:])
def test_a_bad_page_number_on_a_persons_own_list_is_explained_not_read_as_page_one(
    client, browser, make_user, officer, role, url, first_page
):
    # These lists used to show their first page without a word: a mistyped link looked like
    # a list that had lost its later pages.
    browser.sign_in(officer if role == "officer" else make_user(role))
    separator = "&" if "?" in first_page else "?"

    response = client.get(f"{first_page}{separator}page=abc")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "govuk-error-summary" in html and PAGE_MESSAGE in html
