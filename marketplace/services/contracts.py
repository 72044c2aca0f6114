"""Contracts: officers register them; suppliers see their progress against the target."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.clock import council_today
from marketplace.models import Contract, Organisation, OrganisationKind, Pledge, PledgeStatus, Role, User
from marketplace.models.pledge import COMMITTED, DELIVERED, REPORTED
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, NotFound
from marketplace.services.paging import Page, paginate
from marketplace.validation import Amount, FieldErrors, clean_decimal, clean_text, parse_date, row_id, unknown_fields

log = logging.getLogger(__name__)

FIELDS = {"reference", "title", "supplier_id", "value", "start_date", "end_date", "social_value_target"}
MAX_POUNDS = Decimal("100000000000")


def delivery_rate(delivered: Decimal, committed: Decimal) -> Decimal | None:
    """Confirmed £ over committed £, as a fraction to 4 places (None when nothing is committed)."""
    if committed <= 0:
        return None
    return (delivered / committed).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class ContractProgress:
    """Social value against a contract's target, in £."""

    committed: Decimal
    delivered: Decimal
    target: Decimal | None
    reported: Decimal = Decimal(0)
    overdue: Decimal = Decimal(0)

    @property
    def delivery_rate(self) -> Decimal | None:
        """Confirmed £ over committed £ (None when nothing is committed)."""
        return delivery_rate(self.delivered, self.committed)

    @property
    def behind(self) -> bool:
        """Committed value falls short of the target."""
        return self.target is not None and self.committed < self.target

    @property
    def committed_share(self) -> float | None:
        """Committed value as a share of the target (None without a target)."""
        return float(self.committed / self.target) if self.target else None


def contract_snapshot(contract: Contract) -> dict[str, object]:
    """A contract as the audit log keeps it."""
    return {
        "reference": contract.reference,
        "title": contract.title,
        "supplier_id": contract.supplier_id,
        "value": str(contract.value),
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "social_value_target": str(contract.social_value_target) if contract.social_value_target is not None else None,
    }


CONTRACT_VALUE = Amount(
    "The contract value", example="250000", money=True, zero_allowed=True, maximum=MAX_POUNDS,
    missing="Enter the contract value in pounds",
)  # fmt: skip
SOCIAL_VALUE_TARGET = Amount(
    "The social value target", example="250000", money=True, zero_allowed=True, maximum=MAX_POUNDS
)


def _validate(session: Session, data: Mapping[str, object], *, current: Contract | None) -> dict[str, object]:
    errors = FieldErrors()
    unknown_fields(data, FIELDS, errors)
    partial = current is not None
    clean: dict[str, object] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data

    if wanted("reference"):
        reference = clean_text(data, "reference", "contract reference", 2, 60, errors)
        taken = reference and session.scalar(
            select(Contract.id).where(func.lower(Contract.reference) == reference.lower())
        )
        if taken and (current is None or taken != current.id):
            errors["reference"] = "A contract with this reference is already registered"
        clean["reference"] = reference
    if wanted("title"):
        clean["title"] = clean_text(data, "title", "title", 3, 200, errors)
    if wanted("supplier_id"):
        supplier_id = row_id(data.get("supplier_id"))
        supplier = session.get(Organisation, supplier_id) if supplier_id is not None else None
        if supplier is None or supplier.kind is not OrganisationKind.SUPPLIER:
            errors["supplier_id"] = "Select a supplier organisation"
        clean["supplier_id"] = supplier.id if supplier else None
    if wanted("value"):
        clean["value"] = clean_decimal(data.get("value"), "value", CONTRACT_VALUE, errors, required=True)
    if wanted("social_value_target"):
        target = data.get("social_value_target")
        clean["social_value_target"] = clean_decimal(target, "social_value_target", SOCIAL_VALUE_TARGET, errors)
    if wanted("start_date"):
        clean["start_date"] = parse_date(data.get("start_date"), "start_date", "the start date", errors, required=True)
    if wanted("end_date"):
        clean["end_date"] = parse_date(data.get("end_date"), "end_date", "the end date", errors, required=True)
    start = clean.get("start_date", current.start_date if current else None)
    end = clean.get("end_date", current.end_date if current else None)
    if start and end and end < start and "end_date" not in errors:
        errors["end_date"] = "The end date must be on or after the start date"
    errors.raise_if_any()
    return clean


def create_contract(session: Session, actor: User | None, data: Mapping[str, object]) -> Contract:
    """An officer registers a contract held by a supplier."""
    officer = require_role(actor, Role.OFFICER)
    clean = _validate(session, data, current=None)
    contract = Contract(**clean)
    session.add(contract)
    session.flush()
    record(session, officer, "contract.create", "contract", contract.id, None, contract_snapshot(contract))
    log.info("contract registered", extra={"contract_id": contract.id})
    return contract


def update_contract(session: Session, actor: User | None, contract_id: int, data: Mapping[str, object]) -> Contract:
    """An officer changes a contract's details."""
    officer = require_role(actor, Role.OFFICER)
    contract = get_contract(session, officer, contract_id)
    before = contract_snapshot(contract)
    for name, value in _validate(session, data, current=contract).items():
        setattr(contract, name, value)
    session.flush()
    record(session, officer, "contract.update", "contract", contract.id, before, contract_snapshot(contract))
    return contract


def get_contract(session: Session, actor: User | None, contract_id: int) -> Contract:
    """A contract, for officers and for the supplier holding it.

    Raises:
        NotFound: when there is none; Forbidden: for anyone else.
    """
    viewer = require_role(actor, Role.OFFICER, Role.SUPPLIER)
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound("There is no such contract")
    if viewer.role is Role.SUPPLIER and contract.supplier_id != viewer.organisation_id:
        raise Forbidden("Only officers and the supplier holding this contract can see it")
    return contract


def list_contracts(
    session: Session, actor: User | None, *, supplier_id: int | None = None, page: int = 1, per_page: int = 20
) -> Page[Contract]:
    """Officers see every contract; suppliers see their own."""
    viewer = require_role(actor, Role.OFFICER, Role.SUPPLIER)
    query = select(Contract).options(selectinload(Contract.supplier)).order_by(Contract.reference)
    if viewer.role is Role.SUPPLIER:
        query = query.where(Contract.supplier_id == viewer.organisation_id)
    elif supplier_id is not None:
        query = query.where(Contract.supplier_id == supplier_id)
    return paginate(session, query, page, per_page)


def progress(session: Session, contracts: list[Contract]) -> dict[int, ContractProgress]:
    """Committed, reported delivered, confirmed and overdue £ against each contract's target.

    Committed is what officers approved (a partial delivery lowers the delivered value only).
    """
    ids = [c.id for c in contracts]
    words = ("committed", "reported", "delivered", "overdue")
    sums: dict[int, dict[str, Decimal]] = {i: dict.fromkeys(words, Decimal(0)) for i in ids}
    if ids:
        today = council_today()
        overdue = (Pledge.status == PledgeStatus.APPROVED) & (Pledge.deliver_by < today)
        rows = session.execute(
            select(
                Pledge.contract_id,
                Pledge.status,
                overdue.label("overdue"),
                func.sum(func.coalesce(Pledge.committed_value, Pledge.value)),
                func.sum(Pledge.value),
            )
            .where(Pledge.contract_id.in_(ids), Pledge.status.in_(COMMITTED))
            .group_by(Pledge.contract_id, Pledge.status, overdue)
        )
        for contract_id, status, late, committed, value in rows:
            row = sums[contract_id]
            row["committed"] += Decimal(committed or 0)
            if status in REPORTED:
                row["reported"] += Decimal(value or 0)
            if status in DELIVERED:
                row["delivered"] += Decimal(value or 0)
            if late:
                row["overdue"] += Decimal(committed or 0)
    return {
        c.id: ContractProgress(
            sums[c.id]["committed"],
            sums[c.id]["delivered"],
            c.social_value_target,
            reported=sums[c.id]["reported"],
            overdue=sums[c.id]["overdue"],
        )
        for c in contracts
    }
