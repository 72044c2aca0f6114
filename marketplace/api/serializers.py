"""How needs, offers, organisations, users and measures look in the API."""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for

from marketplace.models import Contract, EvidenceFile, Measure, Need, Offer, Organisation, Pledge, User
from marketplace.services.measures import measure_fits
from marketplace.services.paging import Page


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def organisation_ref(organisation: Organisation) -> dict[str, object]:
    """The short form of an organisation carried by every item."""
    return {"id": organisation.id, "name": organisation.name, "verified": organisation.verified}


def organisation_json(organisation: Organisation) -> dict[str, object]:
    """An organisation in full, for officers."""
    return {
        **organisation_ref(organisation),
        "kind": organisation.kind.value,
        "verification": organisation.verification.value,
        "verification_note": organisation.verification_note,
        "charity_number": organisation.charity_number,
        "company_number": organisation.company_number,
        "created_at": _iso(organisation.created_at),
        "verified_at": _iso(organisation.verified_at),
    }


def need_json(need: Need) -> dict[str, object]:
    """A need as the API shows it."""
    return {
        "id": need.id,
        "status": need.status.value,
        "title": need.title,
        "description": need.description,
        "category": need.category_code,
        "district": need.district_code,
        "outcomes": [o.code for o in need.outcomes],
        "quantity": need.quantity,
        "needed_by": _iso(need.needed_by),
        "measure": need.measure_code,
        "quantity_needed": float(need.quantity_needed) if need.quantity_needed is not None else None,
        "assisted": need.assisted,
        "organisation": organisation_ref(need.organisation),
        "created_at": _iso(need.created_at),
        "updated_at": _iso(need.updated_at),
    }


def offer_json(offer: Offer) -> dict[str, object]:
    """An offer as the API shows it."""
    return {
        "id": offer.id,
        "status": offer.status.value,
        "title": offer.title,
        "description": offer.description,
        "category": offer.category_code,
        "districts": [d.code for d in offer.districts],
        "outcomes": [o.code for o in offer.outcomes],
        "available_until": _iso(offer.available_until),
        "measure": offer.measure_code,
        "capacity": float(offer.capacity) if offer.capacity is not None else None,
        "organisation": organisation_ref(offer.organisation),
        "created_at": _iso(offer.created_at),
        "updated_at": _iso(offer.updated_at),
    }


def user_json(user: User) -> dict[str, object]:
    """The signed-in caller."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "organisation": {**organisation_ref(user.organisation), "kind": user.organisation.kind.value},
        "digest_enabled": user.digest_enabled,
    }


def measure_json(measure: Measure) -> dict[str, object]:
    """A social value measure with its £ proxy per unit (null when not monetised)."""
    return {
        "code": measure.code,
        "name": measure.name,
        "unit": measure.unit,
        "proxy_value": float(measure.proxy_value) if measure.proxy_value is not None else None,
        "proxy_version": measure.proxy_version,
        "outcomes": [o.code for o in measure.outcomes],
        "source": measure.source,
        "active": measure.active,
    }


def page_json(page: Page, render) -> dict[str, object]:
    """A page of items in the API's list shape."""
    return {
        "items": [render(item) for item in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


def _money(value: object) -> float | None:
    return float(value) if value is not None else None


def pledge_json(pledge: Pledge) -> dict[str, object]:
    """A pledge with its history."""
    return {
        "id": pledge.id,
        "status": pledge.status.value,
        "need_id": pledge.need_id,
        "offer_id": pledge.offer_id,
        "contract_id": pledge.contract_id,
        "supplier": {"id": pledge.supplier.id, "name": pledge.supplier.name},
        "measure": pledge.measure_code,
        "quantity": float(pledge.quantity),
        "value": _money(pledge.value),
        "proxy_value": _money(pledge.proxy_value),
        "proxy_version": pledge.proxy_version,
        "message": pledge.message,
        "evidence": pledge.evidence,
        "reject_reason": pledge.reject_reason,
        "assisted": pledge.assisted,
        "deliver_by": pledge.deliver_by.isoformat() if pledge.deliver_by else None,
        "pending_quantity": float(pledge.pending_quantity) if pledge.pending_quantity is not None else None,
        "committed_quantity": float(pledge.committed_quantity) if pledge.committed_quantity is not None else None,
        "committed_value": _money(pledge.committed_value),
        "evidence_review": pledge.evidence_review,
        "review_note": pledge.review_note,
        "declaration": pledge.declaration,
        "declared_at": _iso(pledge.declared_at),
        "delivered_at": _iso(pledge.delivered_at),
        "measure_fits": measure_fits(pledge.need.category_code, pledge.measure_code),
        "evidence_files": [evidence_json(item) for item in pledge.evidence_files],
        "created_at": _iso(pledge.created_at),
        "updated_at": _iso(pledge.updated_at),
        "history": [
            {
                "from": event.from_status,
                "to": event.to_status,
                "by": {"id": event.actor.id, "name": event.actor.name} if event.actor else None,
                "at": _iso(event.at),
                "note": event.note,
            }
            for event in pledge.history
        ],
    }


def evidence_json(item: EvidenceFile) -> dict[str, object]:
    """An evidence file's description (its bytes come from ``GET /evidence/<id>``)."""
    return {
        "id": item.id,
        "name": item.name,
        "content_type": item.content_type,
        "size": item.size,
        "sha256": item.sha256,
        "uploaded_at": _iso(item.uploaded_at),
        "url": url_for("api.get_evidence", evidence_id=item.id),
    }


def contract_json(contract: Contract, progress: object | None = None) -> dict[str, object]:
    """A contract, with its progress against the target when known."""
    body: dict[str, object] = {
        "id": contract.id,
        "reference": contract.reference,
        "title": contract.title,
        "supplier": {"id": contract.supplier.id, "name": contract.supplier.name},
        "supplier_id": contract.supplier_id,
        "value": float(contract.value),
        "start_date": _iso(contract.start_date),
        "end_date": _iso(contract.end_date),
        "social_value_target": _money(contract.social_value_target),
        "needs_target": contract.needs_target,
        "created_at": _iso(contract.created_at),
        "updated_at": _iso(contract.updated_at),
    }
    if progress is not None:
        body["committed"] = float(progress.committed)
        body["delivered"] = float(progress.delivered)
        body["behind_target"] = progress.behind
    return body
