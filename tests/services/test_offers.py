from decimal import Decimal

import pytest

from marketplace.models import OfferStatus
from marketplace.services import offers
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.services.listings import Filters
from tests.conftest import offer_fields


def test_supplier_posts_an_offer_with_a_measured_capacity(session, make_user, today):
    supplier = make_user("supplier")
    offer = offers.post_offer(session, supplier, offer_fields(capacity="1,200.50"), today)
    assert offer.status is OfferStatus.OPEN
    assert offer.capacity == Decimal("1200.50")
    assert offer.measure.code == "premises-provided"
    assert [d.code for d in offer.districts] == ["Charnwood"]


def test_community_member_cannot_post_offers(session, make_user, today):
    with pytest.raises(Forbidden):
        offers.post_offer(session, make_user("community"), offer_fields(), today)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"districts": []}, "districts"),
        ({"districts": "Charnwood"}, "districts"),
        ({"districts": ["Atlantis"]}, "districts"),
        ({"capacity": -3}, "capacity"),
        ({"capacity": "lots"}, "capacity"),
        ({"capacity": 1.234}, "capacity"),
        ({"capacity": True}, "capacity"),
        ({"measure": "smiles"}, "measure"),
        ({"measure": None, "capacity": 10}, "measure"),
        ({"available_until": "2001-01-01"}, "available_until"),
    ],
)
def test_bad_offer_fields_are_named(session, make_user, today, overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        offers.post_offer(session, make_user("supplier"), offer_fields(**overrides), today)
    assert field in caught.value.fields


def test_offer_lifecycle_pause_resume_withdraw(session, make_user, make_offer):
    supplier = make_user("supplier")
    offer = make_offer(by=supplier)
    offers.change_offer_status(session, supplier, offer.id, "pause")
    assert offer.status is OfferStatus.PAUSED
    with pytest.raises(InvalidTransition, match="paused"):
        offers.change_offer_status(session, supplier, offer.id, "pause")
    offers.change_offer_status(session, supplier, offer.id, "resume")
    assert offer.status is OfferStatus.OPEN
    offers.change_offer_status(session, supplier, offer.id, "withdraw")
    assert offer.status is OfferStatus.WITHDRAWN
    for action in ("pause", "resume", "withdraw"):
        with pytest.raises(InvalidTransition):
            offers.change_offer_status(session, supplier, offer.id, action)


def test_paused_offer_can_be_withdrawn(session, make_user, make_offer):
    supplier = make_user("supplier")
    offer = make_offer(by=supplier)
    offers.change_offer_status(session, supplier, offer.id, "pause")
    offers.change_offer_status(session, supplier, offer.id, "withdraw")
    assert offer.status is OfferStatus.WITHDRAWN


def test_another_supplier_cannot_change_the_offer(session, make_user, make_offer, today):
    offer = make_offer()
    rival = make_user("supplier")
    with pytest.raises(Forbidden):
        offers.change_offer_status(session, rival, offer.id, "withdraw")
    with pytest.raises(Forbidden):
        offers.edit_offer(session, rival, offer.id, {"title": "Our offer now"}, today)
    assert offer.status is OfferStatus.OPEN


def test_edit_keeps_capacity_consistent_with_measure(session, make_user, make_offer, today):
    supplier = make_user("supplier")
    offer = make_offer(by=supplier)
    with pytest.raises(ValidationFailed) as caught:
        offers.edit_offer(session, supplier, offer.id, {"measure": None}, today)
    assert "measure" in caught.value.fields
    offers.edit_offer(session, supplier, offer.id, {"measure": None, "capacity": None}, today)
    assert offer.measure is None and offer.capacity is None


def test_county_wide_offers_serve_every_district(session, make_user, make_offer):
    viewer = make_user("community")
    local = make_offer(districts=["Melton"])
    everywhere = make_offer(districts=["County-wide"])
    elsewhere = make_offer(districts=["Blaby"])
    found = {o.id for o in offers.list_offers(session, viewer, Filters(district="Melton"), 1, 100).items}
    assert {local.id, everywhere.id} <= found
    assert elsewhere.id not in found


def test_unverified_suppliers_offers_are_hidden_from_others(session, make_user, make_offer, officer):
    supplier = make_user("supplier", verified=False)
    offer = make_offer(by=supplier)
    assert offers.get_offer(session, officer, offer.id) is offer
    with pytest.raises(NotFound):
        offers.get_offer(session, make_user("community"), offer.id)
