"""Delivery you can prove, in the services: approved means fixed, evidence is checked before
anything counts, reports say committed / reported delivered / confirmed / overdue and add
up, and late or stuck pledges are chased."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.models import AuditEntry, Notification, PledgeStatus
from marketplace.services import chasing, pledges
from marketplace.services.errors import InvalidTransition
from marketplace.services.measures import measure_fits
from marketplace.services.reports import GROUPS, social_value_report
from tests.services.test_reports import make_contract


@pytest.fixture
def cast(make_user, make_need, officer):
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group, category="volunteering", title="Volunteers for the hall")
    return group, supplier, need, officer


def approved(session, cast, quantity=16, deliver_by="2099-06-30"):
    group, supplier, need, officer = cast
    made = pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "measure": "volunteering-hours", "quantity": quantity}
    )
    pledges.accept_pledge(session, group, made.id)
    return pledges.approve_pledge(session, officer, made.id, deliver_by)


def test_a_delivery_above_the_approved_quantity_changes_nothing_until_an_officer_approves(session, cast):
    group, supplier, need, officer = cast
    made = approved(session, cast)
    assert (made.quantity, made.value, made.committed_value) == (Decimal(16), Decimal("270.88"), Decimal("270.88"))
    pledges.deliver_pledge(session, supplier, made.id, "Sixteen hours", 16000, True)
    assert (made.quantity, made.value, made.pending_quantity) == (Decimal(16), Decimal("270.88"), Decimal(16000))
    with pytest.raises(InvalidTransition, match="not accepted the evidence"):
        pledges.confirm_pledge(session, group, made.id)
    pledges.accept_evidence(session, officer, made.id, True)
    assert (made.quantity, made.value, made.committed_value) == (Decimal(16000), Decimal("270880.00"), made.value)
    assert "change from 16 to 16000 approved" in made.history[-1].note


def test_two_officers_reviewing_at_once_one_wins_and_the_other_is_told(session, cast, make_user):
    group, supplier, need, officer = cast
    made = approved(session, cast)
    pledges.deliver_pledge(session, supplier, made.id, "Sixteen hours", None, True)
    pledges.accept_evidence(session, officer, made.id)
    with pytest.raises(InvalidTransition, match="already been accepted"):
        pledges.request_evidence(session, officer, made.id, "Add photos")
    assert made.evidence_review == "accepted"


def test_the_group_asked_to_confirm_a_delivery_gets_the_link_to_the_pledge(session, cast):
    group, supplier, need, officer = cast
    made = approved(session, cast)
    pledges.deliver_pledge(session, supplier, made.id, "Sixteen hours", None, True)
    before = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0

    pledges.accept_evidence(session, officer, made.id)

    asked = session.scalars(
        select(Notification).where(Notification.id > before, Notification.subject.startswith("Please confirm delivery"))
    ).all()
    assert [n.to_email for n in asked] == [group.email]
    # A volunteer reading it on a phone goes straight to the pledge to confirm it.
    assert f"Open the pledge:\n{pledges.pledge_link(session, made)}\n" in asked[0].body
    assert pledges.pledge_link(session, made).startswith("http")


def test_every_review_step_is_in_the_history_and_the_audit_log(session, cast):
    group, supplier, need, officer = cast
    made = approved(session, cast)
    pledges.deliver_pledge(session, supplier, made.id, "Sixteen hours", None, True)
    pledges.request_evidence(session, officer, made.id, "Add the sign-in sheet")
    pledges.deliver_pledge(session, supplier, made.id, "Sixteen hours; sheet attached", None, True)
    pledges.dispute_pledge(session, group, made.id, "Only two people came")
    pledges.accept_evidence(session, officer, made.id)
    pledges.confirm_pledge(session, group, made.id, True)
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "pledge", AuditEntry.entity_id == str(made.id))
    ).all()
    assert actions[-6:] == [
        "pledge.deliver", "pledge.request-evidence", "pledge.deliver", "pledge.dispute", "pledge.accept-evidence",
        "pledge.confirm",
    ]  # fmt: skip
    assert need.status.value == "met"


def test_the_measure_must_fit_the_need():
    assert not measure_fits("expertise", "premises-provided")  # first aid training as market rent
    assert measure_fits("expertise", "expert-hours")
    assert measure_fits("premises", "premises-provided")
    assert measure_fits("a-council-own-category", "premises-provided")  # unknown: no opinion


def test_overdue_and_stuck_pledges_are_listed_and_chased_once_a_week(session, cast, make_need, today):
    group, supplier, need, officer = cast
    late = approved(session, cast)
    late.deliver_by = today - timedelta(days=9)
    soon = approved(session, cast)
    soon.deliver_by = today + timedelta(days=3)
    stuck = approved(session, cast)
    pledges.deliver_pledge(session, supplier, stuck.id, "All done", None, True)
    stuck.delivered_at = utcnow() - timedelta(days=20)
    asked = pledges.propose_pledge(session, supplier, {"need_id": need.id, "measure": "volunteering-hours",
                                                       "quantity": 1})  # fmt: skip
    asked.created_at = utcnow() - timedelta(days=15)
    session.flush()

    lists = chasing.delivery_chasing(session, officer, today)
    assert [(c.pledge.id, c.days, c.waiting_for) for c in lists.overdue] == [(late.id, 9, "supplier")]
    assert [(c.pledge.id, c.waiting_for) for c in lists.unconfirmed] == [(stuck.id, "council")]
    assert [(c.pledge.id, c.waiting_for) for c in lists.unanswered] == [(asked.id, "group")]

    before = session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1)) or 0
    run = chasing.send_due_reminders(session, today)
    assert (run.due_soon, run.overdue) == (1, 1)
    subjects = session.scalars(select(Notification.subject).where(Notification.id > before)).all()
    assert any(s.startswith("Overdue: your pledge") for s in subjects)
    assert any(s.startswith("Due soon: your pledge") for s in subjects)
    assert chasing.send_due_reminders(session, today) == chasing.ReminderRun(0, 0)  # not again the same week

    pledge, who = chasing.remind(session, officer, asked.id, today)
    assert who == "group" and pledge.history[-1].note == "reminder sent to the group"


# A pledge's life: how far it goes, a partial or inflated delivery, and whether it is overdue.
lives = st.lists(
    st.tuples(
        st.sampled_from(["approved", "overdue", "delivered", "checked", "confirmed", "cancelled", "proposed"]),
        st.integers(min_value=1, max_value=40),  # quantity
        st.sampled_from([None, "less", "more"]),  # what the supplier reports
        st.sampled_from(["volunteering-hours", "expert-hours", "work-placement-weeks"]),
        st.booleans(),  # against a contract
        st.booleans(),  # the officer approves a reported increase
    ),
    min_size=1,
    max_size=7,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lives=lives)
def test_committed_reported_confirmed_and_overdue_always_add_up(session, make_user, make_need, officer, today,
                                                                 lives):  # fmt: skip
    savepoint = session.begin_nested()
    try:
        group, supplier = make_user("community"), make_user("supplier")
        contract = make_contract(session, officer, supplier, f"DLV-{supplier.organisation_id}")
        need = make_need(by=group, category="volunteering", outcomes=["strong-economy", "great-communities"])
        for number, (stage, quantity, report, measure, with_contract, approve_change) in enumerate(lives):
            # Each its own message: the same pending pledge twice is refused.
            data = {"need_id": need.id, "measure": measure, "quantity": quantity, "message": f"Pledge {number}"}
            if with_contract:
                data["contract_id"] = contract.id
            made = pledges.propose_pledge(session, supplier, data)
            if stage == "proposed":
                continue
            pledges.accept_pledge(session, group, made.id)
            pledges.approve_pledge(session, officer, made.id, "2099-01-01")
            if stage == "overdue":
                made.deliver_by = today - timedelta(days=1)
            if stage == "cancelled":
                pledges.cancel_pledge(session, supplier, made.id)
            if stage in ("delivered", "checked", "confirmed"):
                actual = {None: None, "less": max(1, quantity // 2), "more": quantity + 5}[report]
                pledges.deliver_pledge(session, supplier, made.id, "Delivered as promised", actual, True)
            if stage in ("checked", "confirmed"):
                pledges.accept_evidence(session, officer, made.id, approve_change if report == "more" else None)
            if stage == "confirmed":
                pledges.confirm_pledge(session, group, made.id, False)
        session.flush()

        for group_by in GROUPS:
            report = social_value_report(session, officer, group_by)
            for word in ("committed", "reported", "delivered", "overdue"):
                assert sum((getattr(r, word) for r in report.rows), Decimal(0)) == getattr(report, word), word
            for item in (report, *report.rows):
                assert item.delivered <= item.reported <= item.committed
                assert item.overdue <= item.committed - item.reported
                if item.committed > 0:
                    assert item.delivery_rate == (item.delivered / item.committed).quantize(Decimal("0.0001"))
            for amounts in report.units.values():
                assert amounts.delivered <= amounts.reported <= amounts.committed
        confirmed = [p for p in session.scalars(select(pledges.Pledge)) if p.status is PledgeStatus.CONFIRMED]
        assert report.delivered == sum((p.value for p in confirmed), Decimal(0))
    finally:
        savepoint.rollback()
        # Objects loaded before the savepoint may still point at rolled-back rows: forget them.
        session.expire_all()


def test_closing_an_account_keeps_its_organisations_evidence(session, cast, tmp_path):
    from marketplace.services import evidence
    from marketplace.services.personal_data import close_account
    from tests.conftest import PASSWORD
    from tests.evidence_files import plain_pdf

    group, supplier, need, officer = cast
    made = approved(session, cast)
    item = evidence.add_evidence(session, supplier, made.id, evidence.Upload("sheet.pdf", plain_pdf()), tmp_path)
    close_account(session, supplier, PASSWORD)
    session.flush()
    assert [f.id for f in evidence.list_evidence(session, officer, made.id)] == [item.id]
    assert evidence.evidence_bytes(item, tmp_path) == plain_pdf()
    assert item.uploaded_by.name != "Test supplier"  # the person is erased, the file is not
