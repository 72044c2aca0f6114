"""Queueing e-mails: written in the same transaction as the change that causes them.

The sender (``marketplace.mail``) delivers them after commit and retries failures, so a
mail server that is down never loses or blocks the change itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import Notification, Role, User
from marketplace.validation import FieldErrors, clean_choice

log = logging.getLogger(__name__)

# Set in ``session.info`` when e-mails were queued, so the commit point knows to wake the sender.
MAIL_QUEUED = "marketplace.mail_queued"
# Set in ``session.info`` by whoever opens the session (see ``use_site_url``): the address
# e-mailed links start with. The request scope sets MARKETPLACE_BASE_URL, or the request's
# host; CLI commands set MARKETPLACE_BASE_URL, or the address they serve at.
SITE_URL = "marketplace.site_url"
# Where links point when nothing else says: the address `marketplace serve` listens on by
# default. A deployment sets MARKETPLACE_BASE_URL, so its e-mails never carry this.
LOCAL_SITE_URL = "http://localhost:5000"

# What a person may choose to get (see ``User.email_preference``).
EACH_EVENT = "each"
DAILY_SUMMARY = "daily"
ESSENTIAL_ONLY = "essential"
EMAIL_PREFERENCES = {
    EACH_EVENT: "An email for each thing that happens",
    DAILY_SUMMARY: "One email a day summarising what happened",
    ESSENTIAL_ONLY: "Only essential emails (sign-in links, invitations, decisions about your organisation)",
}

SIGN_OFF = "\n\n— The Social Value Marketplace\nYou get this email because of your account on the marketplace."


def use_site_url(session: Session, base_url: str | None) -> None:
    """Make the links in e-mails queued in this session start with ``base_url`` (unset: the local address)."""
    session.info[SITE_URL] = base_url or LOCAL_SITE_URL


def site_link(session: Session, path: str) -> str:
    """An absolute link to a page of the site, for an e-mail: every e-mailed link is built here.

    A bare path would be no use in a mail program, so a session nobody set an address on
    (a script's, a test's) gets the local one.
    """
    return absolute_link(session.info.get(SITE_URL) or LOCAL_SITE_URL, path)


def absolute_link(base_url: str, path: str) -> str:
    """``path`` (``/pledges/7``) on the site at ``base_url`` (``https://host`` or ``https://host/prefix/``)."""
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def queue_email(
    session: Session, to: Iterable[str], subject: str, body: str, *, essential: bool = True
) -> list[Notification]:
    """Queue one e-mail per recipient (duplicates and blanks dropped).

    ``essential=False`` marks news about someone's work (a pledge, a request, a message):
    it follows each recipient's e-mail preference, so it is dropped for those who want only
    essential e-mails and held for the daily summary of those who chose one.
    """
    addresses = list(dict.fromkeys(a for a in to if a))
    held: set[str] = set()
    if not essential and addresses:
        rows = session.execute(select(User.email, User.email_preference).where(User.email.in_(addresses)))
        preferences = {email: preference for email, preference in rows}
        addresses = [a for a in addresses if preferences.get(a) != ESSENTIAL_ONLY]
        held = {a for a in addresses if preferences.get(a) == DAILY_SUMMARY}
    notifications = [
        Notification(
            to_email=address,
            subject=subject[:200],
            body=body if address in held else body + SIGN_OFF,
            summary=address in held,
            # Held for the daily summary: the sender leaves it alone (see ``send_daily_summaries``).
            next_attempt_at=FAR_FUTURE if address in held else utcnow(),
        )
        for address in addresses
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


# Held e-mails wait here until the daily summary gathers them.
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def set_email_preference(session: Session, user: User, preference: object) -> None:
    """Choose which e-mails the person gets.

    Raises:
        ValidationFailed: for anything but the choices offered (missing, unknown or not text).
    """
    errors = FieldErrors()
    choice = clean_choice(
        {"email_preference": preference},
        "email_preference",
        set(EMAIL_PREFERENCES),
        "Select which emails you want to get",
        errors,
    )
    errors.raise_if_any()
    assert choice is not None
    user.email_preference = choice
    session.flush()
    log.info("e-mail preference changed", extra={"user_id": user.id, "preference": preference})


def send_daily_summaries(session: Session) -> int:
    """Gather each person's held e-mails into one summary e-mail; returns how many were queued."""
    held = list(
        session.scalars(
            select(Notification)
            .where(Notification.summary, Notification.sent_at.is_(None))
            .order_by(Notification.to_email, Notification.id)
        )
    )
    by_address: dict[str, list[Notification]] = {}
    for item in held:
        by_address.setdefault(item.to_email, []).append(item)
    now = utcnow()
    for address, items in by_address.items():
        parts = [f"{n.subject}\n{'-' * min(len(n.subject), 60)}\n{n.body}" for n in items]
        count = "1 thing" if len(items) == 1 else f"{len(items)} things"
        queue_email(
            session,
            [address],
            f"Your daily summary: {count} happened on the marketplace",
            "Hello,\n\nThis is your daily summary. You can choose to get an email for each event, or only "
            f"essential ones, on your account page: {site_link(session, '/account')}\n\n" + "\n\n".join(parts),
        )
        for item in items:
            item.sent_at = now  # delivered inside the summary
    session.flush()
    log.info("daily summaries queued", extra={"summaries": len(by_address), "held": len(held)})
    return len(by_address)
