"""A search someone saved, to be e-mailed what newly matches it, daily or weekly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.user import User


class SavedSearch(Base):
    """The query and filters of the search page, kept for one person with how often to e-mail them."""

    __tablename__ = "saved_search"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    user: Mapped[User] = relationship()
    # The words searched for ("" for every item the filters allow).
    q: Mapped[str] = mapped_column(String(256), default="")
    # "need" or "offer": what the e-mails list; None for both.
    kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    category: Mapped[str | None] = mapped_column(String(80), nullable=True)
    district: Mapped[str | None] = mapped_column(String(80), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(80), nullable=True)
    # "daily" or "weekly".
    frequency: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its e-mail was last considered: items posted after it are the new ones.
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
