"""Waiting for you: the steps that are a signed-in person's to take, each a link to where it is done.

Each kind of task is one function below, listed in ``TASK_KINDS``; a function decides for
itself whom it concerns (by role and organisation) and returns its tasks. Adding a kind is
writing one function and adding it to the list: the home page, the navigation count and
``GET /api/v1/me/tasks`` all read ``tasks_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.db import utcnow
from marketplace.formatting import amount
from marketplace.models import (
    EvidenceReview,
    JoinRequest,
    Message,
    Need,
    Offer,
    OfferRequest,
    Organisation,
    Pledge,
    PledgeStatus,
    RequestStatus,
    Role,
    User,
    Verification,
)
from marketplace.services.accounts import require_role
from marketplace.services.pledges import PledgeFilters, list_pledges

# Each kind lists at most this many (the count says how many there are in all).
LIMIT = 50
# A pledge nobody has moved for this long is stuck: an officer should chase it.
STUCK_AFTER = timedelta(days=14)


@dataclass(frozen=True)
class Task:
    """One step waiting for the person: what kind, what to do, where, and since when."""

    kind: str
    title: str
    url: str
    since: datetime


@dataclass(frozen=True)
class TaskList:
    """A person's tasks, newest first, and how many of each kind."""

    items: list[Task]

    @property
    def total(self) -> int:
        """How many tasks there are."""
        return len(self.items)

    def counts(self) -> dict[str, int]:
        """Tasks by kind."""
        counts: dict[str, int] = {}
        for task in self.items:
            counts[task.kind] = counts.get(task.kind, 0) + 1
        return counts


def _pledge_title(pledge: Pledge) -> str:
    return f"{amount(pledge.quantity, pledge.measure.unit)} from {pledge.supplier.name} for “{pledge.need.title}”"


def _group_pledges(session: Session, user: User, status: PledgeStatus, *reviews: EvidenceReview) -> list[Pledge]:
    query = select(Pledge).join(Need, Pledge.need_id == Need.id)
    if reviews:
        query = query.where(Pledge.evidence_review.in_([review.value for review in reviews]))
    return list(
        session.scalars(
            query.where(Need.organisation_id == user.organisation_id, Pledge.status == status)
            .options(selectinload(Pledge.need), selectinload(Pledge.supplier), selectinload(Pledge.measure))
            .order_by(Pledge.updated_at.desc())
            .limit(LIMIT)
        )
    )


def pledges_to_answer(session: Session, user: User) -> list[Task]:
    """A group: pledges to its needs that it has not accepted or declined yet."""
    if user.role is not Role.COMMUNITY:
        return []
    return [
        Task("pledge_to_answer", f"Accept or decline {_pledge_title(p)}", f"/pledges/{p.id}", p.updated_at)
        for p in _group_pledges(session, user, PledgeStatus.PROPOSED)
    ]


def deliveries_to_confirm(session: Session, user: User) -> list[Task]:
    """A group: delivered pledges whose evidence the council accepted, waiting for the group to confirm."""
    if user.role is not Role.COMMUNITY:
        return []
    return [
        Task("delivery_to_confirm", f"Confirm delivery of {_pledge_title(p)}", f"/pledges/{p.id}", p.updated_at)
        for p in _group_pledges(session, user, PledgeStatus.DELIVERED, EvidenceReview.ACCEPTED)
    ]


def requests_to_answer(session: Session, user: User) -> list[Task]:
    """A supplier: groups' requests for its offers, to turn into a pledge or decline."""
    if user.role is not Role.SUPPLIER:
        return []
    rows = session.scalars(
        select(OfferRequest)
        .join(Offer, OfferRequest.offer_id == Offer.id)
        .where(Offer.organisation_id == user.organisation_id, OfferRequest.status == RequestStatus.OPEN)
        .options(selectinload(OfferRequest.offer), selectinload(OfferRequest.organisation))
        .order_by(OfferRequest.created_at.desc())
        .limit(LIMIT)
    )
    return [
        Task(
            "request_to_answer",
            f"Answer {r.organisation.name}'s request for “{r.offer.title}”",
            f"/requests/{r.id}",
            r.created_at,
        )
        for r in rows
    ]


def pledges_to_deliver(session: Session, user: User) -> list[Task]:
    """A supplier: approved pledges to deliver and then mark delivered."""
    if user.role is not Role.SUPPLIER:
        return []
    rows = session.scalars(
        select(Pledge)
        .where(Pledge.supplier_id == user.organisation_id, Pledge.status == PledgeStatus.APPROVED)
        .options(selectinload(Pledge.need), selectinload(Pledge.measure))
        .order_by(Pledge.updated_at.desc())
        .limit(LIMIT)
    )
    return [
        Task(
            "pledge_to_deliver",
            f"Deliver {amount(p.quantity, p.measure.unit)} for “{p.need.title}”"
            + (f" by {p.deliver_by.day} {p.deliver_by:%B %Y}" if p.deliver_by else "")
            + ", then mark it delivered",
            f"/pledges/{p.id}",
            p.updated_at,
        )
        for p in rows
    ]


def organisations_to_verify(session: Session, user: User) -> list[Task]:
    """An officer: organisations waiting for the council's check."""
    if not user.is_officer:
        return []
    rows = session.scalars(
        select(Organisation)
        .where(Organisation.verification == Verification.PENDING)
        .order_by(Organisation.created_at.desc())
        .limit(LIMIT)
    )
    return [
        Task("organisation_to_verify", f"Verify or reject {o.name}", f"/officer/organisations/{o.id}", o.created_at)
        for o in rows
    ]


def evidence_to_review(session: Session, user: User) -> list[Task]:
    """An officer: delivered pledges whose evidence waits for the council's check, or that a group disputes."""
    if not user.is_officer:
        return []
    rows = session.scalars(
        select(Pledge)
        .where(
            Pledge.status == PledgeStatus.DELIVERED,
            Pledge.evidence_review.in_([EvidenceReview.WAITING.value, EvidenceReview.DISPUTED.value]),
        )
        .options(selectinload(Pledge.need), selectinload(Pledge.supplier), selectinload(Pledge.measure))
        .order_by(Pledge.updated_at.desc())
        .limit(LIMIT)
    )
    return [
        Task(
            "evidence_to_review",
            (
                "Look into the group's problem with "
                if p.evidence_review == EvidenceReview.DISPUTED.value
                else "Check the delivery evidence for "
            )
            + _pledge_title(p),
            f"/pledges/{p.id}",
            p.updated_at,
        )
        for p in rows
    ]


def evidence_asked_for(session: Session, user: User) -> list[Task]:
    """A supplier: delivered pledges for which the council asked for more evidence."""
    if user.role is not Role.SUPPLIER:
        return []
    rows = session.scalars(
        select(Pledge)
        .where(
            Pledge.supplier_id == user.organisation_id,
            Pledge.status == PledgeStatus.DELIVERED,
            Pledge.evidence_review == EvidenceReview.MORE_NEEDED.value,
        )
        .options(selectinload(Pledge.need), selectinload(Pledge.measure))
        .order_by(Pledge.updated_at.desc())
        .limit(LIMIT)
    )
    return [
        Task(
            "evidence_asked_for",
            f"Add the evidence the council asked for: {amount(p.quantity, p.measure.unit)} for “{p.need.title}”",
            f"/pledges/{p.id}",
            p.updated_at,
        )
        for p in rows
    ]


def pledges_to_approve(session: Session, user: User) -> list[Task]:
    """An officer: pledges a group accepted, waiting for approval."""
    if not user.is_officer:
        return []
    rows = session.scalars(
        select(Pledge)
        .where(Pledge.status == PledgeStatus.ACCEPTED)
        .options(selectinload(Pledge.need), selectinload(Pledge.supplier), selectinload(Pledge.measure))
        .order_by(Pledge.updated_at.desc())
        .limit(LIMIT)
    )
    return [
        Task("pledge_to_approve", f"Approve or reject {_pledge_title(p)}", f"/pledges/{p.id}", p.updated_at)
        for p in rows
    ]


def stuck_pledges(session: Session, user: User) -> list[Task]:
    """An officer: pledges proposed or approved that nobody has moved for two weeks."""
    if not user.is_officer:
        return []
    rows = list_pledges(session, user, PledgeFilters(unchanged_before=stuck_since()), 1, LIMIT).items
    return [
        Task(
            "stuck_pledge",
            f"Chase {_pledge_title(p)}: {p.status.value} and unchanged for over {STUCK_AFTER.days} days",
            f"/pledges/{p.id}",
            p.updated_at,
        )
        for p in rows
    ]


def stuck_since() -> datetime:
    """Pledges unchanged since before this are stuck."""
    return utcnow() - STUCK_AFTER


def people_asking_to_join(session: Session, user: User) -> list[Task]:
    """A member: people who registered naming the organisation and confirmed their address."""
    if user.is_officer:
        return []
    rows = session.scalars(
        select(JoinRequest)
        .where(
            JoinRequest.organisation_id == user.organisation_id,
            JoinRequest.confirmed_at.is_not(None),
            JoinRequest.decision.is_(None),
        )
        .order_by(JoinRequest.confirmed_at.desc())
        .limit(LIMIT)
    )
    return [
        Task("join_request", f"Let {r.name} join your organisation, or refuse", "/account/team", r.confirmed_at)
        for r in rows
        if r.confirmed_at is not None
    ]


def messages_to_read(session: Session, user: User) -> list[Task]:
    """A group or supplier: conversations whose newest message came from the other side."""
    if user.is_officer:
        return []
    tasks: list[Task] = []
    for column, in_scope in (
        (
            Message.pledge_id,
            Message.pledge_id.in_(
                select(Pledge.id)
                .join(Need, Pledge.need_id == Need.id)
                .where((Pledge.supplier_id == user.organisation_id) | (Need.organisation_id == user.organisation_id))
            ),
        ),
        (
            Message.request_id,
            Message.request_id.in_(
                select(OfferRequest.id)
                .join(Offer, OfferRequest.offer_id == Offer.id)
                .where(
                    (OfferRequest.organisation_id == user.organisation_id)
                    | (Offer.organisation_id == user.organisation_id)
                )
            ),
        ),
    ):
        newest = select(func.max(Message.id)).where(in_scope).group_by(column)
        rows = session.scalars(
            select(Message)
            .where(Message.id.in_(newest), Message.organisation_id != user.organisation_id)
            .options(selectinload(Message.author))
            .order_by(Message.id.desc())
            .limit(LIMIT)
        )
        for message in rows:
            who = message.author.name if message.author else "A former member"
            if message.pledge_id is not None:
                tasks.append(
                    Task("message", f"Reply to {who} about a pledge", f"/pledges/{message.pledge_id}#messages",
                         message.created_at)
                )  # fmt: skip
            else:
                tasks.append(
                    Task("message", f"Reply to {who} about a request", f"/requests/{message.request_id}#messages",
                         message.created_at)
                )  # fmt: skip
    return tasks


# Every kind of task, in one list: add a function here to add a kind.
TASK_KINDS: list[Callable[[Session, User], list[Task]]] = [
    pledges_to_answer,
    deliveries_to_confirm,
    requests_to_answer,
    pledges_to_deliver,
    organisations_to_verify,
    pledges_to_approve,
    evidence_to_review,
    evidence_asked_for,
    stuck_pledges,
    people_asking_to_join,
    messages_to_read,
]


def tasks_for(session: Session, actor: User | None) -> TaskList:
    """Everything waiting for the person, newest first.

    Raises:
        NotSignedIn: for a visitor.
    """
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    items = [task for kind in TASK_KINDS for task in kind(session, user)]
    items.sort(key=lambda task: task.since, reverse=True)
    return TaskList(items)
