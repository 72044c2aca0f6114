"""The search index follows the database: after commit, never before, and recoverably."""

import pytest
from sqlalchemy import func, select

from marketplace.models import ListingChange
from marketplace.search.queries import database_search, search, viewer_of
from marketplace.search.sync import SearchSync, check, drain, rebuild
from marketplace.services import needs, offers, organisations
from search_index import ANY_STATUS, SearchIndex, SearchQuery
from tests.conftest import need_fields


@pytest.fixture
def index(tmp_path):
    index = SearchIndex(tmp_path / "index")
    yield index
    index.close()


def found(index, q, viewer=None, **filters):
    results = index.search(SearchQuery(q=q, **filters), viewer or viewer_of(None))
    return {(hit.kind, hit.id) for hit in results.hits}


def test_committed_changes_reach_the_index_and_rolled_back_ones_never_do(session_factory, make_user, today, index):
    member = make_user("community")
    with session_factory() as first:
        kept = needs.post_need(first, first.merge(member), need_fields(title="Folding tables for the scouts"), today)
        first.commit()
    with session_factory() as second:
        needs.post_need(second, second.merge(member), need_fields(title="Folding chairs that were never saved"), today)
        second.rollback()
    drain(session_factory, index)
    assert found(index, "folding") == {("need", kept.id)}


def test_outbox_is_emptied_by_a_drain(session, session_factory, make_need, index):
    make_need()
    session.commit()
    assert session.scalar(select(func.count()).select_from(ListingChange)) > 0
    drain(session_factory, index)
    assert session.scalar(select(func.count()).select_from(ListingChange)) == 0


def test_withdrawn_and_expired_needs_leave_public_results(session, session_factory, make_user, make_need, index, today):
    from datetime import timedelta

    member = make_user("community")
    withdrawn = make_need(by=member, title="Paint for the village hall")
    expiring = make_need(by=member, title="Paint for the scout hut", needed_by=(today + timedelta(days=1)).isoformat())
    session.commit()
    drain(session_factory, index)
    assert found(index, "paint") == {("need", withdrawn.id), ("need", expiring.id)}
    needs.withdraw_need(session, member, withdrawn.id)
    needs.expire_overdue_needs(session, today + timedelta(days=5))
    session.commit()
    drain(session_factory, index)
    assert found(index, "paint") == set()
    assert ("need", withdrawn.id) in found(index, "paint", viewer_of(member), status=ANY_STATUS)


def test_verifying_an_organisation_makes_its_listings_searchable(
    session, session_factory, make_user, make_need, officer, index
):
    member = make_user("community", verified=False)
    need = make_need(by=member, title="Defibrillator for the cricket club")
    session.commit()
    drain(session_factory, index)
    assert found(index, "defibrillator") == set()
    assert found(index, "defibrillator", viewer_of(officer)) == {("need", need.id)}
    organisations.verify_organisation(session, officer, member.organisation_id)
    session.commit()
    drain(session_factory, index)
    assert found(index, "defibrillator") == {("need", need.id)}


def test_county_wide_offers_are_found_under_every_district(session, session_factory, make_offer, index):
    offer = make_offer(title="Van hire anywhere in the county", districts=["County-wide"], category="transport")
    session.commit()
    drain(session_factory, index)
    assert ("offer", offer.id) in found(index, "van", district="Melton")


def test_rebuild_and_check_repair_an_index_that_missed_changes(session, session_factory, make_need, tmp_path):
    index = SearchIndex(tmp_path / "fresh")
    need = make_need(title="Gazebo for the summer fair")
    session.commit()
    session.execute(ListingChange.__table__.delete())  # as if the change had been lost
    session.commit()
    report = check(session_factory, index, fix=False)
    assert f"need:{need.id}" in report.missing
    check(session_factory, index, fix=True)
    assert found(index, "gazebo") == {("need", need.id)}
    assert check(session_factory, index, fix=False).ok
    rebuild(session_factory, index)
    assert found(index, "gazebo") == {("need", need.id)}
    index.close()


def test_a_corrupt_index_is_rebuilt_at_start_up(session, session_factory, make_need, tmp_path):
    need = make_need(title="Marquee for the carnival")
    session.commit()
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "CURRENT").write_text("gen-999\n")
    (folder / "gen-000").mkdir()
    (folder / "gen-000" / "garbage.seg").write_bytes(b"\x00not whoosh")
    sync = SearchSync(session_factory, folder, background=False)
    sync.start()
    assert sync.available
    assert found(sync.index, "marquee") == {("need", need.id)}
    sync.stop()


def test_search_falls_back_to_the_database_when_the_index_is_unusable(session, make_need):
    need = make_need(title="Raised beds for the community garden")
    outcome = search(session, None, None, SearchQuery(q="raised beds"))
    assert outcome.fallback
    assert [(hit.kind, hit.id) for hit in outcome.results.hits] == [("need", need.id)]
    assert database_search(session, None, SearchQuery(q="100%_ \\ *")).total == 0


def test_offers_changed_through_services_are_enqueued(session, make_user, make_offer):
    supplier = make_user("supplier")
    offer = make_offer(by=supplier)
    session.commit()
    session.execute(ListingChange.__table__.delete())
    offers.change_offer_status(session, supplier, offer.id, "pause")
    session.flush()
    kinds = set(session.execute(select(ListingChange.kind, ListingChange.item_id)).all())
    assert ("offer", offer.id) in kinds
