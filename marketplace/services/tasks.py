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
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, selectinload

from marketplace.db import kept_for_state, utcnow
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
from marketplace.services.pledges import PledgeFilters, pledges_query

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


# What the tasks' titles read of a pledge: loaded with the rows that become tasks.
_FOR_TITLE = (selectinload(Pledge.need), selectinload(Pledge.supplier), selectinload(Pledge.measure))


def _pledge_task(kind: str, title: Callable[[Pledge], str]) -> Callable[[Pledge], Task]:
    """A pledge's task: it links to the pledge and dates from the pledge's last change."""
    return lambda p: Task(kind, title(p), f"/pledges/{p.id}", p.updated_at)


@dataclass(frozen=True)
class TaskKind:
    """One kind of task: the rows that are someone's tasks of this kind, and the task each row is.

    Attributes:
        rows: for a person, the rows that are their tasks of this kind, newest first (None
            when the kind does not concern them). The list reads the first ``LIMIT``; the
            navigation only counts them.
        task: the task a row is.
        load: loader options for what ``task`` reads of a row.
        heading: the kind's name where counts are shown kind by kind (the officer's dashboard).
        where: the page that lists every task of the kind.
    """

    rows: Callable[[User], Select | None]
    task: Callable[[Any], Task]
    load: tuple[Any, ...] = ()
    heading: str = ""
    where: str = ""

    def tasks(self, session: Session, user: User) -> list[Task]:
        """The person's tasks of this kind."""
        query = self.rows(user)
        if query is None:
            return []
        return [self.task(row) for row in session.scalars(query.options(*self.load).limit(LIMIT))]


def _pledges(user: User, role: Role, status: PledgeStatus, *reviews: EvidenceReview) -> Select | None:
    """Pledges in this state on the person's side (a group's needs, a supplier's own), newest first."""
    if user.role is not role:
        return None
    if role is Role.COMMUNITY:
        query = select(Pledge).join(Need, Pledge.need_id == Need.id).where(Need.organisation_id == user.organisation_id)
    else:
        query = select(Pledge).where(Pledge.supplier_id == user.organisation_id)
    if reviews:
        query = query.where(Pledge.evidence_review.in_([review.value for review in reviews]))
    return query.where(Pledge.status == status).order_by(Pledge.updated_at.desc())


# A group: pledges to its needs that it has not accepted or declined yet.
pledges_to_answer = TaskKind(
    rows=lambda user: _pledges(user, Role.COMMUNITY, PledgeStatus.PROPOSED),
    task=_pledge_task("pledge_to_answer", lambda p: f"Accept or decline {_pledge_title(p)}"),
    load=_FOR_TITLE,
)

# A group: delivered pledges whose evidence the council accepted, waiting for the group to confirm.
deliveries_to_confirm = TaskKind(
    rows=lambda user: _pledges(user, Role.COMMUNITY, PledgeStatus.DELIVERED, EvidenceReview.ACCEPTED),
    task=_pledge_task("delivery_to_confirm", lambda p: f"Confirm delivery of {_pledge_title(p)}"),
    load=_FOR_TITLE,
)

# A supplier: groups' requests for its offers, to turn into a pledge or decline.
requests_to_answer = TaskKind(
    rows=lambda user: (
        select(OfferRequest)
        .join(Offer, OfferRequest.offer_id == Offer.id)
        .where(Offer.organisation_id == user.organisation_id, OfferRequest.status == RequestStatus.OPEN)
        .order_by(OfferRequest.created_at.desc())
        if user.role is Role.SUPPLIER
        else None
    ),
    task=lambda r: Task(
        "request_to_answer",
        f"Answer {r.organisation.name}'s request for “{r.offer.title}”",
        f"/requests/{r.id}",
        r.created_at,
    ),
    load=(selectinload(OfferRequest.offer), selectinload(OfferRequest.organisation)),
)


def _for_need(pledge: Pledge) -> str:
    return f"{amount(pledge.quantity, pledge.measure.unit)} for “{pledge.need.title}”"


# A supplier: approved pledges to deliver and then mark delivered.
pledges_to_deliver = TaskKind(
    rows=lambda user: _pledges(user, Role.SUPPLIER, PledgeStatus.APPROVED),
    task=_pledge_task(
        "pledge_to_deliver",
        lambda p: (
            f"Deliver {_for_need(p)}"
            + (f" by {p.deliver_by.day} {p.deliver_by:%B %Y}" if p.deliver_by else "")
            + ", then mark it delivered"
        ),
    ),
    load=(selectinload(Pledge.need), selectinload(Pledge.measure)),
)

# An officer: organisations waiting for the council's check.
organisations_to_verify = TaskKind(
    rows=lambda user: (
        select(Organisation)
        .where(Organisation.verification == Verification.PENDING)
        .order_by(Organisation.created_at.desc())
        if user.is_officer
        else None
    ),
    task=lambda o: Task(
        "organisation_to_verify", f"Verify or reject {o.name}", f"/officer/organisations/{o.id}", o.created_at
    ),
    heading="Organisations to verify",
    where="/officer/organisations",
)

# An officer: delivered pledges whose evidence waits for the council's check, or that a group disputes.
evidence_to_review = TaskKind(
    rows=lambda user: (
        select(Pledge)
        .where(
            Pledge.status == PledgeStatus.DELIVERED,
            Pledge.evidence_review.in_([EvidenceReview.WAITING.value, EvidenceReview.DISPUTED.value]),
        )
        .order_by(Pledge.updated_at.desc())
        if user.is_officer
        else None
    ),
    task=_pledge_task(
        "evidence_to_review",
        lambda p: (
            (
                "Look into the group's problem with "
                if p.evidence_review == EvidenceReview.DISPUTED.value
                else "Check the delivery evidence for "
            )
            + _pledge_title(p)
        ),
    ),
    load=_FOR_TITLE,
    heading="Delivery evidence to check",
    where="/officer/pledges#evidence",
)

# A supplier: delivered pledges for which the council asked for more evidence.
evidence_asked_for = TaskKind(
    rows=lambda user: _pledges(user, Role.SUPPLIER, PledgeStatus.DELIVERED, EvidenceReview.MORE_NEEDED),
    task=_pledge_task("evidence_asked_for", lambda p: f"Add the evidence the council asked for: {_for_need(p)}"),
    load=(selectinload(Pledge.need), selectinload(Pledge.measure)),
)

# An officer: pledges a group accepted, waiting for approval.
pledges_to_approve = TaskKind(
    rows=lambda user: (
        select(Pledge).where(Pledge.status == PledgeStatus.ACCEPTED).order_by(Pledge.updated_at.desc())
        if user.is_officer
        else None
    ),
    task=_pledge_task("pledge_to_approve", lambda p: f"Approve or reject {_pledge_title(p)}"),
    load=_FOR_TITLE,
    heading="Pledges to approve",
    where="/officer/pledges",
)

# An officer: pledges proposed or approved that nobody has moved for two weeks (the pledge
# list's "stuck" filter, in the list's order).
stuck_pledges = TaskKind(
    rows=lambda user: pledges_query(user, PledgeFilters(unchanged_before=stuck_since())) if user.is_officer else None,
    task=_pledge_task(
        "stuck_pledge",
        lambda p: f"Chase {_pledge_title(p)}: {p.status.value} and unchanged for over {STUCK_AFTER.days} days",
    ),
    load=_FOR_TITLE,
    heading=f"Pledges unchanged for over {STUCK_AFTER.days} days, to chase",
    where="/officer/pledges/all?status=stuck",
)


def stuck_since() -> datetime:
    """Pledges unchanged since before this are stuck."""
    return utcnow() - STUCK_AFTER


# A member: people who registered naming the organisation and confirmed their address.
people_asking_to_join = TaskKind(
    rows=lambda user: (
        select(JoinRequest)
        .where(
            JoinRequest.organisation_id == user.organisation_id,
            JoinRequest.confirmed_at.is_not(None),
            JoinRequest.decision.is_(None),
        )
        .order_by(JoinRequest.confirmed_at.desc())
        if not user.is_officer
        else None
    ),
    task=lambda r: Task(
        "join_request", f"Let {r.name} join your organisation, or refuse", "/account/team", r.confirmed_at
    ),
)


def _newest_from_the_other_side(user: User, column: Any, in_scope: ColumnElement[bool]) -> Select | None:
    # A group or supplier: conversations whose newest message came from the other side.
    if user.is_officer:
        return None
    newest = select(func.max(Message.id)).where(in_scope).group_by(column)
    return (
        select(Message)
        .where(Message.id.in_(newest), Message.organisation_id != user.organisation_id)
        .order_by(Message.id.desc())
    )


def _reply(message: Message) -> Task:
    who = message.author.name if message.author else "A former member"
    if message.pledge_id is not None:
        return Task("message", f"Reply to {who} about a pledge", f"/pledges/{message.pledge_id}#messages",
                    message.created_at)  # fmt: skip
    return Task("message", f"Reply to {who} about a request", f"/requests/{message.request_id}#messages",
                message.created_at)  # fmt: skip


# A group or supplier: conversations about pledges, then about requests, whose newest
# message came from the other side.
messages_about_pledges = TaskKind(
    rows=lambda user: _newest_from_the_other_side(
        user,
        Message.pledge_id,
        Message.pledge_id.in_(
            select(Pledge.id)
            .join(Need, Pledge.need_id == Need.id)
            .where((Pledge.supplier_id == user.organisation_id) | (Need.organisation_id == user.organisation_id))
        ),
    ),
    task=_reply,
    load=(selectinload(Message.author),),
)
messages_about_requests = TaskKind(
    rows=lambda user: _newest_from_the_other_side(
        user,
        Message.request_id,
        Message.request_id.in_(
            select(OfferRequest.id)
            .join(Offer, OfferRequest.offer_id == Offer.id)
            .where(
                (OfferRequest.organisation_id == user.organisation_id) | (Offer.organisation_id == user.organisation_id)
            )
        ),
    ),
    task=_reply,
    load=(selectinload(Message.author),),
)


# Every kind of task, in one list: add a kind here to add it everywhere.
TASK_KINDS: list[TaskKind] = [
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
    messages_about_pledges,
    messages_about_requests,
]


def tasks_for(session: Session, actor: User | None) -> TaskList:
    """Everything waiting for the person, newest first.

    Raises:
        NotSignedIn: for a visitor.
    """
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    items = [task for kind in TASK_KINDS for task in kind.tasks(session, user)]
    items.sort(key=lambda task: task.since, reverse=True)
    return TaskList(items)


_THEIR_ORGANISATION: BindParameter[int] = bindparam("organisation_id")


@dataclass(frozen=True)
class _AnyMember:
    """Any group member or supplier, in a statement built once: their organisation is a parameter."""

    role: Role
    organisation_id: BindParameter[int] = _THEIR_ORGANISATION
    is_officer: bool = False


@dataclass(frozen=True)
class Waiting:
    """How many tasks of one kind wait for the person (at most ``LIMIT``: the list's own cut-off)."""

    kind: TaskKind
    count: int

    @property
    def at_limit(self) -> bool:
        """True when there may be more than the count says."""
        return self.count >= LIMIT


def _count_statement(user: User | _AnyMember) -> tuple[list[TaskKind], Select]:
    kinds, counts = [], []
    for kind in TASK_KINDS:
        if (query := kind.rows(user)) is not None:  # type: ignore[arg-type]
            kinds.append(kind)
            counts.append(
                select(func.count()).select_from(query.order_by(None).limit(LIMIT).subquery()).scalar_subquery()
            )
    return kinds, select(*counts)


_MEMBERS_COUNT = {role: _count_statement(_AnyMember(role)) for role in (Role.COMMUNITY, Role.SUPPLIER)}


def waiting_by_kind(session: Session, actor: User | None) -> list[Waiting]:
    """How many tasks of each kind that concerns the person ``tasks_for`` lists, counted in one query.

    The navigation shows their sum on every page (``waiting_count``) and the officer's dashboard
    each one, so the figures always add up: counting the same rows (at most ``LIMIT`` of each
    kind) in one round trip, with a statement built once per role, costs a fraction of reading
    them as tasks.

    Raises:
        NotSignedIn: for a visitor.
    """
    user = require_role(actor, Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    if user.is_officer:  # the officer's kinds read the clock (stuck pledges): built each time
        kinds, statement = _count_statement(user)
        counts = tuple(session.execute(statement).one())
    else:
        kinds, statement = _MEMBERS_COUNT[user.role]
        role, organisation_id = user.role, user.organisation_id

        def count() -> tuple[int, ...]:
            return tuple(session.execute(statement, {"organisation_id": organisation_id}).one())

        # A member's counts depend on the database alone: counted again once anything changes.
        counts = kept_for_state(session, ("waiting", role, organisation_id), count)
    return [Waiting(kind, count) for kind, count in zip(kinds, counts, strict=True)]


def waiting_count(session: Session, actor: User | None) -> int:
    """How many tasks ``tasks_for`` lists for the person: the sum of ``waiting_by_kind``.

    Raises:
        NotSignedIn: for a visitor.
    """
    return sum(waiting.count for waiting in waiting_by_kind(session, actor))
