"""Joining an organisation: invitations by e-mailed link, and requests to join from registration."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.organisation import Organisation
from marketplace.models.user import User


class Invitation(Base):
    """A member invited someone by e-mail; the signed link works once, for 7 days."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[Organisation] = relationship()
    email: Mapped[str] = mapped_column(String(254))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class JoinRequest(Base):
    """Someone registered naming an organisation that exists: its members or an officer let them in.

    No account exists until then; the password hash waits here.
    """

    __tablename__ = "join_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[Organisation] = relationship()
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set when the registrant opened the confirmation link; only then are the members asked.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # "accepted" or "refused", and by whom.
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
