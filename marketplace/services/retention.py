"""How long the marketplace keeps what it holds about people, and the purge that enforces it.

The privacy notice states these periods (its wording reads them from ``RETENTION``), and
``marketplace purge``, run daily like ``expire-needs``, deletes what has outlived them.
The organisations' records (needs, offers, pledges, the audit log) are the council's
account of social value and are not purged here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from marketplace.models import (
    ApiToken,
    AuditEntry,
    Contract,
    Feedback,
    MeasureProxy,
    Need,
    Notification,
    Offer,
    Organisation,
    Pledge,
    PledgeEvent,
    User,
    Verification,
)
from marketplace.services.personal_data import CLOSED_EMAIL_DOMAIN

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Retention:
    """Days each kind of record is kept."""

    sent_email_days: int = 90  # an e-mail in the outbox, counted from when it was sent
    unsent_email_days: int = 30  # an e-mail that could not be sent, counted from when it was queued
    closed_account_days: int = 30  # the erased record of e-mails to a closed account
    unconfirmed_account_days: int = 30  # a registration whose confirmation link was never opened
    revoked_token_days: int = 30  # an API token after it was revoked
    feedback_days: int = 730  # feedback on the service

    def placeholders(self) -> dict[str, str]:
        """The periods by name, for the privacy notice's wording."""
        return {name: str(days) for name, days in asdict(self).items()}


RETENTION = Retention()


@dataclass(frozen=True)
class PurgeCounts:
    """How many records of each kind one purge deleted."""

    sent_emails: int
    unsent_emails: int
    closed_account_emails: int
    unconfirmed_accounts: int
    revoked_tokens: int
    feedback: int

    def describe(self) -> str:
        """One line for the command's output."""
        return (
            f"Deleted {self.sent_emails} sent emails, {self.unsent_emails} emails that could not be sent, "
            f"{self.closed_account_emails} email records of closed accounts, "
            f"{self.unconfirmed_accounts} accounts never confirmed, {self.revoked_tokens} revoked API tokens "
            f"and {self.feedback} old feedback comments."
        )


def _deleted(session: Session, statement) -> int:
    return session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0


def _unconfirmed_accounts(session: Session, before: datetime) -> list[User]:
    """Accounts never confirmed that nothing else refers to (they could never sign in, so it is rare)."""
    referenced = [
        exists().where(column == User.id)
        for column in (
            AuditEntry.actor_id,
            Need.created_by_id,
            Offer.created_by_id,
            Pledge.created_by_id,
            PledgeEvent.actor_id,
            MeasureProxy.set_by_id,
        )
    ]
    query = select(User).where(
        User.email_confirmed_at.is_(None), User.closed_at.is_(None), User.created_at < before, *(~r for r in referenced)
    )
    return list(session.scalars(query))


def _organisation_is_empty(session: Session, organisation_id: int) -> bool:
    for column in (
        User.organisation_id,
        Need.organisation_id,
        Offer.organisation_id,
        Pledge.supplier_id,
        Contract.supplier_id,
    ):
        if session.scalar(select(exists().where(column == organisation_id))):
            return False
    return True


def purge(session: Session, now: datetime, retention: Retention = RETENTION) -> PurgeCounts:
    """Delete what has been kept longer than ``retention`` says, as of ``now``. Flushes, never commits."""

    def ago(days: int) -> datetime:
        return now - timedelta(days=days)

    closed_domain = f"%@{CLOSED_EMAIL_DOMAIN}"
    closed_account_emails = _deleted(
        session,
        delete(Notification).where(
            Notification.to_email.like(closed_domain),
            Notification.to_email.in_(select(User.email).where(User.closed_at < ago(retention.closed_account_days))),
        ),
    )
    sent_emails = _deleted(
        session,
        delete(Notification).where(
            Notification.sent_at.is_not(None), Notification.sent_at < ago(retention.sent_email_days)
        ),
    )
    unsent_emails = _deleted(
        session,
        delete(Notification).where(
            Notification.sent_at.is_(None), Notification.created_at < ago(retention.unsent_email_days)
        ),
    )
    revoked_tokens = _deleted(
        session,
        delete(ApiToken).where(
            ApiToken.revoked_at.is_not(None), ApiToken.revoked_at < ago(retention.revoked_token_days)
        ),
    )
    feedback = _deleted(session, delete(Feedback).where(Feedback.created_at < ago(retention.feedback_days)))

    unconfirmed = _unconfirmed_accounts(session, ago(retention.unconfirmed_account_days))
    organisations = {user.organisation_id for user in unconfirmed}
    for user in unconfirmed:
        session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
        session.execute(delete(Notification).where(Notification.to_email == user.email))
        session.delete(user)
    session.flush()
    for organisation_id in organisations:
        organisation = session.get(Organisation, organisation_id)
        # Only an organisation nobody verified, left with no members and no records, goes with them.
        if (
            organisation is not None
            and organisation.verification is not Verification.VERIFIED
            and _organisation_is_empty(session, organisation_id)
        ):
            session.delete(organisation)
    session.flush()
    counts = PurgeCounts(
        sent_emails=sent_emails,
        unsent_emails=unsent_emails,
        closed_account_emails=closed_account_emails,
        unconfirmed_accounts=len(unconfirmed),
        revoked_tokens=revoked_tokens,
        feedback=feedback,
    )
    log.info("purge done", extra={"deleted": asdict(counts)})
    return counts
