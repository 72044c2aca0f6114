"""The audit log: one call records who changed what, with the record before and after."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.formatting import amount
from marketplace.models import AuditEntry, OfferRequest, Organisation, Pledge, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.paging import Page, paginate


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity_type: str,
    entity_id: int | str,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Add an audit entry in the same transaction as the change it describes."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def list_audit(
    session: Session,
    actor: User | None,
    *,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> Page[AuditEntry]:
    """The audit log, newest first, for officers, optionally filtered."""
    require_role(actor, Role.OFFICER)
    query = (
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor).selectinload(User.organisation))
        .order_by(AuditEntry.id.desc())
    )
    if action:
        query = query.where(AuditEntry.action == action)
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    return paginate(session, query, page, per_page)


def audit_actions(session: Session) -> list[str]:
    """The actions recorded so far, for the filter list."""
    return list(session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


@dataclass(frozen=True)
class AuditSentence:
    """An audit entry as a person reads it: who did what to which thing, and where that thing is."""

    text: str
    url: str | None


_PLEDGE_VERBS = {
    "pledge.propose": "proposed a pledge of {amount} to ‘{need}’",
    "pledge.accept": "accepted {supplier}'s pledge of {amount} to ‘{need}’",
    "pledge.decline": "declined {supplier}'s pledge of {amount} to ‘{need}’",
    "pledge.approve": "approved {supplier}'s pledge of {amount} to ‘{need}’",
    "pledge.reject": "rejected {supplier}'s pledge of {amount} to ‘{need}’",
    "pledge.deliver": "marked as delivered the pledge of {amount} to ‘{need}’",
    "pledge.confirm": "confirmed delivery of {supplier}'s pledge of {amount} to ‘{need}’",
    "pledge.cancel": "cancelled the pledge of {amount} to ‘{need}’",
}
_REQUEST_VERBS = {
    "request.create": "asked {supplier} for ‘{offer}’ for ‘{need}’",
    "request.decline": "declined {group}'s request for ‘{offer}’",
    "request.pledge": "turned {group}'s request for ‘{offer}’ into a pledge",
}
_ORGANISATION_VERBS = {
    "organisation.invite": "invited a colleague to join {organisation}",
    "organisation.join": "joined {organisation}",
    "organisation.remove_member": "removed a member from {organisation}",
}


def _who(entry: AuditEntry) -> str:
    if entry.actor is None:
        return "The system"
    return f"{entry.actor.name} ({entry.actor.organisation.name})"


def audit_sentences(session: Session, entries: list[AuditEntry]) -> dict[int, AuditSentence]:
    """Each entry as a sentence with names and a link, e.g. “Sam Patel (Midshires Build) proposed a
    pledge of 16 hours to ‘Volunteers to paint our village hall’”.
    """
    ids = {kind: {int(e.entity_id) for e in entries if e.entity_type == kind and e.entity_id.isdigit()}
           for kind in ("pledge", "request", "organisation")}  # fmt: skip
    found_pledges = {p.id: p for p in session.scalars(select(Pledge).where(Pledge.id.in_(ids["pledge"])))}
    found_requests = {r.id: r for r in session.scalars(select(OfferRequest).where(OfferRequest.id.in_(ids["request"])))}
    found_organisations = {
        o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(ids["organisation"])))
    }
    sentences: dict[int, AuditSentence] = {}
    for entry in entries:
        number = int(entry.entity_id) if entry.entity_id.isdigit() else None
        pledge = found_pledges.get(number) if entry.entity_type == "pledge" else None
        asked = found_requests.get(number) if entry.entity_type == "request" else None
        organisation = found_organisations.get(number) if entry.entity_type == "organisation" else None
        if pledge is not None and entry.action in _PLEDGE_VERBS:
            what = _PLEDGE_VERBS[entry.action].format(
                amount=amount(pledge.quantity, pledge.measure.unit),
                need=pledge.need.title,
                supplier=pledge.supplier.name,
            )
            sentences[entry.id] = AuditSentence(f"{_who(entry)} {what}", f"/pledges/{pledge.id}")
        elif asked is not None and entry.action in _REQUEST_VERBS:
            what = _REQUEST_VERBS[entry.action].format(
                supplier=asked.offer.organisation.name, offer=asked.offer.title, need=asked.need.title,
                group=asked.organisation.name,
            )  # fmt: skip
            sentences[entry.id] = AuditSentence(f"{_who(entry)} {what}", f"/requests/{asked.id}")
        elif organisation is not None and entry.action in _ORGANISATION_VERBS:
            what = _ORGANISATION_VERBS[entry.action].format(organisation=organisation.name)
            sentences[entry.id] = AuditSentence(f"{_who(entry)} {what}", f"/officer/organisations/{organisation.id}")
        else:
            action = entry.action.replace(".", ": ").replace("_", " ")
            sentences[entry.id] = AuditSentence(
                f"{_who(entry)}: {action} ({entry.entity_type} {entry.entity_id})", None
            )
    return sentences
