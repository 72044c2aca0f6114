"""The search index follows the database: after commit, never before, and recoverably."""

import pytest
from sqlalchemy import delete, select, update

from marketplace.db import utcnow
from marketplace.models import IndexReplica, ListingChange
from marketplace.search import replicas
from marketplace.search.queries import database_search, search, viewer_of
from marketplace.search.replicas import REPLICA_LIVE
from marketplace.search.sync import SearchSync, check, drain, rebuild
from marketplace.services import needs, offers, organisations
from search_index import ANY_STATUS, SearchIndex, SearchQuery
from tests.conftest import need_fields


@pytest.fixture(autouse=True)
def no_other_replicas(session):
    """Replicas recorded by other tests' committed apps are not part of these tests' world."""
    session.execute(delete(IndexReplica))
    session.commit()


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


def log_ids(session):
    session.expire_all()
    return set(session.scalars(select(ListingChange.id)))


def test_the_log_is_pruned_only_behind_the_slowest_replica(session, session_factory, make_need, tmp_path):
    first = SearchIndex(tmp_path / "first")
    second = SearchIndex(tmp_path / "second")
    drain(session_factory, first, replica="first")
    drain(session_factory, second, replica="second")
    older = make_need(title="Folding tables for the scouts")
    session.commit()
    newer = make_need(title="Folding chairs for the scouts")
    session.commit()
    waiting = log_ids(session)
    assert len(waiting) >= 2

    drain(session_factory, first, replica="first")
    # The second replica has not applied them yet: they stay for it.
    assert log_ids(session) == waiting
    assert found(first, "folding") == {("need", older.id), ("need", newer.id)}
    assert found(second, "folding") == set()

    drain(session_factory, second, replica="second")
    assert found(second, "folding") == {("need", older.id), ("need", newer.id)}
    # Both have them: only the newest row stays, as the log's high-water mark.
    assert log_ids(session) == {max(waiting)}
    positions = dict(session.execute(select(IndexReplica.name, IndexReplica.applied_through)).all())
    assert positions == {"first": max(waiting), "second": max(waiting)}
    first.close()
    second.close()


def test_a_replica_away_too_long_is_not_waited_for_and_rebuilds_when_it_returns(
    session, session_factory, make_need, tmp_path
):
    first = SearchIndex(tmp_path / "first")
    away = SearchIndex(tmp_path / "away")
    drain(session_factory, first, replica="first")
    drain(session_factory, away, replica="away")
    session.execute(update(IndexReplica).where(IndexReplica.name == "away").values(seen_at=utcnow() - REPLICA_LIVE * 2))
    session.commit()
    need = make_need(title="Marquee for the carnival")
    session.commit()
    other = make_need(title="Bunting for the carnival")
    session.commit()
    drain(session_factory, first, replica="first")
    # Pruned past the replica that was away, which is forgotten.
    assert min(log_ids(session)) > replicas.read_position(tmp_path / "away").applied_through + 1
    assert session.get(IndexReplica, "away", populate_existing=True) is None

    drain(session_factory, away, replica="away")
    assert found(away, "carnival") == {("need", need.id), ("need", other.id)}
    assert check(session_factory, away, fix=False).ok
    first.close()
    away.close()


def test_a_replica_more_than_the_bound_behind_rebuilds(session, session_factory, make_need, tmp_path, monkeypatch):
    monkeypatch.setattr(replicas, "KEEP_BEHIND", 1)
    first = SearchIndex(tmp_path / "first")
    slow = SearchIndex(tmp_path / "slow")
    drain(session_factory, first, replica="first")
    drain(session_factory, slow, replica="slow")
    titles = ["Gazebo for the fete", "Trestle tables for the fete", "Urn for the fete"]
    made = [make_need(title=title) for title in titles]
    session.commit()
    drain(session_factory, first, replica="first")
    assert session.get(IndexReplica, "slow", populate_existing=True) is None
    drain(session_factory, slow, replica="slow")
    assert found(slow, "fete") == {("need", need.id) for need in made}
    assert session.get(IndexReplica, "slow", populate_existing=True) is not None
    first.close()
    slow.close()


def test_a_batch_applied_twice_after_a_crash_leaves_the_index_right(session, session_factory, make_need, tmp_path):
    index = SearchIndex(tmp_path / "index")
    drain(session_factory, index, replica="only")
    before = replicas.read_position(tmp_path / "index")
    need = make_need(title="Defibrillator for the cricket club")
    session.commit()
    drain(session_factory, index, replica="only")
    # As if the process died after the Whoosh commit but before recording its position.
    replicas.write_position(tmp_path / "index", before)
    need.title = "Defibrillator cabinet for the cricket club"
    session.commit()
    drain(session_factory, index, replica="only")
    assert found(index, "cabinet") == {("need", need.id)}
    assert check(session_factory, index, fix=False).ok
    index.close()


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
