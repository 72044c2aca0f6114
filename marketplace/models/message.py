"""Messages between a group, a supplier and officers about one pledge or one request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.user import User


class Message(Base):
    """One plain-text message on a pledge or on a request (exactly one of the two)."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_author_created", "author_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int | None] = mapped_column(
        ForeignKey("pledge.id", ondelete="CASCADE"), nullable=True, index=True
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("offer_request.id", ondelete="CASCADE"), nullable=True, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    author: Mapped[User | None] = relationship()
    # The author's organisation when they wrote it, so "who is waiting for an answer" is known.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
