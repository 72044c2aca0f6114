"""Queueing e-mails: written in the same transaction as the change that causes them.

The sender (``marketplace.mail``) delivers them after commit and retries failures, so a
mail server that is down never loses or blocks the change itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.models import Notification, Role, User

# Set in ``session.info`` when e-mails were queued, so the commit point knows to wake the sender.
MAIL_QUEUED = "marketplace.mail_queued"

SIGN_OFF = "\n\n— The Social Value Marketplace\nYou get this e-mail because of your account on the marketplace."


def queue_email(session: Session, to: Iterable[str], subject: str, body: str) -> list[Notification]:
    """Queue one e-mail per recipient (duplicates and blanks dropped)."""
    notifications = [
        Notification(to_email=address, subject=subject[:200], body=body + SIGN_OFF)
        for address in dict.fromkeys(a for a in to if a)
    ]
    session.add_all(notifications)
    if notifications:
        session.info[MAIL_QUEUED] = True
    return notifications


def members_of(session: Session, organisation_id: int) -> list[str]:
    """E-mail addresses of an organisation's active members."""
    return list(
        session.scalars(
            select(User.email).where(User.organisation_id == organisation_id, User.active).order_by(User.id)
        )
    )


def officers(session: Session) -> list[str]:
    """E-mail addresses of the council's active officers."""
    return list(session.scalars(select(User.email).where(User.role == Role.OFFICER, User.active).order_by(User.id)))
