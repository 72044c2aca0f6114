"""The busiest pages read what they show in a fixed, small number of queries (issue #7).

Each page is asked for once to warm the process (the matcher is built, the reference lists
read), then counted: the count must not grow with how many needs, organisations or suggested
offers the page shows. A lazy load from a template would add one query per item.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from marketplace.services import accounts
from tests.conftest import need_fields, offer_fields

ITEMS = 6


@contextmanager
def counting(session) -> Iterator[list[str]]:
    engine = session.get_bind().engine
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        # The tests' sessions commit to SAVEPOINTs inside one transaction: not the page's work.
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _arrange(make_need, make_offer, session):
    needs = [
        make_need(**need_fields(title=f"Storage for our food bank number {n}", outcomes=["great-communities"]))
        for n in range(ITEMS)
    ]
    for n in range(ITEMS):
        make_offer(**offer_fields(title=f"Spare warehouse space in Loughborough {n}"))
    session.commit()
    return needs


def _count(session, client, path: str, **kwargs) -> tuple[int, str]:
    client.get(path, **kwargs)  # warm: matcher, reference lists
    with counting(session) as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return len(seen), response.get_data(as_text=True)


def test_need_list_shows_every_group_in_three_queries(client, make_need, make_offer, session):
    needs = _arrange(make_need, make_offer, session)
    statements, page = _count(session, client, "/needs")
    assert all(need.title in page and need.organisation.name in page for need in needs)
    assert statements <= 3  # count, page (organisation, category, district joined), outcomes


def test_need_page_shows_suggested_offers_in_a_fixed_number_of_queries(
    browser, make_user, make_need, make_offer, session
):
    need = _arrange(make_need, make_offer, session)[0]
    browser.sign_in(make_user("community"))
    statements, page = _count(session, browser.client, f"/needs/{need.id}")
    assert "Offers that could meet this need" in page
    assert sum(f"Spare warehouse space in Loughborough {n}" in page for n in range(ITEMS)) == 5
    assert "Supplier organisation" in page  # each suggestion names its organisation
    # user, need (with organisation, category, district), outcomes, matcher's change check,
    # the suggested offers with their organisations; no pledges for another group's need; and the
    # navigation's "waiting for you" count, a fixed handful (not one per item).
    assert statements <= 11


def test_api_need_list_in_a_fixed_number_of_queries(client, make_need, make_offer, make_user, session):
    _arrange(make_need, make_offer, session)
    _, token = accounts.create_token(session, make_user("supplier"), "tests")
    session.commit()
    statements, body = _count(session, client, "/api/v1/needs", headers={"Authorization": f"Bearer {token}"})
    assert body.count("Storage for our food bank number") == ITEMS
    assert statements <= 6  # token, user, count, page, outcomes (and at most one token stamp)


def test_search_page_reads_no_reference_lists_per_request(client, make_need, make_offer, session):
    _arrange(make_need, make_offer, session)
    statements, _ = _count(session, client, "/search?q=storage")
    assert statements <= 1
