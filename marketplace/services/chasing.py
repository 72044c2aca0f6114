"""Chasing delivery: what is overdue or stuck, for the officer dashboard, and the reminders.

Every approved pledge has a deliver-by date. Its supplier is reminded by e-mail a week
before it and, once it is missed, every week after (``marketplace remind-deliveries``, run
daily). The officer dashboard lists overdue commitments with days overdue, deliveries not
confirmed within 14 days and proposals not answered within 14 days, each with a one-click
reminder to whoever has the next step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.db import utcnow
from marketplace.models import EvidenceReview, Need, Pledge, PledgeEvent, PledgeStatus, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.audit import record
from marketplace.services.errors import InvalidTransition, NotFound
from marketplace.services.notifications import members_of, officers, queue_email

log = logging.getLogger(__name__)

STUCK_AFTER = timedelta(days=14)
DUE_SOON = timedelta(days=7)
# Nobody is reminded about the same pledge more often than this.
REMIND_EVERY = timedelta(days=7)
LIST_LIMIT = 50


@dataclass(frozen=True)
class Chase:
    """A pledge that is late or stuck, how long for, and who has the next step."""

    pledge: Pledge
    days: int
    waiting_for: str  # "supplier", "group" or "council"


@dataclass(frozen=True)
class DeliveryChasing:
    """The officer dashboard's delivery lists."""

    overdue: list[Chase]
    unconfirmed: list[Chase]
    unanswered: list[Chase]


def _query():
    return select(Pledge).options(
        selectinload(Pledge.need).selectinload(Need.organisation),
        selectinload(Pledge.supplier),
        selectinload(Pledge.measure),
    )


def _days_since(moment: datetime | None, now: datetime) -> int:
    return (now - moment).days if moment is not None else 0


def waiting_for(pledge: Pledge) -> str:
    """Who has the pledge's next step."""
    if pledge.status is PledgeStatus.PROPOSED:
        return "group"
    if pledge.status is PledgeStatus.APPROVED:
        return "supplier"
    if pledge.status is PledgeStatus.DELIVERED:
        return {
            EvidenceReview.ACCEPTED.value: "group",
            EvidenceReview.MORE_NEEDED.value: "supplier",
        }.get(pledge.evidence_review or "", "council")
    return "nobody"


def delivery_chasing(session: Session, actor: User | None, today: date) -> DeliveryChasing:
    """Overdue commitments, deliveries not confirmed and proposals not answered, longest first."""
    require_role(actor, Role.OFFICER)
    now = utcnow()
    overdue = session.scalars(
        _query()
        .where(Pledge.status == PledgeStatus.APPROVED, Pledge.deliver_by < today)
        .order_by(Pledge.deliver_by, Pledge.id)
        .limit(LIST_LIMIT)
    )
    unconfirmed = session.scalars(
        _query()
        .where(Pledge.status == PledgeStatus.DELIVERED, Pledge.delivered_at < now - STUCK_AFTER)
        .order_by(Pledge.delivered_at, Pledge.id)
        .limit(LIST_LIMIT)
    )
    unanswered = session.scalars(
        _query()
        .where(Pledge.status == PledgeStatus.PROPOSED, Pledge.created_at < now - STUCK_AFTER)
        .order_by(Pledge.created_at, Pledge.id)
        .limit(LIST_LIMIT)
    )
    return DeliveryChasing(
        overdue=[Chase(p, (today - p.deliver_by).days, "supplier") for p in overdue if p.deliver_by],
        unconfirmed=[Chase(p, _days_since(p.delivered_at, now), waiting_for(p)) for p in unconfirmed],
        unanswered=[Chase(p, _days_since(p.created_at, now), "group") for p in unanswered],
    )


def _remind(session: Session, pledge: Pledge, who: str, subject: str, body: str) -> list[str]:
    if who == "supplier":
        to = members_of(session, pledge.supplier_id)
    elif who == "group":
        to = members_of(session, pledge.need.organisation_id)
    else:
        to = officers(session)
    queue_email(session, to, subject, body)
    pledge.reminded_at = utcnow()
    return to


_SUPPLIER_NEXT = "\n\nSign in to add evidence and mark it delivered, or to send the evidence the council asked for."
_REMINDERS = {
    "supplier": ("Reminder: your pledge for “{title}”", "{what}" + _SUPPLIER_NEXT),
    "group": (
        "Reminder: a pledge for “{title}” needs your answer",
        "{what}\n\nSign in to answer: accept or decline a new pledge, or confirm a delivery (or tell the council "
        "if it did not happen).",
    ),
    "council": (
        "Reminder: delivery evidence to check for “{title}”",
        "{what}\n\nIt is waiting in the officers' evidence queue.",
    ),
}


def _situation(pledge: Pledge, today: date) -> str:
    if pledge.status is PledgeStatus.APPROVED and pledge.deliver_by is not None:
        if pledge.deliver_by < today:
            days = (today - pledge.deliver_by).days
            return (
                f"{pledge.supplier.name}'s pledge for “{pledge.need.title}” was due by "
                f"{pledge.deliver_by.strftime('%-d %B %Y')}: {days} day{'s' if days != 1 else ''} overdue."
            )
        return (
            f"{pledge.supplier.name}'s pledge for “{pledge.need.title}” is due by "
            f"{pledge.deliver_by.strftime('%-d %B %Y')}."
        )
    if pledge.status is PledgeStatus.PROPOSED:
        return f"{pledge.supplier.name} pledged to “{pledge.need.title}” and is waiting for the group's answer."
    return f"{pledge.supplier.name} reported delivering its pledge for “{pledge.need.title}”; it is not yet confirmed."


def remind(session: Session, actor: User | None, pledge_id: int, today: date) -> tuple[Pledge, str]:
    """An officer's one-click reminder to whoever has the pledge's next step.

    Raises:
        NotFound: no such pledge; InvalidTransition: nobody has a next step (it is finished).
    """
    user = require_role(actor, Role.OFFICER)
    pledge = session.get(Pledge, pledge_id)
    if pledge is None:
        raise NotFound("There is no such pledge")
    who = waiting_for(pledge)
    if who == "nobody":
        raise InvalidTransition(f"This pledge is {pledge.status.value}: there is nobody to remind")
    subject, body = _REMINDERS[who]
    _remind(session, pledge, who, subject.format(title=pledge.need.title), body.format(what=_situation(pledge, today)))
    pledge.history.append(
        PledgeEvent(
            from_status=pledge.status.value,
            to_status=pledge.status.value,
            actor=user,
            note=f"reminder sent to the {who}",
        )
    )
    session.flush()
    record(session, user, "pledge.remind", "pledge", pledge.id, None, {"reminded": who})
    log.info("pledge reminder", extra={"pledge_id": pledge.id, "reminded": who})
    return pledge, who


@dataclass(frozen=True)
class ReminderRun:
    """What one run of the due-date reminders did."""

    due_soon: int
    overdue: int


def send_due_reminders(session: Session, today: date) -> ReminderRun:
    """E-mail suppliers whose commitments are due within a week, or overdue (run daily).

    A pledge is reminded about at most once a week, so a daily run never floods anyone.
    """
    recent = utcnow() - REMIND_EVERY + timedelta(hours=1)  # a daily run slightly early still counts a week
    pledges = session.scalars(
        _query()
        .where(
            Pledge.status == PledgeStatus.APPROVED,
            Pledge.deliver_by.is_not(None),
            Pledge.deliver_by <= today + DUE_SOON,
            or_(Pledge.reminded_at.is_(None), Pledge.reminded_at < recent),
        )
        .order_by(Pledge.deliver_by, Pledge.id)
    )
    due_soon = overdue = 0
    for pledge in pledges:
        late = pledge.deliver_by < today
        subject = ("Overdue: " if late else "Due soon: ") + f"your pledge for “{pledge.need.title}”"
        _remind(session, pledge, "supplier", subject, _situation(pledge, today) + _SUPPLIER_NEXT)
        overdue += late
        due_soon += not late
    session.flush()
    log.info("delivery reminders", extra={"due_soon": due_soon, "overdue": overdue})
    return ReminderRun(due_soon=due_soon, overdue=overdue)
