"""Social value reports for officers, and the public impact figures.

The words are fixed: *committed* is what an officer approved (pledges approved, delivered
or confirmed, at their approved quantity and value); *reported delivered* is what suppliers
say they delivered (delivered or confirmed pledges, at the delivered quantity); *confirmed*
(delivered social value) is evidence accepted and the group's confirmation; *overdue* is
committed value still only approved after its deliver-by date. The delivery rate is
confirmed £ over committed £. Each pledge's £ value was fixed at approval, so a report never
re-prices anything (a partial delivery lowers the delivered value, never the committed); units are
always reported beside £, because a £ proxy undervalues much community benefit and some
measures have no proxy at all (their £ value is 0 and they count in units only).

A pledge serving several outcomes is split equally between them, to the penny, so that
the outcome rows add up to the totals instead of counting the pledge once per outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.clock import COUNCIL_ZONE, council_today
from marketplace.models import (
    Contract,
    District,
    Measure,
    Need,
    Organisation,
    Outcome,
    Pledge,
    PledgeStatus,
    Role,
    User,
)
from marketplace.models.need import need_outcome
from marketplace.models.pledge import COMMITTED, DELIVERED, REPORTED
from marketplace.services.accounts import require_role
from marketplace.services.contracts import ContractProgress, delivery_rate, progress
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import is_visible, organisation_name
from marketplace.spreadsheets import write_csv
from marketplace.validation import Code, FieldErrors, parse_date

GROUPS = ("contract", "supplier", "outcome", "district", "month")
GROUP_LABELS = {
    "contract": "Contract",
    "supplier": "Supplier",
    "outcome": "Outcome",
    "district": "District",
    "month": "Month approved",
}
NO_CONTRACT = "No contract"
NO_OUTCOME = "No outcome"
PENNY = Decimal("0.01")
ZERO = Decimal("0.00")

Key = int | str | None


@dataclass(frozen=True)
class MeasureInfo:
    """A measure as a report names it."""

    code: str
    name: str
    unit: str
    monetised: bool


@dataclass
class UnitAmounts:
    """Units of one measure committed, reported delivered, confirmed delivered and overdue."""

    committed: Decimal = ZERO
    delivered: Decimal = ZERO
    reported: Decimal = ZERO
    overdue: Decimal = ZERO


@dataclass(frozen=True)
class ReportRow:
    """One group in a report: £ and units committed and delivered, and how many pledges."""

    key: Key
    label: str
    committed: Decimal
    delivered: Decimal
    pledges: int
    units: dict[str, UnitAmounts]
    reported: Decimal = ZERO
    overdue: Decimal = ZERO

    @property
    def delivery_rate(self) -> Decimal | None:
        """Confirmed £ over committed £."""
        return delivery_rate(self.delivered, self.committed)


@dataclass(frozen=True)
class Report:
    """Committed and delivered social value grouped one way, with independently summed totals."""

    group_by: str
    date_from: date | None
    date_to: date | None
    rows: list[ReportRow]
    committed: Decimal
    delivered: Decimal
    pledges: int
    units: dict[str, UnitAmounts]
    measures: dict[str, MeasureInfo]
    reported: Decimal = ZERO
    overdue: Decimal = ZERO

    @property
    def delivery_rate(self) -> Decimal | None:
        """Confirmed £ over committed £, over all rows."""
        return delivery_rate(self.delivered, self.committed)

    @property
    def split_between_outcomes(self) -> bool:
        """True when pledges serving several outcomes were split between their rows."""
        return self.group_by == "outcome"


@dataclass(frozen=True)
class ContractStanding:
    """A contract with its social value progress."""

    contract: Contract
    progress: ContractProgress

    @property
    def shortfall(self) -> Decimal:
        """£ still to be committed to reach the target."""
        target = self.progress.target or ZERO
        return max(ZERO, target - self.progress.committed)


@dataclass(frozen=True)
class DeliveredPledge:
    """A confirmed pledge as the public sees it: organisations and what was given, no people."""

    id: int
    confirmed_on: date | None
    supplier: str
    group: str
    need_title: str
    district: str
    outcomes: tuple[str, ...]
    measure: MeasureInfo
    quantity: Decimal
    value: Decimal


@dataclass(frozen=True)
class Impact:
    """Social value delivered (confirmed pledges only), for everyone to see."""

    delivered: Decimal
    pledges: int
    units: dict[str, Decimal]
    measures: dict[str, MeasureInfo]
    by_outcome: list[ReportRow]
    by_district: list[ReportRow]
    recent: list[DeliveredPledge]
    last_confirmed_at: datetime | None


@dataclass
class _Fact:
    """The columns of one pledge a report needs."""

    id: int
    status: PledgeStatus
    value: Decimal
    quantity: Decimal
    measure_code: str
    contract_id: int | None
    supplier_id: int
    need_id: int
    district_code: str
    approved_at: datetime | None
    committed_value: Decimal = ZERO
    committed_quantity: Decimal = ZERO
    overdue: bool = False
    outcomes: list[str] = field(default_factory=list)

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED

    @property
    def reported(self) -> bool:
        return self.status in REPORTED


def check_period(date_from: object, date_to: object) -> tuple[date | None, date | None]:
    """Both ends of a report's period, every problem reported at once.

    Raises:
        ValidationFailed: for a malformed date (``from``/``to``) or a period ending before it starts.
    """
    errors = FieldErrors()
    start = parse_date(date_from, "from", "the start date", errors)
    end = parse_date(date_to, "to", "the end date", errors)
    if start and end and end < start:
        errors.add("to", Code.OUT_OF_RANGE, "The end date must be the same as or after the start date")
    errors.raise_if_any()
    return start, end


def _start_of(day: date) -> datetime:
    # Periods are council days: midnight in the UK, whatever the server's zone.
    return datetime.combine(day, time(0), COUNCIL_ZONE)


def split_evenly(amount: Decimal, parts: int) -> list[Decimal]:
    """Split an amount in pence into ``parts`` shares that add up to it exactly.

    The first shares take the odd pennies: £10 in three is £3.34, £3.33, £3.33.
    """
    pennies = int((amount / PENNY).to_integral_value())
    base, extra = divmod(pennies, parts)
    return [Decimal(base + (1 if i < extra else 0)) * PENNY for i in range(parts)]


def _facts(
    session: Session, statuses: Iterable[PledgeStatus], start: date | None = None, end: date | None = None
) -> list[_Fact]:
    query = (
        select(
            Pledge.id,
            Pledge.status,
            Pledge.value,
            Pledge.quantity,
            Pledge.measure_code,
            Pledge.contract_id,
            Pledge.supplier_id,
            Pledge.need_id,
            Need.district_code,
            Pledge.approved_at,
            Pledge.committed_value,
            Pledge.committed_quantity,
            Pledge.deliver_by,
        )
        .join(Need, Pledge.need_id == Need.id)
        .where(Pledge.status.in_(tuple(statuses)))
    )
    if start is not None:
        query = query.where(Pledge.approved_at >= _start_of(start))
    if end is not None and end < date.max:  # the last day there is has no day after it
        query = query.where(Pledge.approved_at < _start_of(end + timedelta(days=1)))
    today = council_today()
    facts = [
        _Fact(
            id=row.id,
            status=row.status,
            value=Decimal(row.value or 0).quantize(PENNY),
            quantity=Decimal(row.quantity).quantize(PENNY),
            measure_code=row.measure_code,
            contract_id=row.contract_id,
            supplier_id=row.supplier_id,
            need_id=row.need_id,
            district_code=row.district_code,
            approved_at=row.approved_at,
            # Pledges approved before committed amounts were kept committed what they still hold.
            committed_value=Decimal(
                row.committed_value if row.committed_value is not None else row.value or 0
            ).quantize(PENNY),
            committed_quantity=Decimal(
                row.committed_quantity if row.committed_quantity is not None else row.quantity
            ).quantize(PENNY),
            overdue=row.status is PledgeStatus.APPROVED and row.deliver_by is not None and row.deliver_by < today,
        )
        for row in session.execute(query.order_by(Pledge.id))
    ]
    if facts:
        need_ids = query.with_only_columns(Pledge.need_id).subquery()
        outcomes: dict[int, list[str]] = {}
        for need_id, code in session.execute(
            select(need_outcome.c.need_id, Outcome.code)
            .join(Outcome, Outcome.code == need_outcome.c.outcome_code)
            .where(need_outcome.c.need_id.in_(select(need_ids.c.need_id)))
            .order_by(need_outcome.c.need_id, Outcome.position, Outcome.code)
        ):
            outcomes.setdefault(need_id, []).append(code)
        for fact in facts:
            fact.outcomes = outcomes.get(fact.need_id, [])
    return facts


def _measures(session: Session, codes: Iterable[str]) -> dict[str, MeasureInfo]:
    wanted = set(codes)
    if not wanted:
        return {}
    found = session.scalars(select(Measure).where(Measure.code.in_(wanted)).order_by(Measure.name, Measure.code))
    return {m.code: MeasureInfo(m.code, m.name, m.unit, m.proxy_value is not None) for m in found}


@dataclass(frozen=True)
class _Share:
    """The part of one pledge that counts under one group key."""

    key: Key
    committed: Decimal
    committed_quantity: Decimal
    value: Decimal
    quantity: Decimal


def _shares(fact: _Fact, group_by: str) -> list[_Share]:
    """The group keys a pledge counts under, with its £ and quantities for each."""
    if group_by == "outcome":
        keys: list[Key] = list(fact.outcomes) or [None]
    elif group_by == "contract":
        keys = [fact.contract_id]
    elif group_by == "supplier":
        keys = [fact.supplier_id]
    elif group_by == "district":
        keys = [fact.district_code]
    else:
        keys = [fact.approved_at.astimezone(COUNCIL_ZONE).strftime("%Y-%m") if fact.approved_at else None]
    parts = len(keys)
    return [
        _Share(*share)
        for share in zip(
            keys,
            split_evenly(fact.committed_value, parts),
            split_evenly(fact.committed_quantity, parts),
            split_evenly(fact.value, parts),
            split_evenly(fact.quantity, parts),
            strict=True,
        )
    ]


def _labels(session: Session, group_by: str, keys: set[Key]) -> dict[Key, tuple[object, str]]:
    """Each key's sort order and label."""
    present = {k for k in keys if k is not None}
    labels: dict[Key, tuple[object, str]] = {}
    if group_by == "contract":
        labels[None] = ((1, ""), NO_CONTRACT)
        if present:
            for c in session.execute(
                select(Contract.id, Contract.reference, Contract.title).where(Contract.id.in_(present))
            ):
                labels[c.id] = ((0, c.reference.lower()), f"{c.reference}: {c.title}")
    elif group_by == "supplier":
        if present:
            for o in session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(present))):
                labels[o.id] = ((0, o.name.lower()), o.name)
    elif group_by == "outcome":
        labels[None] = ((1, 0), NO_OUTCOME)
        if present:
            for o in session.execute(
                select(Outcome.code, Outcome.name, Outcome.position).where(Outcome.code.in_(present))
            ):
                labels[o.code] = ((0, o.position), o.name)
    elif group_by == "district":
        if present:
            for d in session.execute(
                select(District.code, District.name, District.position).where(District.code.in_(present))
            ):
                labels[d.code] = ((0, d.position), d.name)
    else:
        for key in present:
            month = datetime.strptime(str(key), "%Y-%m")
            labels[key] = ((0, key), f"{month:%B %Y}")
    return labels


def _group(session: Session, facts: list[_Fact], group_by: str) -> list[ReportRow]:
    sums: dict[Key, dict[str, Decimal]] = {}
    counts: dict[Key, int] = {}
    units: dict[Key, dict[str, UnitAmounts]] = {}
    for fact in facts:
        for share in _shares(fact, group_by):
            row = sums.setdefault(share.key, {"committed": ZERO, "delivered": ZERO, "reported": ZERO, "overdue": ZERO})
            counts[share.key] = counts.get(share.key, 0) + 1
            _add(row, units.setdefault(share.key, {}).setdefault(fact.measure_code, UnitAmounts()), fact, share)
    labels = _labels(session, group_by, set(sums))
    rows = [
        ReportRow(
            key=key,
            label=labels.get(key, ((2, str(key)), str(key)))[1],
            committed=amounts["committed"],
            delivered=amounts["delivered"],
            reported=amounts["reported"],
            overdue=amounts["overdue"],
            pledges=counts[key],
            units=dict(sorted(units[key].items())),
        )
        for key, amounts in sums.items()
    ]
    rows.sort(key=lambda row: labels.get(row.key, ((2, str(row.key)), ""))[0])
    return rows


def _add(pounds: dict[str, Decimal], amounts: UnitAmounts, fact: _Fact, share: _Share) -> None:
    """Count one share of a pledge in £ and in units, under each word that applies to it."""
    pounds["committed"] += share.committed
    amounts.committed += share.committed_quantity
    if fact.reported:
        pounds["reported"] += share.value
        amounts.reported += share.quantity
    if fact.delivered:
        pounds["delivered"] += share.value
        amounts.delivered += share.quantity
    if fact.overdue:
        pounds["overdue"] += share.committed
        amounts.overdue += share.committed_quantity


def _total_units(facts: list[_Fact]) -> dict[str, UnitAmounts]:
    totals: dict[str, UnitAmounts] = {}
    for fact in facts:
        pounds = {"committed": ZERO, "delivered": ZERO, "reported": ZERO, "overdue": ZERO}
        share = _Share(None, fact.committed_value, fact.committed_quantity, fact.value, fact.quantity)
        _add(pounds, totals.setdefault(fact.measure_code, UnitAmounts()), fact, share)
    return dict(sorted(totals.items()))


def social_value_report(
    session: Session,
    actor: User | None,
    group_by: str,
    date_from: date | str | None = None,
    date_to: date | str | None = None,
) -> Report:
    """Committed and delivered social value, in £ and in units, grouped one way.

    Args:
        group_by: one of ``contract``, ``supplier``, ``outcome``, ``district``, ``month``.
        date_from: count pledges approved on or after this council day (a date or ISO text).
        date_to: count pledges approved on or before this council day (a date or ISO text).

    Returns:
        The rows, in a natural order for the grouping, and totals summed from the pledges
        themselves (not from the rows).

    Raises:
        NotSignedIn, Forbidden: for anyone but an officer.
        ValidationFailed: for an unknown ``group_by`` or a malformed date.
    """
    require_role(actor, Role.OFFICER)
    errors = FieldErrors()
    if group_by not in GROUPS:
        errors.add("group_by", Code.UNKNOWN_CHOICE, "Group by one of: " + ", ".join(GROUPS))
    start = end = None
    try:
        start, end = check_period(date_from, date_to)
    except ValidationFailed as error:
        errors.merge(error)
    errors.raise_if_any()
    facts = _facts(session, COMMITTED, start, end)
    return Report(
        group_by=group_by,
        date_from=start,
        date_to=end,
        rows=_group(session, facts, group_by),
        committed=sum((f.committed_value for f in facts), ZERO),
        delivered=sum((f.value for f in facts if f.delivered), ZERO),
        reported=sum((f.value for f in facts if f.reported), ZERO),
        overdue=sum((f.committed_value for f in facts if f.overdue), ZERO),
        pledges=len(facts),
        units=_total_units(facts),
        measures=_measures(session, (f.measure_code for f in facts)),
    )


def contracts_behind_target(session: Session, actor: User | None) -> list[ContractStanding]:
    """Contracts whose committed social value falls short of their target, largest shortfall first.

    Raises:
        NotSignedIn, Forbidden: for anyone but an officer.
    """
    require_role(actor, Role.OFFICER)
    contracts = list(
        session.scalars(
            select(Contract)
            .where(Contract.social_value_target.is_not(None))
            .options(selectinload(Contract.supplier))
            .order_by(Contract.reference)
        )
    )
    found = progress(session, contracts)
    behind = [ContractStanding(c, found[c.id]) for c in contracts if found[c.id].behind]
    return sorted(behind, key=lambda s: (-s.shortfall, s.contract.reference))


def delivered_pledges(session: Session, limit: int | None = None) -> list[DeliveredPledge]:
    """Confirmed pledges, newest confirmation first, as open data: organisations, never people.

    A need the public may not see (its group not yet verified, or withdrawn) is shown
    without its title or group name, and a supplier the council has not verified without
    its name, so the rows still add up to the totals (the rule of ``listings.is_visible``).
    """
    query = (
        select(Pledge)
        .where(Pledge.status.in_(DELIVERED))
        .options(
            selectinload(Pledge.need).selectinload(Need.organisation),
            selectinload(Pledge.need).selectinload(Need.outcomes),
            selectinload(Pledge.need).selectinload(Need.district),
            selectinload(Pledge.supplier),
            selectinload(Pledge.measure),
        )
        .order_by(Pledge.confirmed_at.desc(), Pledge.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = []
    for pledge in session.scalars(query):
        need, measure = pledge.need, pledge.measure
        public = is_visible(None, need)
        rows.append(
            DeliveredPledge(
                id=pledge.id,
                confirmed_on=pledge.confirmed_at.astimezone(COUNCIL_ZONE).date() if pledge.confirmed_at else None,
                supplier=organisation_name(None, pledge.supplier, "A supplier"),
                group=need.organisation.name if public else "A community group",
                need_title=need.title if public else "A community need",
                district=need.district.name,
                outcomes=tuple(o.name for o in need.outcomes),
                measure=MeasureInfo(measure.code, measure.name, measure.unit, measure.proxy_value is not None),
                quantity=Decimal(pledge.quantity).quantize(PENNY),
                value=Decimal(pledge.value or 0).quantize(PENNY),
            )
        )
    return rows


def last_confirmed_at(session: Session) -> datetime | None:
    """When delivered social value last changed: the newest confirmation."""
    return session.scalar(select(func.max(Pledge.confirmed_at)).where(Pledge.status.in_(DELIVERED)))


def impact_summary(session: Session, recent: int = 10) -> Impact:
    """Social value delivered, for the public impact page: totals, by outcome, by district, recent."""
    facts = _facts(session, DELIVERED)
    units: dict[str, Decimal] = {code: amounts.delivered for code, amounts in _total_units(facts).items()}
    last = last_confirmed_at(session)
    return Impact(
        delivered=sum((f.value for f in facts), ZERO),
        pledges=len(facts),
        units=units,
        measures=_measures(session, units),
        by_outcome=_group(session, facts, "outcome"),
        by_district=_group(session, facts, "district"),
        recent=delivered_pledges(session, limit=recent),
        last_confirmed_at=last,
    )


def report_csv(report: Report) -> str:
    """A report as CSV: key, label, £ committed and delivered, pledges, then units per measure."""
    codes = list(report.measures)
    header = ["key", "label", "committed", "delivered", "pledges", "reported_delivered", "overdue", "delivery_rate"]
    for code in codes:
        header += [f"committed_units:{code}", f"delivered_units:{code}"]
    for code in codes:
        header += [f"reported_units:{code}", f"overdue_units:{code}"]

    def line(row: ReportRow) -> list[object]:
        rate = row.delivery_rate
        cells: list[object] = [
            "" if row.key is None else row.key, row.label, f"{row.committed:.2f}", f"{row.delivered:.2f}",
            row.pledges, f"{row.reported:.2f}", f"{row.overdue:.2f}", "" if rate is None else f"{rate:.4f}",
        ]  # fmt: skip
        for code in codes:
            amounts = row.units.get(code, UnitAmounts())
            cells += [f"{amounts.committed:.2f}", f"{amounts.delivered:.2f}"]
        for code in codes:
            amounts = row.units.get(code, UnitAmounts())
            cells += [f"{amounts.reported:.2f}", f"{amounts.overdue:.2f}"]
        return cells

    return write_csv(header, (line(r) for r in report.rows))


def impact_csv(rows: list[DeliveredPledge]) -> str:
    """Confirmed pledges as open data CSV, one row each."""
    header = [
        "pledge_id", "confirmed_on", "supplier", "community_group", "need", "district", "outcomes",
        "measure", "measure_name", "unit", "quantity", "value",
    ]  # fmt: skip
    return write_csv(
        header,
        (
            [
                r.id,
                r.confirmed_on.isoformat() if r.confirmed_on else "",
                r.supplier,
                r.group,
                r.need_title,
                r.district,
                "; ".join(r.outcomes),
                r.measure.code,
                r.measure.name,
                r.measure.unit,
                f"{r.quantity:.2f}",
                f"{r.value:.2f}",
            ]
            for r in rows
        ),
    )
