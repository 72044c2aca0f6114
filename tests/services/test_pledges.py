"""The pledge lifecycle: who may do each step, what it is worth, and nothing over-promised."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.models import AuditEntry, NeedStatus, Notification, PledgeStatus
from marketplace.services import measures, offers, pledges
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed


@pytest.fixture
def cast(make_user, make_need, make_offer, officer):
    """A group with a need, a supplier with an offer of 40 volunteering hours, and an officer."""
    group = make_user("community")
    supplier = make_user("supplier")
    need = make_need(by=group, category="volunteering", title="Volunteers to paint our hall")
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=40)
    return group, supplier, need, offer, officer


def pledge(session, supplier, need, **fields):
    return pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "quantity": 10, "measure": "volunteering-hours", **fields}
    )


def test_the_whole_journey_values_the_pledge_at_approval(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need, offer_id=offer.id, quantity=12, message="Two Saturdays in May")
    assert made.status is PledgeStatus.PROPOSED and made.value is None
    pledges.accept_pledge(session, group, made.id)
    pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    assert made.value == Decimal("203.16")  # 12 hours × £16.93
    assert (made.proxy_value, made.proxy_version) == (Decimal("16.93"), 1)
    pledges.deliver_pledge(session, supplier, made.id, "Painted the hall on 3 and 10 May", None, True)
    pledges.accept_evidence(session, officer, made.id)
    pledges.confirm_pledge(session, group, made.id)
    assert made.status is PledgeStatus.CONFIRMED and made.confirmed_at is not None
    assert [e.to_status for e in made.history] == [
        "proposed", "accepted", "approved", "delivered", "delivered", "confirmed"
    ]  # fmt: skip
    assert [e.actor_id for e in made.history] == [supplier.id, group.id, officer.id, supplier.id, officer.id, group.id]
    assert made.history[4].note == "evidence accepted"


@pytest.mark.parametrize(
    ("step", "actor_name"),
    [
        ("accept", "supplier"),
        ("accept", "officer"),
        ("accept", "other_group"),
        ("approve", "group"),
        ("approve", "supplier"),
    ],
)
def test_only_the_right_person_takes_each_step(session, cast, make_user, step, actor_name):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    if step == "approve":
        pledges.accept_pledge(session, group, made.id)
    actors = {"group": group, "supplier": supplier, "officer": officer, "other_group": make_user("community")}
    action = {"accept": pledges.accept_pledge, "approve": pledges.approve_pledge}[step]
    with pytest.raises((Forbidden, NotFound)):
        action(session, actors[actor_name], made.id)


def test_illegal_transitions_are_refused_with_the_current_state(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    with pytest.raises(InvalidTransition, match="proposed"):
        pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    pledges.accept_pledge(session, group, made.id)
    pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    value = made.value
    with pytest.raises(InvalidTransition, match="approved"):
        pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    assert made.value == value
    assert len([e for e in made.history if e.to_status == "approved"]) == 1


def test_rejecting_needs_a_reason(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    pledges.accept_pledge(session, group, made.id)
    with pytest.raises(ValidationFailed):
        pledges.reject_pledge(session, officer, made.id, "  ")
    pledges.reject_pledge(session, officer, made.id, "The contract has ended")
    assert made.status is PledgeStatus.REJECTED and made.reject_reason == "The contract has ended"


def test_offer_capacity_is_never_over_promised(session, cast, make_need, make_user):
    group, supplier, need, offer, officer = cast
    pledge(session, supplier, need, offer_id=offer.id, quantity=30)
    other_need = make_need(category="volunteering")
    with pytest.raises(InvalidTransition, match="10 hours left"):
        pledge(session, supplier, other_need, offer_id=offer.id, quantity=11)
    last = pledge(session, supplier, other_need, offer_id=offer.id, quantity=10)
    pledges.cancel_pledge(session, supplier, last.id, "Staff off sick")
    assert pledges.offer_remaining(session, offer) == Decimal(10)


def test_need_quantity_is_never_over_promised_and_is_met_when_covered(session, make_user, make_need, officer, today):
    from marketplace.services import needs

    group = make_user("community")
    need = needs.post_need(session, group, {
        "title": "Hours of help at the food bank", "description": "We need volunteers to sort donations before Christmas.",
        "category": "volunteering", "district": "Blaby", "outcomes": ["great-communities"],
        "measure": "volunteering-hours", "quantity_needed": 20}, today)  # fmt: skip
    first, second = make_user("supplier"), make_user("supplier")
    one = pledge(session, first, need, quantity=15)
    with pytest.raises(InvalidTransition, match="5 hours still to be pledged"):
        pledge(session, second, need, quantity=6)
    two = pledge(session, second, need, quantity=5)
    for made, supplier in ((one, first), (two, second)):
        pledges.accept_pledge(session, group, made.id)
        pledges.approve_pledge(session, officer, made.id, "2099-01-31")
        pledges.deliver_pledge(session, supplier, made.id, "Sorted donations all week", None, True)
        pledges.accept_evidence(session, officer, made.id)
        pledges.confirm_pledge(session, group, made.id)
    assert need.status is NeedStatus.MET


def test_pledging_to_closed_needs_or_paused_offers_is_a_conflict(session, cast):
    group, supplier, need, offer, officer = cast
    offers.change_offer_status(session, supplier, offer.id, "pause")
    with pytest.raises(InvalidTransition, match="paused"):
        pledge(session, supplier, need, offer_id=offer.id)
    from marketplace.services import needs

    needs.withdraw_need(session, group, need.id)
    with pytest.raises((InvalidTransition, NotFound)):
        pledge(session, supplier, need)


def test_another_suppliers_offer_or_contract_is_forbidden(session, cast, make_user, make_offer):
    group, supplier, need, offer, officer = cast
    from marketplace.services import contracts

    theirs = make_user("supplier")
    contract = contracts.create_contract(session, officer, {
        "reference": "LCC-1", "title": "Road gritting", "supplier_id": theirs.organisation_id,
        "value": 120000, "start_date": "2026-01-01", "end_date": "2028-12-31", "social_value_target": 5000})  # fmt: skip
    their_offer = make_offer(by=theirs, category="volunteering", measure="volunteering-hours", capacity=10)
    with pytest.raises(Forbidden):
        pledge(session, supplier, need, offer_id=their_offer.id)
    with pytest.raises(Forbidden):
        pledge(session, supplier, need, contract_id=contract.id)


def test_bad_quantities_are_named(session, cast):
    group, supplier, need, offer, officer = cast
    for bad in (0, -1, "lots", 1.234, True, None):
        with pytest.raises(ValidationFailed) as caught:
            pledge(session, supplier, need, quantity=bad)
        assert "quantity" in caught.value.fields


def test_a_new_proxy_value_never_rewrites_an_approved_pledge(session, cast, make_need):
    group, supplier, need, offer, officer = cast
    approved = pledge(session, supplier, need, quantity=10)
    pledges.accept_pledge(session, group, approved.id)
    pledges.approve_pledge(session, officer, approved.id, "2099-01-31")
    measures.update_measure(session, officer, "volunteering-hours", {"proxy_value": "20.00", "source": "2027 review"})
    later = pledge(session, supplier, need, quantity=10)
    pledges.accept_pledge(session, group, later.id)
    pledges.approve_pledge(session, officer, later.id, "2099-01-31")
    assert (approved.value, approved.proxy_version) == (Decimal("169.30"), 1)
    assert (later.value, later.proxy_version) == (Decimal("200.00"), 2)


def test_unmonetised_measures_count_in_units_with_no_pounds(session, make_user, make_need, officer):
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group, category="skills-and-jobs")
    made = pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "quantity": 6, "measure": "work-placement-weeks"}
    )
    pledges.accept_pledge(session, group, made.id)
    pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    assert made.value == Decimal("0.00") and made.proxy_value is None


def test_contact_details_reach_the_supplier_only_after_acceptance(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    assert pledges.group_contacts(session, supplier, made) is None
    pledges.accept_pledge(session, group, made.id)
    contacts = pledges.group_contacts(session, supplier, made)
    assert contacts and contacts[0].email == group.email


def test_each_step_is_audited_and_the_right_people_are_emailed(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    pledges.accept_pledge(session, group, made.id)
    pledges.approve_pledge(session, officer, made.id, "2099-01-31")
    session.flush()
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == str(made.id))).all()
    assert actions == ["pledge.propose", "pledge.accept", "pledge.approve"]
    entry = session.scalar(
        select(AuditEntry).where(AuditEntry.action == "pledge.approve", AuditEntry.entity_id == str(made.id))
    )
    assert entry.before["status"] == "accepted" and entry.after["status"] == "approved" and entry.actor_id == officer.id
    mail = [(n.to_email, n.subject) for n in session.scalars(select(Notification))]
    assert (group.email, f"New pledge for “{need.title}”") in mail
    assert (officer.email, f"Pledge waiting for approval: {supplier.organisation.name}") in mail
    assert (supplier.email, f"Pledge approved: “{need.title}”") in mail


def test_pledges_are_visible_only_to_those_involved(session, cast, make_user):
    group, supplier, need, offer, officer = cast
    made = pledge(session, supplier, need)
    for viewer in (group, supplier, officer):
        assert pledges.get_pledge(session, viewer, made.id) is made
    for stranger in (make_user("supplier"), make_user("community")):
        with pytest.raises(NotFound):
            pledges.get_pledge(session, stranger, made.id)
        assert pledges.list_pledges(session, stranger, pledges.PledgeFilters()).total == 0


def test_officer_records_a_pledge_for_a_supplier(session, cast):
    group, supplier, need, offer, officer = cast
    made = pledges.propose_pledge(session, officer, {
        "need_id": need.id, "quantity": 4, "measure": "volunteering-hours", "supplier_id": supplier.organisation_id})  # fmt: skip
    assert made.assisted and made.supplier_id == supplier.organisation_id and made.created_by_id == officer.id
