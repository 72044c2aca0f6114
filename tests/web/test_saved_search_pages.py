"""Saving a search from the search page, listing and deleting saved searches."""

from __future__ import annotations

import html

from sqlalchemy import func, select

from marketplace.models import SavedSearch


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(SavedSearch))


def test_save_a_search_from_the_search_page_list_it_and_delete_it(browser, client, session, make_user):
    group = make_user("community")
    session.commit()
    visitor = client.get("/search?q=paint&category=volunteering").get_data(as_text=True)
    assert 'href="/sign-in?next=/search?q%3Dpaint%26category%3Dvolunteering">Sign in to save this search' in visitor

    browser.sign_in(group)
    results = browser.client.get("/search?q=paint&category=volunteering&sort=newest&page=1").get_data(as_text=True)
    save = "/account/saved-searches/new?q=paint&amp;category=volunteering"
    assert f'href="{save}">Save this search' in results
    form = browser.client.get(html.unescape(save)).get_data(as_text=True)
    assert "You are saving a search for <strong>“paint” in offers</strong>" in form
    assert "Category: Volunteering" in form

    # No frequency: the error summary links to the radios, and nothing is saved.
    missing = browser.submit(html.unescape(save), {"q": "paint", "kind": "", "category": "volunteering"})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "There is a problem" in text
    assert 'href="#frequency">Choose how often you want the email: daily or weekly' in text
    # A filter tampered with in the address: said at the top, nothing saved.
    tampered = browser.submit(
        html.unescape(save), {"q": "paint", "category": "no-such", "frequency": "daily"}, form_url=html.unescape(save)
    )
    assert tampered.status_code == 422 and "Choose a category from the list" in tampered.get_data(as_text=True)
    odd_kind = browser.client.get("/account/saved-searches/new?q=paint&kind=bogus")
    assert odd_kind.status_code == 200 and "“paint” in offers" in odd_kind.get_data(as_text=True)
    refused = browser.submit(
        "/account/saved-searches/new?q=paint&kind=bogus", {"q": "paint", "kind": "bogus", "frequency": "daily"}
    )
    assert refused.status_code == 422 and "Choose needs or offers" in refused.get_data(as_text=True)
    assert count(session) == 0

    saved = browser.submit(
        html.unescape(save), {"q": "paint", "kind": "", "category": "volunteering", "frequency": "weekly"}
    ).get_data(as_text=True)
    assert "Search saved: “paint” in offers. We will email you once a week when something new matches it." in saved
    assert "Your saved searches" in saved and "Weekly" in saved
    assert 'href="/search?q=paint&amp;kind=offer&amp;category=volunteering">“paint” in offers' in saved

    again = browser.submit(html.unescape(save), {"q": "paint", "category": "volunteering", "frequency": "daily"})
    assert again.status_code == 422 and "You have saved this search already" in again.get_data(as_text=True)
    assert count(session) == 1

    saved_id = session.scalar(select(SavedSearch.id))
    gone = browser.submit(f"/account/saved-searches/{saved_id}/delete", form_url="/account/saved-searches")
    assert "Deleted your saved search for “paint” in offers" in gone.get_data(as_text=True)
    assert "You have no saved searches" in gone.get_data(as_text=True)
    assert count(session) == 0


def test_someone_elses_saved_search_cannot_be_deleted(browser, session, make_user):
    from marketplace.services.saved_searches import save_search

    owner, other = make_user("supplier"), make_user("supplier")
    saved = save_search(session, owner, {"q": "minibus", "frequency": "daily"})
    session.commit()
    browser.sign_in(other)
    answer = browser.submit(f"/account/saved-searches/{saved.id}/delete", form_url="/account/saved-searches")
    assert answer.status_code == 404 and count(session) == 1
