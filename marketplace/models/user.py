"""People who sign in, and the API tokens they create."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.organisation import Organisation


class Role(enum.StrEnum):
    """What a person may do; it follows from their organisation's kind."""

    COMMUNITY = "community"
    SUPPLIER = "supplier"
    OFFICER = "officer"


class User(Base):
    """A person with an account; always a member of one organisation."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so sign-in is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation: Mapped[Organisation] = relationship()
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Suppliers: a daily e-mail of new needs that fit their open offers (they can switch it off).
    digest_enabled: Mapped[bool] = mapped_column(default=True)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Which e-mails about their work the person gets: "each" event, a "daily" summary, or
    # "essential" only (links to confirm, reset, invitations are always sent).
    email_preference: Mapped[str] = mapped_column(String(20), default="each", server_default="each")
    # Groups: an e-mail of new offers that fit their open needs, "off", "daily" or "weekly".
    offer_alerts: Mapped[str] = mapped_column(String(10), default="off", server_default="off")
    last_offer_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Registering through the site needs the link e-mailed to the address; accounts made by
    # the command line, by an officer or before confirmation existed are confirmed already.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Set when the person closed their account: their personal data is erased, the
    # organisation's records stay with the person shown as a former member.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Kept in each signed-in session; signing out adds one, which ends every copy of that
    # session's cookie on the server (see app.load_user).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_officer(self) -> bool:
        """True for council officers."""
        return self.role is Role.OFFICER

    # What Flask-Login asks of a signed-in user, without importing Flask into the model.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """A deactivated account cannot sign in."""
        return self.active

    def get_id(self) -> str:
        """The id kept in the session cookie."""
        return str(self.id)


class ApiToken(Base):
    """A bearer token for the API. Only a SHA-256 hash of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    user: Mapped[User] = relationship()
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters, so a person can tell their tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
