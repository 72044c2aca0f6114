"""Accounts: registering, signing in, creating users from the CLI, and API tokens."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from zxcvbn import zxcvbn

from marketplace.db import utcnow, writes_intended
from marketplace.formatting import a_or_an
from marketplace.models import ApiToken, JoinRequest, Organisation, OrganisationKind, Role, User, Verification
from marketplace.services.errors import DomainError, Forbidden, NotFound, NotSignedIn, ValidationFailed

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
# One hash verified against when the email is unknown, so a wrong email takes as long as
# a wrong password and sign-in does not reveal who has an account.
_DUMMY_HASH = _hasher.hash("not a real password")


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Change the argon2 parameters (the test suite uses cheaper ones to stay fast).

    Hashes made with other parameters still verify, and are upgraded at the next sign-in.
    """
    global _hasher, _DUMMY_HASH
    _hasher = hasher
    _DUMMY_HASH = hasher.hash("not a real password")


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "svm_"
TOKEN_USE_RECORDED_EVERY = timedelta(minutes=1)
EMAIL_IN_USE = "An account already uses this email address. Sign in instead"
ORGANISATION_EXISTS = (
    "An organisation with this name is already registered. Ask one of its members or the council to add you to it"
)

ROLE_FOR_KIND = {
    OrganisationKind.COMMUNITY: Role.COMMUNITY,
    OrganisationKind.SUPPLIER: Role.SUPPLIER,
    OrganisationKind.COUNCIL: Role.OFFICER,
}
KIND_FOR_ROLE = {role: kind for kind, role in ROLE_FOR_KIND.items()}


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


@dataclass(frozen=True)
class Registration:
    """What a person fills in to register themselves and their organisation."""

    name: str
    email: str
    password: str
    password_confirmation: str
    role: str
    organisation_name: str
    charity_number: str = ""
    company_number: str = ""


def _check_password(password: str, fields: dict[str, str], field: str = "password", about: Sequence[str] = ()) -> None:
    """Refuse a password that is too short, too long, or easy to guess.

    Args:
        about: what the person told us (email, name, organisation): a password made of it is guessable.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        fields[field] = f"Password must be {MIN_PASSWORD_LENGTH} characters or more"
    elif len(password) > 200:
        fields[field] = "Password must be 200 characters or fewer"
    elif not strong_enough(password, about):
        fields[field] = WEAK_PASSWORD


WEAK_PASSWORD = (
    "Choose a password that is harder to guess, like three or four random words together. "
    "Do not use a common password, your name, your organisation's name or your email address"
)
# zxcvbn's scale: 0 too guessable … 4 very unguessable; 3 is "safely unguessable" for an
# online service with rate-limited sign-in.
MIN_PASSWORD_SCORE = 3


def strong_enough(password: str, about: Sequence[str] = ()) -> bool:
    """True when zxcvbn (Dropbox's strength estimator: common passwords, words, keyboard
    patterns, dates, repeats, and what the person told us) rates the password hard to guess.

    zxcvbn reads at most 72 characters; a longer password is judged by its start.
    """
    hints = [part for value in about for part in re.split(r"[@.\s]+", value) if len(part) >= 3]
    return zxcvbn(password[:72], user_inputs=[*about, *hints])["score"] >= MIN_PASSWORD_SCORE


def register(session: Session, form: Registration, *, confirmed: bool = True) -> User:
    """Register a community group member or supplier together with a new organisation.

    The organisation starts unverified: its needs and offers are visible only to its own
    members and to officers until an officer verifies it. Registering through the site
    passes ``confirmed=False``: the person must open the link e-mailed to them first
    (see ``account_links.start_registration``).

    Raises:
        ValidationFailed: naming each field that needs correcting.
    """
    fields: dict[str, str] = {}
    name = form.name.strip()
    email = normalise_email(form.email)
    organisation_name = " ".join(form.organisation_name.split())
    if not name:
        fields["name"] = "Enter your full name"
    elif len(name) > 200:
        fields["name"] = "Your name must be 200 characters or fewer"
    if not email:
        fields["email"] = "Enter your email address"
    elif not EMAIL_PATTERN.match(email) or len(email) > 254:
        fields["email"] = "Enter an email address in the correct format, like name@example.com"
    _check_password(form.password, fields, about=(form.email, form.name, form.organisation_name))
    if "password" not in fields and form.password != form.password_confirmation:
        fields["password_confirmation"] = "The passwords do not match"
    if form.role not in (Role.COMMUNITY.value, Role.SUPPLIER.value):
        fields["role"] = "Select whether you are a community group or a supplier"
    if not organisation_name:
        fields["organisation_name"] = "Enter the name of your organisation"
    elif len(organisation_name) > 200:
        fields["organisation_name"] = "The organisation name must be 200 characters or fewer"
    elif _organisation_by_name(session, organisation_name) is not None:
        fields["organisation_name"] = ORGANISATION_EXISTS
    for field, value in (("charity_number", form.charity_number), ("company_number", form.company_number)):
        if len(value.strip()) > 20:
            fields[field] = "This number must be 20 characters or fewer"
    if email and "email" not in fields and _user_by_email(session, email) is not None:
        fields["email"] = EMAIL_IN_USE
    if fields:
        raise ValidationFailed(fields)
    role = Role(form.role)
    organisation = Organisation(
        name=organisation_name,
        kind=KIND_FOR_ROLE[role],
        charity_number=form.charity_number.strip() or None,
        company_number=form.company_number.strip() or None,
    )
    user = User(
        name=name,
        email=email,
        password_hash=hash_password(form.password),
        role=role,
        organisation=organisation,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    session.add_all([organisation, user])
    session.flush()
    log.info("registered", extra={"user_id": user.id, "organisation_id": organisation.id, "role": role.value})
    return user


def set_password(user: User, password: str, confirmation: str) -> None:
    """Give ``user`` a new password.

    Raises:
        ValidationFailed: when it is too short or too long, or the two do not match.
    """
    fields: dict[str, str] = {}
    organisation = user.organisation.name if user.organisation is not None else ""
    _check_password(password, fields, about=(user.email or "", user.name or "", organisation))
    if "password" not in fields and password != confirmation:
        fields["password_confirmation"] = "The passwords do not match"
    if fields:
        raise ValidationFailed(fields)
    user.password_hash = hash_password(password)


def password_fingerprint(user: User) -> str:
    """A short digest of the password hash: it changes whenever the password does.

    Kept in the session cookie and in reset links, so changing the password signs out
    every other session and spends every reset link.
    """
    return hashlib.sha256(user.password_hash.encode("utf-8")).hexdigest()[:20]


def end_sessions(session: Session, user: User) -> None:
    """End every signed-in browser session of this person, wherever its cookie has gone.

    Each session carries the person's session version; a new number makes every earlier
    session fail the check made on every request.
    """
    user.session_version = (user.session_version or 0) + 1
    session.flush()


class JoinNotAnswered(DomainError):
    """The right password of someone whose request to join an organisation is not answered yet: no account exists."""

    code = "join_not_answered"
    http_status = 403

    def __init__(self, join: JoinRequest) -> None:
        super().__init__(
            f"Your request to join {join.organisation.name} is waiting for the organisation's approval. "
            "We will email you when they have answered; then you can sign in."
        )
        self.join = join


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the user for these credentials, or None; never says which part was wrong.

    Raises:
        JoinNotAnswered: the address and password of a request to join an organisation that
            its members have not answered yet (only the right password learns this).
    """
    email = normalise_email(email)
    user = _user_by_email(session, email)
    # Without an account, the password of a waiting request to join is checked instead of the
    # dummy: one hash either way, so the time taken tells nobody which it was.
    join = None if user is not None else _unanswered_join_request(session, email)
    try:
        _hasher.verify(user.password_hash if user else join.password_hash if join else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if join is not None:
        raise JoinNotAnswered(join)
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_sign_in_at = utcnow()
    session.flush()
    return user


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    organisation_name: str,
    password: str,
    name: str = "",
) -> User:
    """Create a user from the command line, creating the organisation if it is new.

    A new organisation starts unverified, except the council's own, which officers
    belong to.

    Raises:
        ValidationFailed: for a bad email, password or role, or an organisation of the
            wrong kind for the role.
    """
    fields: dict[str, str] = {}
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        fields["email"] = "Enter an email address in the correct format, like name@example.com"
    elif _user_by_email(session, email) is not None:
        fields["email"] = f"There is already an account for {email}"
    try:
        role_value = Role(role)
    except ValueError:
        fields["role"] = "Role must be community, supplier or officer"
        role_value = None
    _check_password(password, fields, about=(email, name, organisation_name))
    organisation_name = " ".join(organisation_name.split())
    if not organisation_name:
        fields["organisation"] = "Enter the organisation's name"
    organisation = _organisation_by_name(session, organisation_name) if organisation_name else None
    if organisation is not None and role_value is not None and organisation.kind is not KIND_FOR_ROLE[role_value]:
        fields["organisation"] = (
            f"{organisation.name} is a {organisation.kind.value} organisation; a {role_value.value} cannot join it"
        )
    if fields:
        raise ValidationFailed(fields)
    assert role_value is not None
    if organisation is None:
        kind = KIND_FOR_ROLE[role_value]
        organisation = Organisation(
            name=organisation_name,
            kind=kind,
            verification=Verification.VERIFIED if kind is OrganisationKind.COUNCIL else Verification.PENDING,
            verified_at=utcnow() if kind is OrganisationKind.COUNCIL else None,
        )
        session.add(organisation)
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=hash_password(password),
        role=role_value,
        organisation=organisation,
        # Whoever runs the command vouches for the address.
        email_confirmed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    log.info("user created", extra={"user_id": user.id, "role": role_value.value})
    return user


def get_user_by_email(session: Session, email: str) -> User:
    """The user with this email.

    Raises:
        NotFound: when there is none.
    """
    user = _user_by_email(session, normalise_email(email))
    if user is None:
        raise NotFound(f"There is no account for {email}")
    return user


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email))


def _unanswered_join_request(session: Session, email: str) -> JoinRequest | None:
    """The latest request to join made with this address that nobody has answered yet."""
    return session.scalar(
        select(JoinRequest)
        .where(JoinRequest.email == email, JoinRequest.decision.is_(None))
        .order_by(JoinRequest.id.desc())
        .limit(1)
    )


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    """The organisation of this name (any case, spaces collapsed), if there is one."""
    return _organisation_by_name(session, " ".join(name.split()))


def _organisation_by_name(session: Session, name: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower()))


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create an API token for ``user``; the plain token is returned once and never stored.

    Raises:
        ValidationFailed: when the name is empty or too long.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": "Enter a name for the token, so you can recognise it later"})
    if len(name) > 100:
        raise ValidationFailed({"name": "The token name must be 100 characters or fewer"})
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_hash_token(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    log.info("api token created", extra={"user_id": user.id, "token_id": token.id})
    return token, plain


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; revoking twice is harmless.

    Raises:
        NotFound: when the token is not the user's.
    """
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("There is no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        log.info("api token revoked", extra={"user_id": user.id, "token_id": token.id})
    return token


def revoke_all_tokens(session: Session, user: User) -> int:
    """Revoke every API token of the user (a password reset does: the account may have been taken).

    Returns:
        How many tokens were still working.
    """
    now = utcnow()
    revoked = 0
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
        revoked += 1
    session.flush()
    if revoked:
        log.info("api tokens revoked", extra={"user_id": user.id, "tokens_revoked": revoked})
    return revoked


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user a bearer token belongs to, or None when it is unknown or revoked."""
    if not plain.startswith(TOKEN_PREFIX):
        return None
    # The user in the same query: every API request asks, and needs both.
    token = session.scalar(
        select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == _hash_token(plain))
    )
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    # Recorded by requests that write and commit anyway, at most once a minute (people see the
    # day). A GET never commits, and its UPDATE would only take SQLite's write lock, failing
    # concurrent API reads, or a row lock on PostgreSQL.
    stale = token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RECORDED_EVERY
    if stale and writes_intended():
        token.last_used_at = now
    return token.user


def require_role(actor: User | None, *roles: Role) -> User:
    """Return the actor if signed in with one of ``roles``.

    Raises:
        NotSignedIn: for an anonymous visitor.
        Forbidden: for a person with another role.
    """
    if actor is None:
        raise NotSignedIn("Sign in to do this")
    if actor.role not in roles:
        wanted = " or ".join(r.value for r in roles)
        raise Forbidden(f"Only {a_or_an(wanted)} account can do this")
    return actor
