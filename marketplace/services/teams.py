"""Teams: the people of an organisation, inviting colleagues, removing them, and requests to join.

A member invites a colleague by e-mail: the link is signed, works for 7 days and once
(the invitation row records its use). Registering with the name of an organisation that
exists becomes a request to join it, which its members (or an officer) answer; the
registration page and e-mail are the same as for a new organisation, so nobody outside
learns whether an organisation of that name exists. An organisation is never left empty:
its last member cannot be removed.
"""

from __future__ import annotations

import logging

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.models import ApiToken, Invitation, JoinRequest, Organisation, User
from marketplace.services import accounts
from marketplace.services.account_links import NOT_VALID, LinkNotValid, LinkSettings
from marketplace.services.audit import record
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from marketplace.services.notifications import queue_email

log = logging.getLogger(__name__)

INVITATION_MAX_AGE_SECONDS = 7 * 24 * 60 * 60
_INVITE_SALT = "marketplace.invitation"


def _organisation_for(session: Session, actor: User | None, organisation_id: int) -> tuple[User, Organisation]:
    """The organisation, when the actor is one of its members or an officer.

    Raises:
        NotSignedIn; NotFound: anyone else (nobody outside learns who is in an organisation).
    """
    user = accounts.require_role(actor, *accounts.ROLE_FOR_KIND.values())
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or not (user.is_officer or user.organisation_id == organisation.id):
        raise NotFound("There is no such organisation")
    return user, organisation


def list_members(session: Session, actor: User | None, organisation_id: int) -> list[User]:
    """The organisation's active members, by name."""
    _, organisation = _organisation_for(session, actor, organisation_id)
    return list(
        session.scalars(
            select(User).where(User.organisation_id == organisation.id, User.active).order_by(User.name, User.id)
        )
    )


def _check_email(email: object) -> str:
    if not isinstance(email, str) or not email.strip():
        raise ValidationFailed({"email": "Enter the email address of the person to invite"})
    address = accounts.normalise_email(email)
    if not accounts.EMAIL_PATTERN.match(address) or len(address) > 254:
        raise ValidationFailed({"email": "Enter an email address in the correct format, like name@example.com"})
    return address


def _serializer(settings: LinkSettings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_INVITE_SALT)


def invite(
    session: Session, settings: LinkSettings, actor: User | None, organisation_id: int, email: object
) -> Invitation:
    """A member invites a colleague: an e-mail with a link that works for 7 days, once.

    Raises:
        NotFound: not the actor's organisation; Forbidden: an officer inviting to a group;
        ValidationFailed: a bad address, or one that already has an account.
    """
    user, organisation = _organisation_for(session, actor, organisation_id)
    if user.organisation_id != organisation.id:
        raise Forbidden("Only the organisation's own members can invite people to it")
    address = _check_email(email)
    existing = session.scalar(select(User).where(User.email == address))
    if existing is not None and existing.organisation_id == organisation.id and existing.active:
        raise ValidationFailed({"email": f"{address} is already a member of {organisation.name}"})
    if existing is not None:
        raise ValidationFailed(
            {
                "email": f"{address} already has an account with another organisation. A person belongs to one "
                "organisation: they can close that account first, or use another address"
            }
        )
    invitation = Invitation(organisation=organisation, email=address, invited_by=user)
    session.add(invitation)
    session.flush()
    token = _serializer(settings).dumps({"invitation": invitation.id, "email": address})
    queue_email(
        session,
        [address],
        f"{user.name} invites you to join {organisation.name} on the Social Value Marketplace",
        f"Hello,\n\n{user.name} ({user.email}) invites you to join {organisation.name} on the Social Value "
        "Marketplace, where community groups and council suppliers meet.\n\n"
        f"What happens next: open this link within 7 days, choose your name and a password, and you are in:\n\n"
        f"{settings.url('/join/' + token)}\n\nThe link works once. If you were not expecting this, ignore it.",
    )
    record(session, user, "organisation.invite", "organisation", organisation.id, None, {"invitation": invitation.id})
    log.info("invitation sent", extra={"organisation_id": organisation.id, "invitation_id": invitation.id})
    return invitation


def invitation_for_token(session: Session, settings: LinkSettings, token: str) -> Invitation:
    """The invitation a link was sent for, while the link is still good.

    Raises:
        LinkNotValid: unknown, older than 7 days, used already, or the address has an account now.
    """
    try:
        payload = _serializer(settings).loads(token, max_age=INVITATION_MAX_AGE_SECONDS)
    except SignatureExpired as error:
        raise LinkNotValid(
            "This invitation has expired: invitations work for 7 days. Ask your colleague to invite you again."
        ) from error
    except BadSignature as error:
        raise LinkNotValid(NOT_VALID) from error
    number = payload.get("invitation") if isinstance(payload, dict) else None
    invitation = session.get(Invitation, number) if isinstance(number, int) else None
    if invitation is None or invitation.email != payload.get("email"):
        raise LinkNotValid(NOT_VALID)
    if invitation.accepted_at is not None or session.scalar(select(User.id).where(User.email == invitation.email)):
        raise LinkNotValid("This invitation has already been used. Sign in instead.")
    return invitation


def accept_invitation(
    session: Session, settings: LinkSettings, token: str, name: str, password: str, confirmation: str
) -> User:
    """Join an organisation from an invitation link: the account is made, its address confirmed.

    Raises:
        LinkNotValid: see ``invitation_for_token``; ValidationFailed: no name, a weak password.
    """
    invitation = invitation_for_token(session, settings, token)
    fields: dict[str, str] = {}
    name = name.strip()
    if not name:
        fields["name"] = "Enter your full name"
    elif len(name) > 200:
        fields["name"] = "Your name must be 200 characters or fewer"
    try:
        # A transient user, never added: the check only reads the person's words, to refuse them as a password.
        accounts.set_password(User(email=invitation.email, name=name), password, confirmation)
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    organisation = invitation.organisation
    user = _add_member(session, organisation, name, invitation.email, accounts.hash_password(password))
    invitation.accepted_at = utcnow()
    session.flush()
    record(session, user, "organisation.join", "organisation", organisation.id, None, {"user": user.id})
    queue_email(
        session,
        [invitation.invited_by.email] if invitation.invited_by else [],
        f"{name} joined {organisation.name}",
        f"{name} accepted your invitation and is now a member of {organisation.name}.\n\n"
        f"See who is in your organisation:\n{settings.url('/account/team')}",
        essential=False,
    )
    log.info("invitation accepted", extra={"organisation_id": organisation.id, "user_id": user.id})
    return user


def _add_member(session: Session, organisation: Organisation, name: str, email: str, password_hash: str) -> User:
    user = User(
        name=name,
        email=email,
        password_hash=password_hash,
        role=accounts.ROLE_FOR_KIND[organisation.kind],
        organisation=organisation,
        # The link came to the address, so following it proves the address.
        email_confirmed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def remove_member(session: Session, actor: User | None, organisation_id: int, user_id: int) -> User:
    """A member (or an officer) removes someone from the organisation; they can no longer sign in.

    Raises:
        NotFound: not the actor's organisation, or nobody of that id in it;
        InvalidTransition: they are its last member.
    """
    user, organisation = _organisation_for(session, actor, organisation_id)
    member = session.get(User, user_id)
    if member is None or member.organisation_id != organisation.id or not member.active:
        raise NotFound("There is no such member of this organisation")
    active = session.scalar(
        select(func.count(User.id)).where(User.organisation_id == organisation.id, User.active)
    )  # fmt: skip
    if active <= 1:
        raise InvalidTransition(
            f"{member.name} is the last member of {organisation.name}, so they cannot leave: an organisation "
            "always needs someone to answer for it. Invite someone else first."
        )
    member.active = False
    session.execute(update(ApiToken).where(ApiToken.user_id == member.id).values(revoked_at=utcnow()))
    session.flush()
    record(session, user, "organisation.remove_member", "organisation", organisation.id, {"user": member.id}, None)
    queue_email(
        session,
        [member.email],
        f"You are no longer a member of {organisation.name}",
        f"Hello {member.name},\n\n{user.name} removed you from {organisation.name} on the Social Value "
        "Marketplace, so you can no longer sign in. If this is a mistake, ask them to invite you again.",
    )
    log.info("member removed", extra={"organisation_id": organisation.id, "user_id": member.id})
    return member


# --- requests to join, from registration ------------------------------------------------------


def join_requests(session: Session, actor: User | None, organisation_id: int) -> list[JoinRequest]:
    """Confirmed requests to join the organisation, not yet answered."""
    _, organisation = _organisation_for(session, actor, organisation_id)
    return list(
        session.scalars(
            select(JoinRequest)
            .where(
                JoinRequest.organisation_id == organisation.id,
                JoinRequest.confirmed_at.is_not(None),
                JoinRequest.decision.is_(None),
            )
            .order_by(JoinRequest.confirmed_at)
        )
    )


def answer_join_request(
    session: Session, settings: LinkSettings, actor: User | None, join_id: int, *, let_in: bool
) -> JoinRequest:
    """A member or an officer lets the person in (their account is made) or refuses.

    Raises:
        NotFound: not a request the actor may answer; InvalidTransition: answered already,
        or the address has an account by now.
    """
    join = session.get(JoinRequest, join_id)
    if join is None or join.confirmed_at is None:
        raise NotFound("There is no such request to join")
    user, organisation = _organisation_for(session, actor, join.organisation_id)
    if join.decision is not None:
        raise InvalidTransition(f"This request was {join.decision} already")
    join.decision = "accepted" if let_in else "refused"
    join.decided_by_id = user.id
    join.decided_at = utcnow()
    if let_in:
        if session.scalar(select(User.id).where(User.email == join.email)) is not None:
            raise InvalidTransition(f"{join.email} has an account already")
        member = _add_member(session, organisation, join.name, join.email, join.password_hash)
        queue_email(
            session,
            [join.email],
            f"You are now a member of {organisation.name}",
            f"Hello {join.name},\n\n{user.name} let you in to {organisation.name} on the Social Value Marketplace."
            f"\n\nWhat happens next: sign in with the password you chose:\n{settings.url('/sign-in')}",
        )
        record(session, user, "organisation.join", "organisation", organisation.id, None, {"user": member.id})
    else:
        queue_email(
            session,
            [join.email],
            "Your registration on the Social Value Marketplace",
            f"Hello {join.name},\n\nThe organisation you named did not recognise you, so no account was made. "
            "If this is a mistake, ask a colleague to invite you, or contact the council's social value team.",
        )
    join.password_hash = "!answered"  # not kept longer than needed
    session.flush()
    log.info("request to join answered", extra={"join_request_id": join.id, "decision": join.decision})
    return join
