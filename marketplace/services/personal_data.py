"""A person's own data: a copy to download, and closing the account (UK GDPR access and erasure).

Closing erases what identifies the person — name, e-mail address, password, API tokens and
the e-mails we sent them — but keeps their organisation's records: the needs, offers and
pledges they posted, and the audit log, stay complete, with the person shown as a former
member. The council must still be able to account for social value it reported, so those
records are the organisation's, not the person's.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import (
    ApiToken,
    AuditEntry,
    Need,
    Notification,
    Offer,
    Pledge,
    PledgeEvent,
    SavedSearch,
    User,
)
from marketplace.services import accounts
from marketplace.services.audit import record
from marketplace.services.errors import ValidationFailed
from marketplace.services.saved_searches import saved_search_fields

log = logging.getLogger(__name__)

FORMER_MEMBER = "Former member"
CLOSED_EMAIL_DOMAIN = "closed.invalid"


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def personal_data(session: Session, user: User) -> dict[str, object]:
    """Everything the marketplace holds about ``user``, as plain JSON-ready data."""
    tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    posted_needs = session.scalars(select(Need).where(Need.created_by_id == user.id).order_by(Need.id))
    posted_offers = session.scalars(select(Offer).where(Offer.created_by_id == user.id).order_by(Offer.id))
    made_pledges = session.scalars(select(Pledge).where(Pledge.created_by_id == user.id).order_by(Pledge.id))
    pledge_events = session.scalars(select(PledgeEvent).where(PledgeEvent.actor_id == user.id).order_by(PledgeEvent.id))
    actions = session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id))
    emails = session.scalars(select(Notification).where(Notification.to_email == user.email).order_by(Notification.id))
    return {
        "about": "Your data on the Social Value Marketplace, as held on the day of this download.",
        "downloaded_at": utcnow().isoformat(),
        "account": {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "role": user.role.value,
            "created_at": _when(user.created_at),
            "email_confirmed_at": _when(user.email_confirmed_at),
            "last_sign_in_at": _when(user.last_sign_in_at),
            "digest_enabled": user.digest_enabled,
            "last_digest_at": _when(user.last_digest_at),
            "email_preference": user.email_preference,
            "offer_alerts": user.offer_alerts,
        },
        "organisation": {
            "id": user.organisation.id,
            "name": user.organisation.name,
            "kind": user.organisation.kind.value,
        },
        "api_tokens": [
            {
                "name": token.name,
                "starts_with": token.prefix,
                "created_at": _when(token.created_at),
                "last_used_at": _when(token.last_used_at),
                "revoked_at": _when(token.revoked_at),
            }
            for token in tokens
        ],
        "saved_searches": [
            saved_search_fields(saved)
            for saved in session.scalars(
                select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id)
            )
        ],
        "needs_posted": [
            {"id": need.id, "title": need.title, "status": need.status.value, "created_at": _when(need.created_at)}
            for need in posted_needs
        ],
        "offers_posted": [
            {"id": offer.id, "title": offer.title, "status": offer.status.value, "created_at": _when(offer.created_at)}
            for offer in posted_offers
        ],
        "pledges_made": [
            {
                "id": pledge.id,
                "need_id": pledge.need_id,
                "status": pledge.status.value,
                "created_at": _when(pledge.created_at),
            }
            for pledge in made_pledges
        ],
        "pledge_steps": [
            {
                "pledge_id": event.pledge_id,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "note": event.note,
                "at": _when(event.at),
            }
            for event in pledge_events
        ],
        "actions_recorded": [
            {"at": _when(entry.at), "action": entry.action, "on": f"{entry.entity_type} {entry.entity_id}"}
            for entry in actions
        ],
        "emails_sent_to_you": [
            {
                "subject": email.subject,
                "body": email.body,
                "queued_at": _when(email.created_at),
                "sent_at": _when(email.sent_at),
            }
            for email in emails
        ],
    }


def close_account(session: Session, user: User, password: str) -> None:
    """Close ``user``'s account: erase what identifies them, keep their organisation's records.

    Raises:
        ValidationFailed: when the password is not the account's (so a borrowed, signed-in
            browser cannot close someone's account).
    """
    if accounts.authenticate(session, user.email, password) != user:
        raise ValidationFailed({"password": "Enter your current password to close your account"})
    old_email = user.email
    erased_email = f"closed-{user.id}@{CLOSED_EMAIL_DOMAIN}"
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    session.execute(delete(SavedSearch).where(SavedSearch.user_id == user.id))
    # E-mails still queued for them are not sent; those already sent are kept as a record
    # that they were sent, without the address or the words.
    session.execute(delete(Notification).where(Notification.to_email == old_email, Notification.sent_at.is_(None)))
    session.execute(
        update(Notification)
        .where(Notification.to_email == old_email)
        .values(to_email=erased_email, subject="(erased)", body="(erased when the account was closed)")
    )
    user.name = FORMER_MEMBER
    user.email = erased_email
    # Not an argon2 hash, so no password can ever match it.
    user.password_hash = "!closed"
    user.active = False
    user.digest_enabled = False
    user.last_sign_in_at = None
    user.closed_at = utcnow()
    record(session, user, "account.close", "user", user.id, None, {"closed_at": user.closed_at.isoformat()})
    session.flush()
    log.info("account closed", extra={"user_id": user.id})
