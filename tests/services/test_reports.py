"""Social value reports and the impact figures: sums, grouping, filters, splitting and who may see them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from marketplace.models import NeedStatus, Pledge, PledgeStatus
from marketplace.models.pledge import COMMITTED, DELIVERED
from marketplace.services import contracts, pledges
from marketplace.services.errors import Forbidden, NotSignedIn, ValidationFailed
from marketplace.services.reports import (
    GROUPS,
    contracts_behind_target,
    delivered_pledges,
    impact_csv,
    impact_summary,
    report_csv,
    social_value_report,
    split_evenly,
)

# Each pledge its own message: the same pending pledge twice is refused.
_PLEDGE_NUMBER = count(1)

# The path from proposal to each status, and who takes each step.
PATH = {
    PledgeStatus.PROPOSED: [],
    PledgeStatus.ACCEPTED: ["accept"],
    PledgeStatus.DECLINED: ["decline"],
    PledgeStatus.APPROVED: ["accept", "approve"],
    PledgeStatus.REJECTED: ["accept", "reject"],
    PledgeStatus.DELIVERED: ["accept", "approve", "deliver"],
    PledgeStatus.CONFIRMED: ["accept", "approve", "deliver", "confirm"],
}


def step(session, action, pledge_id, *, group, supplier, officer):
    """Take one lifecycle step through the real service, as the person allowed to."""
    if action == "accept":
        return pledges.accept_pledge(session, group, pledge_id)
    if action == "decline":
        return pledges.decline_pledge(session, group, pledge_id, "not needed")
    if action == "approve":
        return pledges.approve_pledge(session, officer, pledge_id, "2099-01-31")
    if action == "reject":
        return pledges.reject_pledge(session, officer, pledge_id, "not social value")
    if action == "deliver":
        return pledges.deliver_pledge(session, supplier, pledge_id, "Delivered as promised", declaration=True)
    if action == "confirm":
        pledges.accept_evidence(session, officer, pledge_id)
        return pledges.confirm_pledge(session, group, pledge_id)
    if action == "cancel":
        return pledges.cancel_pledge(session, supplier, pledge_id, "changed plans")
    raise AssertionError(action)


def pledge_to(session, status, *, need, group, supplier, officer, measure="volunteering-hours", quantity=10,
              contract=None, approved_at=None):  # fmt: skip
    """A pledge driven through the services to ``status`` (``approved_at`` back-dates the approval)."""
    data = {"need_id": need.id, "measure": measure, "quantity": quantity, "message": f"Pledge {next(_PLEDGE_NUMBER)}"}
    if contract is not None:
        data["contract_id"] = contract.id
    pledge = pledges.propose_pledge(session, supplier, data)
    for action in PATH[status]:
        step(session, action, pledge.id, group=group, supplier=supplier, officer=officer)
    if approved_at is not None:
        pledge.approved_at = approved_at
        session.flush()
    return pledge


def make_contract(session, officer, supplier, reference, target=None):
    """A contract held by the supplier's organisation."""
    return contracts.create_contract(
        session,
        officer,
        {
            "reference": reference,
            "title": f"Contract {reference}",
            "supplier_id": supplier.organisation_id,
            "value": "250000",
            "start_date": "2026-01-01",
            "end_date": "2028-12-31",
            "social_value_target": target,
        },
    )


@pytest.fixture
def people(make_user, officer):
    """A community group member, two suppliers and an officer."""
    return {
        "group": make_user("community"),
        "supplier": make_user("supplier", organisation="Acme Builders"),
        "other": make_user("supplier", organisation="Brick and Co"),
        "officer": officer,
    }


def test_split_evenly_adds_up_to_the_penny():
    assert split_evenly(Decimal("10.00"), 3) == [Decimal("3.34"), Decimal("3.33"), Decimal("3.33")]
    assert split_evenly(Decimal("0.01"), 2) == [Decimal("0.01"), Decimal("0.00")]
    assert sum(split_evenly(Decimal("1234.57"), 5)) == Decimal("1234.57")


def test_committed_and_delivered_by_contract(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group)
    first = make_contract(session, officer, supplier, "LCC-0001", "1000")
    second = make_contract(session, officer, supplier, "LCC-0002")
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.APPROVED, contract=first, quantity=10, **kw)  # £169.30 committed
    pledge_to(session, PledgeStatus.CONFIRMED, contract=first, quantity=2, measure="expert-hours", **kw)  # £202
    pledge_to(session, PledgeStatus.DELIVERED, contract=second, quantity=100, measure="funding-donated", **kw)
    pledge_to(session, PledgeStatus.CONFIRMED, quantity=5, measure="goods-donated", **kw)  # no contract
    # Neither proposed, accepted, rejected, declined nor cancelled pledges count.
    pledge_to(session, PledgeStatus.ACCEPTED, contract=first, quantity=1000, **kw)
    pledge_to(session, PledgeStatus.REJECTED, contract=first, quantity=1000, **kw)
    cancelled = pledge_to(session, PledgeStatus.APPROVED, contract=first, quantity=1000, **kw)
    step(session, "cancel", cancelled.id, **{k: people[k] for k in ("group", "supplier", "officer")})

    report = social_value_report(session, officer, "contract")

    assert [(r.key, r.label) for r in report.rows] == [
        (first.id, "LCC-0001: Contract LCC-0001"),
        (second.id, "LCC-0002: Contract LCC-0002"),
        (None, "No contract"),
    ]
    by_key = {r.key: r for r in report.rows}
    assert by_key[first.id].committed == Decimal("371.30")
    assert by_key[first.id].delivered == Decimal("202.00")
    assert by_key[first.id].pledges == 2
    assert by_key[first.id].units["volunteering-hours"].committed == Decimal("10")
    assert by_key[first.id].units["volunteering-hours"].delivered == Decimal("0")
    assert by_key[first.id].units["expert-hours"].delivered == Decimal("2")
    assert (by_key[second.id].committed, by_key[second.id].delivered) == (Decimal("100.00"), Decimal("0.00"))
    assert (by_key[None].committed, by_key[None].delivered) == (Decimal("5.00"), Decimal("5.00"))
    assert report.committed == Decimal("476.30")
    assert report.delivered == Decimal("207.00")
    assert report.pledges == 4


def test_unmonetised_measures_count_in_units_only(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group)
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.CONFIRMED, measure="work-placement-weeks", quantity=6, **kw)

    report = social_value_report(session, officer, "supplier")

    (row,) = report.rows
    assert (row.label, row.committed, row.delivered) == ("Acme Builders", Decimal("0.00"), Decimal("0.00"))
    assert row.units["work-placement-weeks"].committed == Decimal("6")
    assert row.units["work-placement-weeks"].delivered == Decimal("6")
    assert report.measures["work-placement-weeks"].monetised is False
    assert report.units["work-placement-weeks"].delivered == Decimal("6")


def test_a_pledge_serving_several_outcomes_is_split_not_double_counted(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group, outcomes=["strong-economy", "great-communities", "keeping-people-safe"])
    kw = {"group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.CONFIRMED, need=need, measure="funding-donated", quantity=10, **kw)
    bare = make_need(by=group, title="A need whose outcomes were removed")
    pledge_to(session, PledgeStatus.APPROVED, need=bare, measure="funding-donated", quantity=1, **kw)
    bare.outcomes = []
    session.flush()

    report = social_value_report(session, officer, "outcome")

    assert [(r.key, r.committed, r.delivered, r.pledges) for r in report.rows] == [
        ("strong-economy", Decimal("3.34"), Decimal("3.34"), 1),
        ("keeping-people-safe", Decimal("3.33"), Decimal("3.33"), 1),
        ("great-communities", Decimal("3.33"), Decimal("3.33"), 1),
        (None, Decimal("1.00"), Decimal("0.00"), 1),
    ]
    assert report.rows[-1].label == "No outcome"
    assert sum(r.units["funding-donated"].committed for r in report.rows) == Decimal("11")
    assert report.committed == Decimal("11.00")
    assert report.delivered == Decimal("10.00")
    assert report.pledges == 2
    assert report.split_between_outcomes


def test_by_district_and_by_month_with_inclusive_date_filters(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    kw = {"group": group, "supplier": supplier, "officer": officer, "measure": "funding-donated"}
    melton = make_need(by=group, district="Melton", title="Minibus for the Melton lunch club")
    blaby = make_need(by=group, district="Blaby", title="Laptops for the Blaby homework club")
    # Approved early on 1 March, and at 23:30 UTC on 31 March (already 1 April in the UK), and on 2 April.
    pledge_to(
        session,
        PledgeStatus.APPROVED,
        need=melton,
        quantity=100,
        approved_at=datetime(2026, 3, 1, 0, 30, tzinfo=UTC),
        **kw,
    )
    pledge_to(session, PledgeStatus.CONFIRMED, need=blaby, quantity=40,
              approved_at=datetime(2026, 3, 31, 23, 30, tzinfo=UTC), **kw)  # fmt: skip
    pledge_to(
        session, PledgeStatus.APPROVED, need=blaby, quantity=7, approved_at=datetime(2026, 4, 2, tzinfo=UTC), **kw
    )

    by_district = social_value_report(session, officer, "district")
    assert [(r.label, r.committed, r.delivered) for r in by_district.rows] == [
        ("Blaby", Decimal("47.00"), Decimal("40.00")),
        ("Melton", Decimal("100.00"), Decimal("0.00")),
    ]

    march = social_value_report(session, officer, "month", "2026-03-01", "2026-03-31")
    assert [(r.key, r.label, r.committed) for r in march.rows] == [("2026-03", "March 2026", Decimal("100.00"))]
    assert march.committed == Decimal("100.00")

    # 23:30 UTC on 31 March is already 1 April in the UK (summer time): dates are council days.
    april = social_value_report(session, officer, "month", date(2026, 4, 1), None)
    assert [(r.key, r.committed) for r in april.rows] == [("2026-04", Decimal("47.00"))]
    before = social_value_report(session, officer, "month", None, "2026-02-28")
    assert before.rows == [] and before.committed == Decimal("0.00")


@pytest.mark.parametrize(
    ("group_by", "date_from", "date_to", "field"),
    [
        ("colour", None, None, "group_by"),
        ("contract", "31/03/2026", None, "from"),
        ("contract", "2026-02-30", None, "from"),
        ("contract", None, "soon", "to"),
        ("contract", "2026-04-01", "2026-03-01", "to"),
    ],
)
def test_bad_grouping_or_dates_are_named(session, officer, group_by, date_from, date_to, field):
    with pytest.raises(ValidationFailed) as raised:
        social_value_report(session, officer, group_by, date_from, date_to)
    assert field in raised.value.fields


def test_only_officers_see_reports(session, make_user):
    with pytest.raises(NotSignedIn):
        social_value_report(session, None, "contract")
    for role in ("supplier", "community"):
        with pytest.raises(Forbidden):
            social_value_report(session, make_user(role), "contract")
        with pytest.raises(Forbidden):
            contracts_behind_target(session, make_user(role))


def test_contracts_behind_target(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group)
    behind = make_contract(session, officer, supplier, "LCC-BEHIND", "500")
    met = make_contract(session, officer, supplier, "LCC-MET", "100")
    make_contract(session, officer, supplier, "LCC-NO-TARGET")
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer, "measure": "funding-donated"}
    pledge_to(session, PledgeStatus.CONFIRMED, contract=behind, quantity=200, **kw)
    pledge_to(session, PledgeStatus.APPROVED, contract=met, quantity=100, **kw)

    standings = contracts_behind_target(session, officer)

    assert [s.contract.reference for s in standings] == ["LCC-BEHIND"]
    assert standings[0].shortfall == Decimal("300.00")
    assert standings[0].progress.delivered == Decimal("200.00")


def test_report_csv_has_units_columns_per_measure(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group)
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.CONFIRMED, quantity=3, **kw)
    lines = report_csv(social_value_report(session, officer, "supplier")).splitlines()
    assert lines[0] == (
        "key,label,committed,delivered,pledges,reported_delivered,overdue,delivery_rate,"
        "committed_units:volunteering-hours,delivered_units:volunteering-hours,"
        "reported_units:volunteering-hours,overdue_units:volunteering-hours"
    )
    assert lines[1] == f"{supplier.organisation_id},Acme Builders,50.79,50.79,1,50.79,0.00,1.0000,3.00,3.00,3.00,0.00"


def test_impact_counts_confirmed_pledges_only_and_names_no_people(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group, district="Harborough", outcomes=["great-communities", "strong-economy"])
    kw = {"need": need, "group": group, "supplier": supplier, "officer": officer}
    pledge_to(session, PledgeStatus.CONFIRMED, quantity=10, **kw)  # £169.30
    pledge_to(session, PledgeStatus.CONFIRMED, measure="carbon-saved", quantity=2.5, **kw)
    pledge_to(session, PledgeStatus.DELIVERED, measure="funding-donated", quantity=999, **kw)
    pledge_to(session, PledgeStatus.APPROVED, measure="funding-donated", quantity=999, **kw)

    impact = impact_summary(session)

    assert impact.delivered == Decimal("169.30")
    assert impact.pledges == 2
    assert impact.units == {"carbon-saved": Decimal("2.50"), "volunteering-hours": Decimal("10.00")}
    assert [(r.label, r.delivered) for r in impact.by_district] == [("Harborough", Decimal("169.30"))]
    assert sum(r.delivered for r in impact.by_outcome) == Decimal("169.30")
    assert [p.measure.code for p in impact.recent] == ["carbon-saved", "volunteering-hours"]
    assert impact.recent[0].supplier == "Acme Builders"
    assert impact.recent[0].group == group.organisation.name
    assert impact.last_confirmed_at is not None
    data = impact_csv(delivered_pledges(session))
    for person in (group, supplier, officer):
        assert person.email not in data
        assert (person.name or "@") not in data
    assert "@" not in data


def test_impact_hides_needs_the_public_cannot_see(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group, title="Support for a private family matter")
    pledge_to(session, PledgeStatus.CONFIRMED, need=need, group=group, supplier=supplier, officer=officer)
    need.status = NeedStatus.WITHDRAWN
    session.flush()
    (row,) = delivered_pledges(session)
    assert row.need_title == "A community need"
    assert row.group == "A community group"
    assert impact_summary(session).pledges == 1


def test_csv_cells_cannot_become_spreadsheet_formulas(session, make_need, make_user, officer):
    group = make_user("community")
    supplier = make_user("supplier", organisation='=HYPERLINK("http://evil")')
    need = make_need(by=group)
    pledge_to(session, PledgeStatus.CONFIRMED, need=need, group=group, supplier=supplier, officer=officer)
    assert "'=HYPERLINK" in impact_csv(delivered_pledges(session))
    assert "'=HYPERLINK" in report_csv(social_value_report(session, officer, "supplier"))


# --- property: whatever happens to pledges, the reports add up -----------------------------------

MEASURES = ["volunteering-hours", "expert-hours", "funding-donated", "work-placement-weeks", "carbon-saved"]
ACTIONS = ["accept", "decline", "approve", "reject", "deliver", "confirm", "cancel"]

# Purely random steps rarely get far, so mostly head for a status first (confirmed more often), then wander.
headed = st.tuples(
    st.sampled_from([*PATH, PledgeStatus.CONFIRMED, PledgeStatus.CONFIRMED]),
    st.lists(st.sampled_from(ACTIONS), max_size=2),
).map(lambda pair: PATH[pair[0]] + pair[1])
actions = st.one_of(st.lists(st.sampled_from(ACTIONS), max_size=6), headed, headed)
lifecycles = st.lists(
    st.tuples(
        st.integers(0, 2),  # which need
        st.integers(0, 1),  # which supplier
        st.sampled_from(MEASURES),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2),
        actions,
        st.booleans(),  # against the supplier's contract
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lifecycles=lifecycles)
def test_reports_always_add_up(session, make_need, make_user, officer, lifecycles):
    savepoint = session.begin_nested()
    try:
        group = make_user("community")
        suppliers = [make_user("supplier"), make_user("supplier")]
        own = [make_contract(session, officer, s, f"PROP-{s.organisation_id}") for s in suppliers]
        needs = [
            make_need(by=group, district="Melton", outcomes=["strong-economy"]),
            make_need(by=group, district="Blaby", outcomes=["great-communities", "keeping-people-safe"]),
            make_need(by=group, district="County-wide", outcomes=["strong-economy", "great-communities",
                                                                  "wellbeing-and-opportunity"]),
        ]  # fmt: skip
        made = []
        for need_index, supplier_index, measure, quantity, actions, with_contract in lifecycles:
            supplier = suppliers[supplier_index]
            data = {"need_id": needs[need_index].id, "measure": measure, "quantity": str(quantity),
                    "message": f"Pledge {next(_PLEDGE_NUMBER)}"}  # fmt: skip
            if with_contract:
                data["contract_id"] = own[supplier_index].id
            pledge = pledges.propose_pledge(session, supplier, data)
            made.append(pledge.id)
            for action in actions:
                try:
                    step(session, action, pledge.id, group=group, supplier=supplier, officer=officer)
                except Exception as error:  # refused steps are part of a random life
                    assert error.__class__.__name__ == "InvalidTransition", error
        mine = [session.get(Pledge, i) for i in made]
        committed = sum((p.value for p in mine if p.status in COMMITTED), Decimal(0))
        delivered = sum((p.value for p in mine if p.status in DELIVERED), Decimal(0))
        units: dict[str, Decimal] = {}
        for p in mine:
            if p.status in COMMITTED:
                units[p.measure_code] = units.get(p.measure_code, Decimal(0)) + p.quantity

        for group_by in GROUPS:
            report = social_value_report(session, officer, group_by)
            # Pledges from earlier tests are rolled back, so the report sees only these.
            assert report.committed == committed, group_by
            assert report.delivered == delivered, group_by
            assert sum((r.committed for r in report.rows), Decimal(0)) == report.committed, group_by
            assert sum((r.delivered for r in report.rows), Decimal(0)) == report.delivered, group_by
            for code, amount in units.items():
                assert sum((r.units[code].committed for r in report.rows if code in r.units), Decimal(0)) == amount
                assert report.units[code].committed == amount
            if group_by != "outcome":
                assert sum(r.pledges for r in report.rows) == report.pledges

        event(f"committed pledges: {sum(p.status in COMMITTED for p in mine) > 0}")
        event(f"confirmed pledges: {sum(p.status in DELIVERED for p in mine) > 0}")
        impact = impact_summary(session)
        assert impact.delivered == delivered
        assert sum((r.delivered for r in impact.by_outcome), Decimal(0)) == delivered
        assert sum((r.delivered for r in impact.by_district), Decimal(0)) == delivered
        assert sum((p.value for p in delivered_pledges(session)), Decimal(0)) == delivered
    finally:
        savepoint.rollback()
        # Objects loaded before the savepoint may still point at rolled-back rows: forget them.
        session.expire_all()


def test_recent_approvals_fall_in_todays_month(session, make_need, people):
    group, supplier, officer = people["group"], people["supplier"], people["officer"]
    need = make_need(by=group)
    pledge_to(session, PledgeStatus.APPROVED, need=need, group=group, supplier=supplier, officer=officer)
    today = datetime.now(UTC)
    report = social_value_report(session, officer, "month", (today - timedelta(days=2)).date(), None)
    assert report.pledges == 1
