"""Lists say what matters: no "Open" tag on every open row, a snippet of each description, sorting."""

from __future__ import annotations

import re
from datetime import timedelta


def _titles(html: str) -> list[str]:
    return re.findall(r'<a class="govuk-link" href="/(?:needs|offers)/\d+">([^<]+)</a>', html)


def test_open_needs_are_not_each_tagged_open_and_show_a_snippet(client, make_need):
    make_need(title="Tables for the youth club", description="Six folding tables for our Friday sessions at the hall.")
    html = client.get("/needs").get_data(as_text=True)
    assert "Tables for the youth club" in html
    assert "Six folding tables for our Friday sessions" in html
    assert ">Open</strong>" not in html


def test_a_group_sees_every_status_tagged_on_its_own_list(client, browser, make_user, make_need):
    member = make_user("community")
    make_need(by=member, title="Paint for the scout hut")
    browser.sign_in(member)
    assert ">Open</strong>" in client.get("/account/needs").get_data(as_text=True)


def test_needs_sort_by_closing_date_with_undated_last(client, make_need, today):
    make_need(title="Later need of the group", needed_by=(today + timedelta(days=90)).isoformat())
    make_need(title="Undated need of the group", needed_by=None)
    make_need(title="Sooner need of the group", needed_by=(today + timedelta(days=10)).isoformat())
    newest = [t for t in _titles(client.get("/needs").get_data(as_text=True)) if "need of the group" in t]
    closing = [t for t in _titles(client.get("/needs?sort=closing").get_data(as_text=True)) if "need of the group" in t]
    assert newest == ["Sooner need of the group", "Undated need of the group", "Later need of the group"]
    assert closing == ["Sooner need of the group", "Later need of the group", "Undated need of the group"]


def test_an_unknown_sort_is_explained_not_fatal(client):
    response = client.get("/needs?sort=sideways")
    assert response.status_code == 200
    assert "Unknown sort: sideways" in response.get_data(as_text=True)


def test_offers_sort_by_when_they_end(client, make_offer, today):
    make_offer(title="Offer ending late", available_until=(today + timedelta(days=200)).isoformat())
    make_offer(title="Offer ending soon", available_until=(today + timedelta(days=20)).isoformat())
    titles = [t for t in _titles(client.get("/offers?sort=closing").get_data(as_text=True)) if "Offer ending" in t]
    assert titles == ["Offer ending soon", "Offer ending late"]


def test_filters_are_behind_a_toggle_that_is_open_when_a_filter_is_on(client):
    plain = client.get("/needs").get_data(as_text=True)
    filtered = client.get("/needs?district=Melton").get_data(as_text=True)
    assert '<details class="govuk-details app-filters">' in plain
    assert '<details class="govuk-details app-filters" open>' in filtered
    assert "Filter and sort (filters on)" in filtered


def test_a_search_with_no_results_suggests_what_to_try_and_offers_to_post_a_need(client, browser, make_user):
    html = client.get("/search?q=zzqqxx+trampoline&district=Melton").get_data(as_text=True)
    assert "No needs or offers match “zzqqxx trampoline”" in html
    assert "checking your spelling" in html
    assert "removing the filters" in html
    assert 'href="/register">Register your group</a> and post a need' in html

    browser.sign_in(make_user("community"))
    html = client.get("/search?q=zzqqxx").get_data(as_text=True)
    assert 'href="/needs/new">Post a need</a>' in html


def test_the_header_search_box_has_a_visible_label(client):
    html = client.get("/needs").get_data(as_text=True)
    assert '<label class="govuk-label govuk-!-font-size-16 govuk-!-margin-bottom-1" for="site-search">' in html


def test_a_group_never_sees_how_the_suppliers_contract_stands(app, session, make_user, make_need, officer):
    from marketplace.services import contracts, pledges
    from tests.web.conftest import Browser

    group, supplier = make_user("community"), make_user("supplier")
    contract = contracts.create_contract(
        session,
        officer,
        {
            "reference": "LCC-TEST-1",
            "title": "Street lighting",
            "supplier_id": supplier.organisation_id,
            "value": 200_000,
            "start_date": "2026-04-01",
            "end_date": "2029-03-31",
            "social_value_target": 10_000,
        },
    )
    need = make_need(by=group)
    pledge = pledges.propose_pledge(
        session,
        supplier,
        {"need_id": need.id, "quantity": 300, "measure": "goods-donated", "contract_id": contract.id},
    )
    as_group, as_supplier = Browser(app.test_client()), Browser(app.test_client())
    as_group.sign_in(group)
    as_supplier.sign_in(supplier)
    assert "target" not in as_group.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "of a £10,000 target" in as_supplier.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
