"""Organisations: the officer's verification work."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import JoinRequest, Need, Offer, Organisation, OrganisationKind, Role, User, Verification
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


@dataclass(frozen=True)
class OrganisationProfile:
    """What an officer reads before deciding about an organisation."""

    organisation: Organisation
    members: list[User]
    needs: list[Need]
    offers: list[Offer]
    joining: list[JoinRequest]

    @property
    def registered_by(self) -> User | None:
        """The first person of the organisation: the one who registered it."""
        return min(self.members, key=lambda m: (m.created_at, m.id), default=None)

    @property
    def charity_register_url(self) -> str | None:
        """The Charity Commission's page for its charity number."""
        number = (self.organisation.charity_number or "").strip()
        if not number:
            return None
        return (
            f"https://register-of-charities.charitycommission.gov.uk/charity-search/-/charity-details/{quote(number)}"
        )

    @property
    def company_register_url(self) -> str | None:
        """Companies House's page for its company number."""
        number = (self.organisation.company_number or "").strip().upper()
        if not number:
            return None
        return f"https://find-and-update.company-information.service.gov.uk/company/{quote(number)}"


def organisation_profile(session: Session, actor: User | None, organisation_id: int) -> OrganisationProfile:
    """Who registered an organisation, its members, what it posted and who asks to join (officers only).

    Raises:
        NotSignedIn, Forbidden: not an officer; NotFound: no such organisation.
    """
    require_role(actor, Role.OFFICER)
    organisation = get_organisation(session, organisation_id)
    members = list(session.scalars(select(User).where(User.organisation_id == organisation.id).order_by(User.id)))
    needs = list(
        session.scalars(
            select(Need).where(Need.organisation_id == organisation.id).order_by(Need.created_at.desc()).limit(50)
        )
    )
    offers = list(
        session.scalars(
            select(Offer).where(Offer.organisation_id == organisation.id).order_by(Offer.created_at.desc()).limit(50)
        )
    )
    joining = list(
        session.scalars(
            select(JoinRequest).where(
                JoinRequest.organisation_id == organisation.id,
                JoinRequest.confirmed_at.is_not(None),
                JoinRequest.decision.is_(None),
            )
        )
    )
    return OrganisationProfile(organisation, members, needs, offers, joining)
