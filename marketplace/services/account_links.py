"""Links e-mailed to people: confirming an e-mail address and resetting a forgotten password.

Each link carries a signed, time-limited token. Nothing about the token is stored: a reset
token includes a fingerprint of the password hash it was issued against, so it stops
working once it has been used (the password changes) and after an hour; a confirmation
token stops working once the address is confirmed.

The answers never say whether an address has an account: asking to reset a password, or
registering with an address that is already in use, looks the same from outside; the
e-mail tells the owner of the address what happened.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.formatting import count
from marketplace.models import JoinRequest, Organisation, User
from marketplace.services import accounts
from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.services.notifications import absolute_link, members_of, officers, queue_email
from marketplace.validation import local_path

log = logging.getLogger(__name__)

RESET_MAX_AGE_SECONDS = 60 * 60
CONFIRM_MAX_AGE_SECONDS = 3 * 24 * 60 * 60
_RESET_SALT = "marketplace.password-reset"
_CONFIRM_SALT = "marketplace.confirm-email"


class LinkNotValid(DomainError):
    """The link is not one we sent, has expired or has been used."""

    http_status = 400
    code = "link_not_valid"


class AlreadyConfirmed(LinkNotValid):
    """A confirmation link opened again: the address is confirmed already, so the person just carries on."""


@dataclass(frozen=True)
class LinkSettings:
    """What links need from the running app: the signing key and the site's address."""

    secret_key: str
    base_url: str

    def url(self, path: str) -> str:
        """An absolute address on this site."""
        return absolute_link(self.base_url, path)


NOT_VALID = "This link is not valid. Check you copied the whole link from the email."


def _serializer(settings: LinkSettings, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=salt)


def _payload(settings: LinkSettings, salt: str, token: str, max_age: int, expired: str) -> dict[str, object]:
    """What a link's token says, once its signature and age are checked."""
    try:
        payload = _serializer(settings, salt).loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise LinkNotValid(expired) from error
    except BadSignature as error:
        raise LinkNotValid(NOT_VALID) from error
    if not isinstance(payload, dict):
        raise LinkNotValid(NOT_VALID)
    return payload


def _can_use_links(user: User | None) -> bool:
    return user is not None and user.active and user.closed_at is None


def request_password_reset(session: Session, settings: LinkSettings, email: str) -> None:
    """E-mail a reset link if the address has an account; do nothing visible otherwise.

    Raises:
        ValidationFailed: when what was typed is not an e-mail address at all.
    """
    email = accounts.normalise_email(email)
    if not email:
        raise ValidationFailed({"email": "Enter the email address of your account"})
    if not accounts.EMAIL_PATTERN.match(email) or len(email) > 254:
        raise ValidationFailed({"email": "Enter an email address in the correct format, like name@example.com"})
    user = session.scalar(select(User).where(User.email == email))
    if not _can_use_links(user):
        log.info("password reset asked for an address without an active account")
        return
    assert user is not None
    token = _serializer(settings, _RESET_SALT).dumps({"user": user.id, "password": accounts.password_fingerprint(user)})
    link = settings.url(f"/reset-password/{token}")
    queue_email(
        session,
        [user.email],
        "Reset your password",
        f"Hello {user.name},\n\nSomeone (we hope you) asked to reset the password of your Social Value "
        f"Marketplace account. To choose a new password, open this link within an hour:\n\n{link}\n\n"
        "The link works once. If you did not ask for this, ignore this email: your password has not changed.",
    )
    log.info("password reset link sent", extra={"user_id": user.id})


def user_for_reset_token(session: Session, settings: LinkSettings, token: str) -> User:
    """The person a reset link was sent to, while the link is still good.

    Raises:
        LinkNotValid: when the link is unknown, older than an hour or already used.
    """
    payload = _payload(
        settings,
        _RESET_SALT,
        token,
        RESET_MAX_AGE_SECONDS,
        "This link has expired: links to reset a password work for an hour.",
    )
    user = session.get(User, payload.get("user")) if isinstance(payload.get("user"), int) else None
    fingerprint = payload.get("password", "")
    if (
        not _can_use_links(user)
        or not isinstance(fingerprint, str)
        or not hmac.compare_digest(fingerprint, accounts.password_fingerprint(user))
    ):
        raise LinkNotValid("This link has already been used. Ask for a new one if you still need to reset.")
    return user


def reset_password(session: Session, settings: LinkSettings, token: str, password: str, confirmation: str) -> User:
    """Set a new password from a reset link; the link stops working.

    Following the link proves the person reads the address's e-mail, so it also confirms it.
    Someone who resets may have lost control of the account, so every API token is revoked
    and every other signed-in session ends, and the e-mail says so.

    Raises:
        LinkNotValid: see ``user_for_reset_token``.
        ValidationFailed: when the new password is too short or the two do not match.
    """
    user = user_for_reset_token(session, settings, token)
    accounts.set_password(user, password, confirmation)
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    revoked = accounts.revoke_all_tokens(session, user)
    accounts.end_sessions(session, user)
    session.flush()
    tokens = (
        f" Your {count(revoked, 'API token')} {'was' if revoked == 1 else 'were'} revoked: create new ones "
        "on your account's API tokens page."
        if revoked
        else ""
    )
    queue_email(
        session,
        [user.email],
        "Your password has been changed",
        f"Hello {user.name},\n\nThe password of your Social Value Marketplace account has just been changed.{tokens} "
        "If this was not you, reset it again at once and tell your council's social value team.",
    )
    log.info("password reset", extra={"user_id": user.id})
    return user


def start_registration(
    session: Session, settings: LinkSettings, form: accounts.Registration, *, come_back_to: str | None = None
) -> None:
    """Register, then ask the person to confirm their address by e-mail.

    When the address already has an account, nothing is created and its owner is told by
    e-mail instead; the page shown is the same either way. ``come_back_to``, a path on this
    site (such as the need page a visitor started from), rides on the confirmation link so
    the person returns there after signing in.

    Raises:
        ValidationFailed: for anything else wrong with the form.
    """
    try:
        user = accounts.register(session, form, confirmed=False)
    except ValidationFailed as error:
        # Neither an address with an account nor an organisation that exists is said on the page.
        in_use = error.fields.get("email") == accounts.EMAIL_IN_USE
        existing = (
            accounts.organisation_by_name(session, form.organisation_name)
            if error.fields.get("organisation_name") == accounts.ORGANISATION_EXISTS
            else None
        )
        others = {
            field: message
            for field, message in error.fields.items()
            if not (field == "email" and in_use) and not (field == "organisation_name" and existing is not None)
        }
        if others or not (in_use or existing is not None):
            raise ValidationFailed(others or error.fields) from error
        if in_use:
            _tell_owner_of_address(session, settings, accounts.normalise_email(form.email))
            return
        assert existing is not None
        join = _request_to_join(session, existing, form)
        _send_confirmation_link(
            session, settings, {"join": join.id, "email": join.email}, join.name, existing.name, come_back_to
        )
        return
    send_confirmation(session, settings, user, come_back_to=come_back_to)


def _tell_owner_of_address(session: Session, settings: LinkSettings, email: str) -> None:
    # Hashing a password costs the same time the real registration would have taken.
    accounts.hash_password("registration timing")
    queue_email(
        session,
        [email],
        "Someone tried to register with your email address",
        "Hello,\n\nSomeone tried to register on the Social Value Marketplace with this email address, "
        f"which already has an account. If it was you, sign in at {settings.url('/sign-in')} — or, if you "
        f"have forgotten your password, reset it at {settings.url('/forgot-password')}.\n\n"
        "If it was not you, you do not need to do anything.",
    )
    log.info("registration attempted for an address that has an account")


def send_confirmation(session: Session, settings: LinkSettings, user: User, *, come_back_to: str | None = None) -> None:
    """E-mail a link that confirms the person's address (and leads back to ``come_back_to`` afterwards)."""
    _send_confirmation_link(
        session, settings, {"user": user.id, "email": user.email}, user.name, user.organisation.name, come_back_to
    )
    log.info("confirmation link sent", extra={"user_id": user.id})


def send_join_confirmation(
    session: Session, settings: LinkSettings, join: JoinRequest, *, come_back_to: str | None = None
) -> None:
    """E-mail again the link confirming the address of a request to join (its members are asked once it is opened)."""
    _send_confirmation_link(
        session, settings, {"join": join.id, "email": join.email}, join.name, join.organisation.name, come_back_to
    )
    log.info("confirmation link sent", extra={"join_request_id": join.id})


def _send_confirmation_link(
    session: Session,
    settings: LinkSettings,
    payload: dict[str, object],
    name: str,
    organisation: str,
    come_back_to: str | None = None,
) -> None:
    # The same words for a new organisation and for a request to join one that exists.
    token = _serializer(settings, _CONFIRM_SALT).dumps(payload)
    back = local_path(come_back_to)
    link = settings.url(f"/confirm-email/{token}" + (f"?{urlencode({'next': back})}" if back else ""))
    email = payload["email"]
    assert isinstance(email, str)
    queue_email(
        session,
        [email],
        "Confirm your email address",
        f"Hello {name},\n\nThank you for registering {organisation} on the Social Value "
        f"Marketplace. To finish, open this link within 3 days:\n\n{link}\n\n"
        "If you did not register, ignore this email.",
    )


def confirm_email(session: Session, settings: LinkSettings, token: str) -> User | JoinRequest:
    """Confirm the address a confirmation link was sent to.

    Returns:
        The person, now confirmed; or, when they registered naming an organisation that
        exists, their request to join it, which its members are now asked to answer.

    Raises:
        AlreadyConfirmed: when the link was opened before (the address is confirmed).
        LinkNotValid: when the link is unknown or expired.
    """
    payload = _payload(
        settings,
        _CONFIRM_SALT,
        token,
        CONFIRM_MAX_AGE_SECONDS,
        "This link has expired. Sign in and we will send you a new one.",
    )
    if "join" in payload:
        join = session.get(JoinRequest, payload["join"]) if isinstance(payload["join"], int) else None
        if join is None or join.email != payload.get("email"):
            raise LinkNotValid(NOT_VALID)
        _confirm_join_request(session, settings, join)
        return join
    user = session.get(User, payload.get("user")) if isinstance(payload.get("user"), int) else None
    if not _can_use_links(user) or user.email != payload.get("email"):
        raise LinkNotValid(NOT_VALID)
    if user.email_confirmed_at is not None:
        raise AlreadyConfirmed("Your email address is already confirmed. Sign in to continue.")
    user.email_confirmed_at = utcnow()
    session.flush()
    log.info("email confirmed", extra={"user_id": user.id})
    return user


def _request_to_join(session: Session, organisation: Organisation, form: accounts.Registration) -> JoinRequest:
    """Keep a registration that named an existing organisation until its members answer.

    The same confirmation link a new organisation gets is e-mailed next.
    """
    join = JoinRequest(
        organisation=organisation,
        name=form.name.strip(),
        email=accounts.normalise_email(form.email),
        password_hash=accounts.hash_password(form.password),
    )
    session.add(join)
    session.flush()
    log.info("request to join kept until the address is confirmed", extra={"join_request_id": join.id})
    return join


def _confirm_join_request(session: Session, settings: LinkSettings, join: JoinRequest) -> None:
    """The registrant confirmed their address: ask the organisation's members (and officers) to let them in."""
    if join.confirmed_at is not None:
        raise AlreadyConfirmed("Your email address is already confirmed. We will email you when you are let in.")
    join.confirmed_at = utcnow()
    session.flush()
    queue_email(
        session,
        members_of(session, join.organisation_id) or officers(session),
        f"{join.name} asks to join {join.organisation.name}",
        f"{join.name} ({join.email}) registered on the Social Value Marketplace naming {join.organisation.name} "
        "as their organisation.\n\nWhat happens next: if you know them, let them in; if not, refuse. "
        f"Answer here:\n{settings.url('/account/team')}",
    )
    log.info("request to join confirmed", extra={"join_request_id": join.id})
