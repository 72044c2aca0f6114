"""The audit log: one call records who changed what, with the record before and after."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.models import AuditEntry, Role, User
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
    query = select(AuditEntry).options(selectinload(AuditEntry.actor)).order_by(AuditEntry.id.desc())
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
