"""Filters, facet counts, visibility, sorting and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from search_index import ANY_STATUS, SearchQuery, Viewer

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def counts(results, field):
    return {v.value: v.count for v in results.facets[field]}


def keys(results):
    return [f"{hit.kind}:{hit.id}" for hit in results.hits]


@pytest.fixture
def market(index, make_item):
    items = [
        make_item(title="Garden tools", category="goods", districts=("Blaby",), outcomes=("great-communities",)),
        make_item(title="Garden volunteers", category="volunteering", districts=("Melton",)),
        make_item(
            title="Garden design advice",
            category="expertise",
            districts=("Hinckley and Bosworth",),
            outcomes=("strong-economy", "great-communities"),
        ),
        make_item(
            kind="offer",
            title="Garden clearance team",
            category="volunteering",
            districts=("Blaby", "Hinckley and Bosworth"),
            outcomes=("keeping-people-safe",),
            organisation_id=9,
        ),
        make_item(title="Garden shed", category="goods", districts=("Melton",), status="met"),
    ]
    index.apply(items)
    return items


def test_district_with_spaces_is_one_value(index, market):
    results = index.search(SearchQuery(q="garden", district="Hinckley and Bosworth"))
    assert results.total == 2
    assert counts(results, "district")["Hinckley and Bosworth"] == 2


def test_filters_combine(index, market):
    results = index.search(SearchQuery(q="garden", category="volunteering", kind="offer"))
    assert keys(results) == [market[3].key]


def test_facets_count_the_filtered_visible_results(index, market):
    results = index.search(SearchQuery(q="garden"))
    assert results.total == 4  # the "met" shed is not open
    assert counts(results, "kind") == {"need": 3, "offer": 1}
    assert counts(results, "category") == {"goods": 1, "volunteering": 2, "expertise": 1}
    assert counts(results, "district") == {"Blaby": 2, "Melton": 1, "Hinckley and Bosworth": 2}
    assert counts(results, "outcome") == {
        "great-communities": 3,
        "strong-economy": 1,
        "keeping-people-safe": 1,
    }
    # The status facet ignores the default status filter, showing what else exists.
    assert counts(results, "status") == {"open": 4, "met": 1}
    assert [v.value for v in results.facets["status"] if v.selected] == ["open"]


def test_a_field_s_own_filter_does_not_narrow_its_facet(index, market):
    results = index.search(SearchQuery(q="garden", category="goods"))
    assert results.total == 1
    # Other categories still show how many results choosing them would give...
    assert counts(results, "category") == {"goods": 1, "volunteering": 2, "expertise": 1}
    assert [v.value for v in results.facets["category"] if v.selected] == ["goods"]
    # ...while other facets are narrowed by the category filter.
    assert counts(results, "district") == {"Blaby": 1}


def test_explicit_status_filter(index, market):
    results = index.search(SearchQuery(q="garden", status="met"))
    assert keys(results) == [market[4].key]
    assert index.search(SearchQuery(q="garden", status=ANY_STATUS)).total == 5


def test_unknown_filter_value_gives_nothing(index, market):
    assert index.search(SearchQuery(q="garden", district="Atlantis")).total == 0


def test_empty_query_with_filter_lists_newest_first(index, market):
    results = index.search(SearchQuery(district="Melton", status=ANY_STATUS))
    assert keys(results) == [market[4].key, market[1].key]
    assert all(hit.score is None for hit in results.hits)
    assert results.hits[0].snippet  # start of the description


def test_sort_newest(index, make_item):
    old = make_item(title="Bikes needed", created_at=BASE_TIME - timedelta(days=30))
    new = make_item(title="Bikes bikes bikes", created_at=BASE_TIME + timedelta(days=30))
    mid = make_item(title="Bikes", created_at=BASE_TIME)
    index.apply([old, new, mid])
    results = index.search(SearchQuery(q="bikes", sort="newest"))
    assert keys(results) == [new.key, mid.key, old.key]


def test_paging_and_past_the_end(index, make_item):
    items = [make_item(title=f"Paint pots {n}") for n in range(7)]
    index.apply(items)
    newest_first = [i.key for i in sorted(items, key=lambda i: i.created_at, reverse=True)]
    pages = [index.search(SearchQuery(q="paint", sort="newest", page=p, per_page=3)) for p in (1, 2, 3)]
    assert [keys(p) for p in pages] == [newest_first[:3], newest_first[3:6], newest_first[6:]]
    assert pages[0].pages == 3
    beyond = index.search(SearchQuery(q="paint", page=4, per_page=3))
    assert beyond.hits == () and beyond.total == 7 and beyond.page == 4
    relevance = index.search(SearchQuery(q="paint", page=3, per_page=3))
    assert len(relevance.hits) == 1


def test_silly_paging_values_are_clamped(index, make_item):
    index.apply([make_item(title="Paint")])
    results = index.search(SearchQuery(q="paint", page=-5, per_page=10_000))
    assert results.page == 1 and results.per_page == 100 and results.total == 1


@pytest.fixture
def hidden(index, make_item):
    items = {
        "public": make_item(title="Kettle", organisation_id=1),
        "withdrawn": make_item(title="Kettle withdrawn", organisation_id=2, status="withdrawn"),
        "unverified": make_item(title="Kettle unverified", organisation_id=3, organisation_verified=False),
        "other_withdrawn": make_item(title="Kettle elsewhere", organisation_id=4, status="withdrawn"),
    }
    index.apply(items.values())
    return {name: item.key for name, item in items.items()}


def visible(index, viewer, q="kettle", **filters):
    filters.setdefault("status", ANY_STATUS)
    return set(keys(index.search(SearchQuery(q=q, **filters), viewer)))


def test_public_sees_only_verified_and_not_withdrawn(index, hidden):
    assert visible(index, Viewer()) == {hidden["public"]}
    assert index.search(SearchQuery(q="kettle")).total == 1


def test_members_see_their_own_hidden_items(index, hidden):
    assert visible(index, Viewer(organisation_id=2)) == {hidden["public"], hidden["withdrawn"]}
    assert visible(index, Viewer(organisation_id=3)) == {hidden["public"], hidden["unverified"]}


def test_officers_see_everything(index, hidden):
    assert visible(index, Viewer(is_officer=True)) == set(hidden.values())


@pytest.mark.parametrize(
    "q",
    ["status:withdrawn", "kettle status:withdrawn", "withdrawn", "verified:0", "organisation_id:2", "NOT x"],
)
def test_query_syntax_cannot_reveal_hidden_items(index, hidden, q):
    shown = visible(index, Viewer(), q=q) | visible(index, Viewer(), q=q, status="withdrawn")
    assert shown <= {hidden["public"]}


def test_facets_do_not_count_hidden_items(index, hidden):
    results = index.search(SearchQuery(q="kettle", status=ANY_STATUS))
    assert counts(results, "status") == {"open": 1}
    officer = index.search(SearchQuery(q="kettle", status=ANY_STATUS), Viewer(is_officer=True))
    assert counts(officer, "status") == {"open": 2, "withdrawn": 2}


def test_hidden_statuses_and_default_statuses_are_configurable(tmp_path, make_item):
    from search_index import SearchIndex

    ix = SearchIndex(tmp_path / "custom", hidden_statuses=("archived",), default_statuses=("open", "paused"))
    ix.apply(
        [
            make_item(title="Ladder", status="paused"),
            make_item(title="Ladder", status="archived"),
            make_item(title="Ladder", status="withdrawn"),
        ]
    )
    assert ix.search(SearchQuery(q="ladder")).total == 1
    assert ix.search(SearchQuery(q="ladder", status=ANY_STATUS)).total == 2
    ix.close()
