"""Suggestions in the product: the real model, stored vectors, and visibility rules."""

import mmap

import pytest
from sqlalchemy import func, select

from marketplace.models import ListingEmbedding
from marketplace.services import offers, pledges, suggestions
from marketplace.services.errors import Forbidden, NotSignedIn, ValidationFailed
from marketplace.suggestions.engine import SuggestionEngine
from tests.conftest import need_fields, offer_fields


@pytest.fixture
def matcher(session_factory):
    return SuggestionEngine(session_factory)


@pytest.fixture
def minibus_need(make_need):
    return make_need(
        title="Minibus to take older people to the lunch club",
        description="We need a driver and a wheelchair accessible minibus on Thursdays to bring members to lunch.",
        category="transport",
        district="Melton",
        outcomes=["wellbeing-and-opportunity"],
    )


def post_offer(make_offer, **fields):
    return make_offer(**offer_fields(**fields))


def test_the_fitting_offer_comes_first_with_reasons(session, matcher, make_user, make_offer, minibus_need, today):
    bus = make_offer(
        title="Accessible minibus and driver one day a week",
        description="Our 16-seat minibus with a wheelchair lift and a trained driver is free every Thursday.",
        category="transport",
        districts=["Melton"],
        measure="transport-provided",
    )
    make_offer(
        title="Pro bono legal advice for charities",
        description="Our solicitors can review leases, contracts and governance documents for small charities.",
        category="expertise",
        districts=["County-wide"],
        measure="expert-hours",
    )
    session.commit()
    found = suggestions.offers_for_need(session, matcher, make_user("supplier"), minibus_need.id, 5, today)
    assert found.items[0].item.id == bus.id
    assert found.items[0].good and not found.no_good_match
    assert any("Melton" in reason for reason in found.items[0].reasons)
    assert all(0 <= item.score <= 1 for item in found.items)


def test_offers_from_the_wrong_district_do_not_help_a_premises_need(
    session, matcher, make_user, make_need, make_offer, today
):
    need = make_need(
        title="Hall for our Saturday lunch club",
        description="A hall with a kitchen for 35 older people every other Saturday in Melton.",
        category="premises",
        district="Melton",
    )
    far = make_offer(
        title="Community hall with kitchen for hire free",
        description="Our hall seats 60 and has a full kitchen, free for community groups at weekends.",
        category="premises",
        districts=["Blaby"],
    )
    session.commit()
    found = suggestions.offers_for_need(session, matcher, make_user("officer"), need.id, 10, today)
    assert far.id not in [item.item.id for item in found.items]
    assert found.no_good_match


def test_unverified_and_withdrawn_offers_are_never_suggested_to_others(
    session, matcher, make_user, make_offer, minibus_need, officer, today
):
    hidden_supplier = make_user("supplier", verified=False)
    hidden = make_offer(
        by=hidden_supplier,
        **offer_fields(title="Minibus with driver on Thursdays", category="transport", districts=["Melton"]),
    )
    gone_supplier = make_user("supplier")
    gone = make_offer(
        by=gone_supplier,
        **offer_fields(title="Wheelchair minibus for lunch clubs", category="transport", districts=["Melton"]),
    )
    offers.change_offer_status(session, gone_supplier, gone.id, "withdraw")
    session.commit()
    seen_by_group = suggestions.offers_for_need(session, matcher, make_user("community"), minibus_need.id, 10, today)
    ids = [item.item.id for item in seen_by_group.items]
    assert hidden.id not in ids and gone.id not in ids
    seen_by_officer = suggestions.offers_for_need(session, matcher, officer, minibus_need.id, 10, today)
    assert hidden.id in [item.item.id for item in seen_by_officer.items]
    assert gone.id not in [item.item.id for item in seen_by_officer.items]


def test_needs_for_an_offer_are_for_its_supplier_and_officers(
    session, matcher, make_user, make_offer, minibus_need, officer, today
):
    supplier = make_user("supplier")
    bus = make_offer(
        by=supplier,
        **offer_fields(title="Minibus and driver on Thursdays", category="transport", districts=["County-wide"]),
    )
    session.commit()
    found = suggestions.needs_for_offer(session, matcher, supplier, bus.id, 5, today)
    assert found.items[0].item.id == minibus_need.id
    assert suggestions.needs_for_offer(session, matcher, officer, bus.id, 5, today).items
    with pytest.raises(Forbidden):
        suggestions.needs_for_offer(session, matcher, make_user("supplier"), bus.id, 5, today)
    with pytest.raises(NotSignedIn):
        suggestions.needs_for_offer(session, matcher, None, bus.id, 5, today)


def test_supplier_sees_needs_fitting_all_its_offers(
    session, matcher, make_user, make_offer, make_need, minibus_need, today
):
    supplier = make_user("supplier")
    make_offer(
        by=supplier, **offer_fields(title="Minibus and driver on Thursdays", category="transport", districts=["Melton"])
    )
    make_offer(
        by=supplier,
        **offer_fields(
            title="Spare laptops for community groups",
            description="Twenty refurbished laptops with chargers, wiped and ready for use by community groups.",
            category="goods",
            districts=["County-wide"],
            measure="goods-donated",
        ),
    )
    laptops = make_need(
        **need_fields(
            title="Laptops for our homework club",
            description="Children at our homework club share two old laptops; we need more for schoolwork.",
            category="goods",
            district="Oadby and Wigston",
        )
    )
    session.commit()
    found = suggestions.needs_for_supplier(session, matcher, supplier, 10, today)
    top_two = {item.item.id for item in found.items[:2]}
    assert top_two == {minibus_need.id, laptops.id}
    assert all(item.via_offer is not None for item in found.items[:2])


def test_a_need_the_supplier_already_answered_is_not_suggested_to_it_again(
    session, matcher, make_user, make_offer, make_need, minibus_need, today
):
    supplier = make_user("supplier")
    bus = make_offer(
        by=supplier,
        **offer_fields(
            title="Minibus and driver on Thursdays",
            category="transport",
            districts=["County-wide"],
            measure="transport-provided",
        ),
    )
    twin = make_need(
        title="Minibus to take older people to the lunch club",
        description="We need a driver and a wheelchair accessible minibus on Thursdays to bring members to lunch.",
        category="transport",
        district="Melton",
        outcomes=["wellbeing-and-opportunity"],
    )
    session.commit()
    before = [item.item.id for item in suggestions.needs_for_offer(session, matcher, supplier, bus.id, 5, today).items]
    assert set(before[:2]) == {minibus_need.id, twin.id}
    pledges.propose_pledge(
        session,
        supplier,
        {"need_id": minibus_need.id, "offer_id": bus.id, "quantity": 1, "measure": "transport-provided"},
    )
    session.commit()
    for found in (
        suggestions.needs_for_offer(session, matcher, supplier, bus.id, 5, today),
        suggestions.needs_for_supplier(session, matcher, supplier, 5, today),
    ):
        shown = [item.item.id for item in found.items]
        assert minibus_need.id not in shown  # already pledged to by this supplier
        assert shown[0] == twin.id


def test_among_equal_fits_a_need_nobody_has_pledged_to_comes_first(
    session, matcher, make_user, make_offer, make_need, minibus_need, today
):
    bus = make_offer(
        by=make_user("supplier"),
        **offer_fields(title="Minibus and driver on Thursdays", category="transport", districts=["County-wide"]),
    )
    other = make_user("supplier")
    make_offer(by=other, **offer_fields(title="Minibus hire", category="transport", districts=["County-wide"]))
    twin = make_need(
        title="Minibus to take older people to the lunch club",
        description="We need a driver and a wheelchair accessible minibus on Thursdays to bring members to lunch.",
        category="transport",
        district="Melton",
        outcomes=["wellbeing-and-opportunity"],
    )
    session.commit()
    first = suggestions.needs_for_offer(session, matcher, make_user("officer"), bus.id, 5, today).items[0].item.id
    answered = minibus_need if first == minibus_need.id else twin
    pledges.propose_pledge(session, other, {"need_id": answered.id, "quantity": 1, "measure": "transport-provided"})
    session.commit()
    found = suggestions.needs_for_offer(session, matcher, make_user("officer"), bus.id, 5, today)
    order = [item.item.id for item in found.items]
    assert order.index(answered.id) > order.index((twin if answered is minibus_need else minibus_need).id)


def test_vectors_are_stored_once_and_renewed_when_the_text_changes(
    session, session_factory, make_user, make_need, today
):
    from marketplace.services import needs

    member = make_user("community")
    need = make_need(by=member)
    session.commit()
    engine = SuggestionEngine(session_factory)
    engine.catch_up()

    def stored():
        return session.scalar(
            select(ListingEmbedding.text_hash).where(
                ListingEmbedding.kind == "need", ListingEmbedding.item_id == need.id
            )
        )

    first = stored()
    assert first is not None
    SuggestionEngine(session_factory).catch_up()  # a restart reads the stored vector
    assert stored() == first
    needs.edit_need(
        session, member, need.id, {"description": "We now need a large hall with a stage for a summer show."}, today
    )
    session.commit()
    engine.catch_up()
    session.expire_all()
    assert stored() != first
    count = session.scalar(
        select(func.count())
        .select_from(ListingEmbedding)
        .where(ListingEmbedding.item_id == need.id, ListingEmbedding.kind == "need")
    )
    assert count == 1


def test_limit_is_checked():
    assert suggestions.check_limit(None) == 10
    assert suggestions.check_limit("3") == 3
    for bad in ("0", "51", "ten", "-1"):
        with pytest.raises(ValidationFailed):
            suggestions.check_limit(bad)


def test_a_missing_model_gives_a_clear_unavailable_error(session_factory, make_need, session, today, make_user):
    from marketplace.services.errors import ServiceUnavailable

    need = make_need()
    session.commit()
    broken = SuggestionEngine(session_factory, "/nonexistent/model-folder")
    with pytest.raises(ServiceUnavailable, match="nonexistent"):
        suggestions.offers_for_need(session, broken, make_user("officer"), need.id, 5, today)


def test_a_worker_whose_items_have_stored_vectors_never_loads_the_model(
    session_factory, session, make_user, make_offer, minibus_need, today
):
    import matching

    bus = make_offer(
        title="Accessible minibus and driver one day a week",
        description="Our 16-seat minibus with a wheelchair lift and a trained driver is free every Thursday.",
        category="transport",
        districts=["Melton"],
        measure="transport-provided",
    )
    session.commit()
    SuggestionEngine(session_factory).embed_all()  # what `marketplace reindex` and the first worker store
    # A worker of its own, with an encoder that has not loaded its model yet (as in a fresh process).
    lazy = matching.LazySemanticEncoder(matching.DEFAULT_MODEL, 384)
    worker = SuggestionEngine(session_factory, encoder=lazy)
    found = suggestions.offers_for_need(session, worker, make_user("officer"), minibus_need.id, 5, today)
    assert found.items[0].item.id == bus.id
    assert not lazy.loaded
    # A new item without a stored vector is encoded: only now is the model loaded.
    post_offer(make_offer, title="Wheelchair accessible minibus hire", districts=["Melton"], category="transport")
    session.commit()
    suggestions.offers_for_need(session, worker, make_user("officer"), minibus_need.id, 5, today)
    assert lazy.loaded


def _read_from_a_file(array) -> bool:
    """Whether an array's memory is a map of a file (shared by the processes that map it)."""
    while array is not None:
        if isinstance(array, mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_the_worker_that_built_the_matcher_serves_from_the_snapshot_it_saved(
    session_factory, session, make_user, make_offer, minibus_need, today, tmp_path
):
    bus = post_offer(
        make_offer, title="Minibus with driver for community trips", category="transport", districts=["Melton"]
    )
    session.commit()
    officer = make_user("officer")
    first = SuggestionEngine(session_factory, snapshot_dir=tmp_path)
    found = suggestions.offers_for_need(session, first, officer, minibus_need.id, 5, today)
    built = suggestions.offers_for_need(session, SuggestionEngine(session_factory), officer, minibus_need.id, 5, today)
    assert [(s.item.id, s.score) for s in found.items] == [(s.item.id, s.score) for s in built.items]
    assert found.items[0].item.id == bus.id
    # Its vectors are the saved file, which the machine's other workers map too, not a copy of its own.
    matcher = first.catch_up()
    assert _read_from_a_file(matcher.offers.vecs) and _read_from_a_file(matcher.needs.vecs)


def test_a_worker_opens_the_shared_snapshot_and_catches_up_with_the_database(
    session_factory, session, make_user, make_need, make_offer, today, tmp_path
):
    rooms = [
        post_offer(make_offer, title=f"Meeting room {n} in Loughborough", districts=["Charnwood"]) for n in range(4)
    ]
    need = make_need()
    session.commit()
    first = SuggestionEngine(session_factory, snapshot_dir=tmp_path)
    officer = make_user("officer")
    before = suggestions.offers_for_need(session, first, officer, need.id, 5, today)
    assert (tmp_path / "current.json").exists()  # the first worker saved what it built
    # Meanwhile: an offer withdrawn, one edited, one posted.
    offers.change_offer_status(session, rooms[0].created_by, rooms[0].id, "withdraw")
    offers.edit_offer(
        session,
        rooms[1].created_by,
        rooms[1].id,
        offer_fields(title="Accessible hall with a kettle", districts=["Charnwood"]),
        today,
    )
    fresh = post_offer(make_offer, title="Warm accessible room for carers", districts=["Charnwood"])
    session.commit()
    opened = SuggestionEngine(session_factory, snapshot_dir=tmp_path)
    built = SuggestionEngine(session_factory)
    got = suggestions.offers_for_need(session, opened, officer, need.id, 5, today)
    expected = suggestions.offers_for_need(session, built, officer, need.id, 5, today)
    # Ranked and explained alike: the opened worker reads the saved items' words from the
    # snapshot's records, the built one from their texts.
    assert [(s.item.id, s.score, s.reasons) for s in got.items] == [
        (s.item.id, s.score, s.reasons) for s in expected.items
    ]
    assert all(s.reasons for s in got.items)
    assert rooms[0].id not in {s.item.id for s in got.items} and fresh.id in {s.item.id for s in got.items}
    assert [s.item.id for s in got.items] != [s.item.id for s in before.items]
