"""What the council says about the service itself: its editable information pages and the feedback people send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.user import User


class PageText(Base):
    """An officer's wording of an information page (privacy notice, accessibility statement, ...).

    A page without a row shows the wording the service ships with, so a new council is never
    without the pages the law asks for.
    """

    __tablename__ = "page_text"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    updated_by: Mapped[User | None] = relationship()


class Feedback(Base):
    """What someone thought of the service, sent from the phase banner's link. Anonymous."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    satisfaction: Mapped[str | None] = mapped_column(String(30), nullable=True)
    comments: Mapped[str] = mapped_column(Text, default="")
    # The page they came from, so officers know what the comment is about.
    page: Mapped[str | None] = mapped_column(String(300), nullable=True)
