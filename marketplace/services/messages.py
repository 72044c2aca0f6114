"""Messages on a pledge or a request, between the group, the supplier and council officers.

Plain text only: markup is refused rather than stored, and every page escapes what it
shows. Each new message is e-mailed, with a link, to the other side (and to officers who
have written in the conversation). People may write a few messages a minute, not a flood:
the limit is counted in the database, so it holds across every app server.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import Message, OfferRequest, Pledge, User
from marketplace.services import offer_requests, pledges
from marketplace.services.errors import RateLimited, ValidationFailed
from marketplace.services.notifications import members_of, queue_email, site_link

log = logging.getLogger(__name__)

BODY_MAX = 5000
# At most this many messages by one person in the window.
RATE_LIMIT = 10
RATE_WINDOW = timedelta(minutes=10)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>")


@dataclass(frozen=True)
class Conversation:
    """What a message belongs to: a pledge or a request, its title, page and the two organisations."""

    pledge: Pledge | None
    request: OfferRequest | None

    @property
    def path(self) -> str:
        """The page the conversation is on."""
        if self.pledge is not None:
            return f"/pledges/{self.pledge.id}#messages"
        assert self.request is not None
        return f"{offer_requests.request_path(self.request)}#messages"

    @property
    def title(self) -> str:
        """How e-mails name it."""
        if self.pledge is not None:
            return f"the pledge for “{self.pledge.need.title}”"
        assert self.request is not None
        return f"the request for “{self.request.offer.title}”"

    @property
    def organisation_ids(self) -> tuple[int, int]:
        """The group's and the supplier's organisation."""
        if self.pledge is not None:
            return self.pledge.need.organisation_id, self.pledge.supplier_id
        assert self.request is not None
        return self.request.organisation_id, self.request.offer.organisation_id

    def where(self):
        """The messages of this conversation, as a query condition."""
        if self.pledge is not None:
            return Message.pledge_id == self.pledge.id
        assert self.request is not None
        return Message.request_id == self.request.id


def conversation(
    session: Session, actor: User | None, *, pledge_id: int | None = None, request_id: int | None = None
) -> Conversation:
    """The pledge or request the actor is part of.

    Raises:
        NotSignedIn; NotFound: when there is none or the actor is not part of it.
    """
    if pledge_id is not None:
        return Conversation(pledges.get_pledge(session, actor, pledge_id), None)
    assert request_id is not None
    return Conversation(None, offer_requests.get_request(session, actor, request_id))


def list_messages(session: Session, about: Conversation) -> list[Message]:
    """The conversation's messages, oldest first."""
    return list(session.scalars(select(Message).where(about.where()).order_by(Message.id)))


def clean_body(body: object) -> str:
    """A message's text, checked.

    Raises:
        ValidationFailed: empty, too long, not text or with markup in it.
    """
    if not isinstance(body, str) or not body.strip():
        raise ValidationFailed({"body": "Enter a message"})
    text = body.strip()
    if len(text) > BODY_MAX:
        raise ValidationFailed({"body": f"The message must be {BODY_MAX:,} characters or fewer"})
    if "\x00" in text:
        raise ValidationFailed({"body": "The message must not contain control characters"})
    if _TAG.search(text):
        raise ValidationFailed({"body": "Write the message as plain text, without HTML tags such as <b> or <a>"})
    return text


def post_message(session: Session, actor: User | None, about: Conversation, body: object) -> Message:
    """Add a message to a conversation and e-mail the others in it a link.

    Raises:
        ValidationFailed: see ``clean_body``; RateLimited: too many messages lately.
    """
    assert actor is not None  # ``conversation`` checked who may take part
    text = clean_body(body)
    since = utcnow() - RATE_WINDOW
    recent, oldest = session.execute(
        select(func.count(Message.id), func.min(Message.created_at)).where(
            Message.author_id == actor.id, Message.created_at >= since
        )
    ).one()
    if recent >= RATE_LIMIT:
        # The window frees a place when its oldest message leaves it.
        wait = (oldest + RATE_WINDOW - utcnow()).total_seconds()
        raise RateLimited(
            f"You have sent {RATE_LIMIT} messages in the last {int(RATE_WINDOW.total_seconds() // 60)} minutes. "
            "Wait a few minutes and try again.",
            retry_after=int(wait) + 1,
        )
    message = Message(
        pledge_id=about.pledge.id if about.pledge else None,
        request_id=about.request.id if about.request else None,
        author=actor,
        organisation_id=actor.organisation_id,
        body=text,
    )
    session.add(message)
    session.flush()
    group_id, supplier_id = about.organisation_ids
    recipients = members_of(session, group_id) + members_of(session, supplier_id)
    # Officers hear of a conversation they have taken part in.
    recipients += list(
        session.scalars(
            select(User.email)
            .join(Message, Message.author_id == User.id)
            .where(about.where(), User.organisation_id.not_in((group_id, supplier_id)), User.active)
            .distinct()
        )
    )
    preview = text if len(text) <= 600 else text[:600] + "…"
    queue_email(
        session,
        [address for address in recipients if address != actor.email],
        f"New message about {about.title}"[:200],
        f"{actor.name} ({actor.organisation.name}) wrote about {about.title}:\n\n{preview}\n\n"
        f"What happens next: read it and reply on the marketplace:\n{site_link(session, about.path)}",
        essential=False,
    )
    log.info(
        "message posted",
        extra={"message_id": message.id, "pledge_id": message.pledge_id, "request_id": message.request_id},
    )
    return message
