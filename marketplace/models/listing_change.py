"""The change log of needs and offers, applied by every app server's search index replica after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UTCDateTime, utcnow


class ListingChange(Base):
    """A need or offer changed in some transaction; its index entry must be refreshed.

    Written in the same transaction as the change, so a crash between the commit and the
    index write loses nothing: each replica applies the log in id order from where it got to,
    and rows are pruned only behind the slowest replica (see ``marketplace.search.replicas``).
    """

    __tablename__ = "listing_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "need" or "offer"
    item_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
