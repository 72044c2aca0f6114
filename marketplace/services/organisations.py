"""Organisations: the officer's verification work."""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import Organisation, OrganisationKind, Role, User, Verification
from marketplace.services.accounts import require_role
from marketplace.services.errors import InvalidTransition, NotFound, ValidationFailed
from marketplace.services.paging import Page, paginate

log = logging.getLogger(__name__)


def list_organisations(
    session: Session,
    actor: User | None,
    *,
    verified: bool | None = None,
    verification: Verification | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page[Organisation]:
    """Organisations other than the council, oldest first, for officers.

    Args:
        verified: True for verified only, False for those not (yet) verified.
        verification: a single verification state to list.
    """
    require_role(actor, Role.OFFICER)
    query = select(Organisation).where(Organisation.kind != OrganisationKind.COUNCIL)
    if verified is True:
        query = query.where(Organisation.verification == Verification.VERIFIED)
    elif verified is False:
        query = query.where(Organisation.verification != Verification.VERIFIED)
    if verification is not None:
        query = query.where(Organisation.verification == verification)
    return paginate(session, query.order_by(Organisation.created_at, Organisation.id), page, per_page)


def get_organisation(session: Session, organisation_id: int) -> Organisation:
    """The organisation with this id.

    Raises:
        NotFound: when there is none.
    """
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("There is no such organisation")
    return organisation


def count_waiting(session: Session) -> int:
    """How many organisations wait for an officer's check."""
    return (
        session.scalar(
            select(func.count()).select_from(Organisation).where(Organisation.verification == Verification.PENDING)
        )
        or 0
    )


def verify_organisation(session: Session, actor: User | None, organisation_id: int) -> Organisation:
    """An officer confirms the organisation is real; its needs and offers become public.

    Raises:
        InvalidTransition: when it is already verified.
    """
    officer = require_role(actor, Role.OFFICER)
    organisation = get_organisation(session, organisation_id)
    if organisation.verification is Verification.VERIFIED:
        raise InvalidTransition(f"{organisation.name} is already verified")
    organisation.verification = Verification.VERIFIED
    organisation.verification_note = None
    organisation.verified_at = utcnow()
    session.flush()
    log.info("organisation verified", extra={"organisation_id": organisation.id, "officer_id": officer.id})
    return organisation


def reject_organisation(session: Session, actor: User | None, organisation_id: int, reason: str = "") -> Organisation:
    """An officer rejects the organisation, giving a reason its members will see.

    Raises:
        InvalidTransition: when it is already rejected.
        ValidationFailed: when the reason is too long.
    """
    officer = require_role(actor, Role.OFFICER)
    organisation = get_organisation(session, organisation_id)
    reason = reason.strip()
    if len(reason) > 500:
        raise ValidationFailed({"reason": "The reason must be 500 characters or fewer"})
    if organisation.verification is Verification.REJECTED:
        raise InvalidTransition(f"{organisation.name} is already rejected")
    organisation.verification = Verification.REJECTED
    organisation.verification_note = reason or None
    organisation.verified_at = None
    session.flush()
    log.info("organisation rejected", extra={"organisation_id": organisation.id, "officer_id": officer.id})
    return organisation


def list_organisations_of_kind(session: Session, kind: OrganisationKind) -> list[Organisation]:
    """Every organisation of one kind, by name (for officers' pick lists)."""
    return list(session.scalars(select(Organisation).where(Organisation.kind == kind).order_by(Organisation.name)))
