"""Record every changed need and offer in the change log, in the same transaction as the change.

A mapper-level hook catches changes made through the ORM, including those from
autoflush, so no service has to remember; bulk UPDATE statements bypass the ORM and
call ``enqueue`` themselves. Every app server's search index replica applies the log in
id order (see ``marketplace.search.replicas``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, insert, literal, select, text
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import ListingChange, Need, Offer, Organisation

ENQUEUED = "listing_changes_enqueued"
# Any constant: the PostgreSQL advisory lock that every transaction writing the change log
# holds (shared) until it ends, and that a replica takes exclusively for a moment to learn
# the highest id no unfinished transaction can still fill in below (see replicas.horizon).
LOG_WRITERS_LOCK = 0x5356_4D4C


def _join_log_writers(session: Session) -> None:
    # PostgreSQL hands out ids before commit, so ids and commit order can differ: without
    # this a replica could apply id 11, move past it, and never see id 10 commit later. On
    # SQLite one transaction writes at a time, so ids are already in commit order.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOG_WRITERS_LOCK})


def enqueue(session: Session, kind: str, ids: Iterable[int]) -> None:
    """Record that these needs or offers changed."""
    now = utcnow()
    rows = [{"kind": kind, "item_id": item_id, "created_at": now} for item_id in ids]
    if rows:
        _join_log_writers(session)
        session.connection().execute(insert(ListingChange.__table__), rows)
        session.info[ENQUEUED] = True


def _enqueue_organisation(session: Session, organisation_id: int) -> None:
    # A verification or name change alters how all of the organisation's listings are shown.
    now = utcnow()
    _join_log_writers(session)
    for model, kind in ((Need, "need"), (Offer, "offer")):
        session.connection().execute(
            insert(ListingChange.__table__).from_select(
                ["kind", "item_id", "created_at"],
                select(literal(kind), model.id, literal(now, type_=ListingChange.created_at.type)).where(
                    model.organisation_id == organisation_id
                ),
            )
        )
    session.info[ENQUEUED] = True


@event.listens_for(Session, "after_flush")
def _record_changes(session: Session, flush_context: object) -> None:
    changed: dict[str, set[int]] = {"need": set(), "offer": set()}
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Need | Offer) and (obj in session.new or session.is_modified(obj) or obj in session.deleted):
            changed["need" if isinstance(obj, Need) else "offer"].add(obj.id)
        elif isinstance(obj, Organisation) and obj in session.dirty and session.is_modified(obj):
            _enqueue_organisation(session, obj.id)
    for kind, ids in changed.items():
        enqueue(session, kind, sorted(ids))
