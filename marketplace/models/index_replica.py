"""Each app server's copy of the search index, and how far it has applied the change log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UTCDateTime, utcnow


class IndexReplica(Base):
    """One search index folder (one per app server) kept in step with ``listing_change``.

    ``applied_through`` is the last change-log id whose changes the folder holds (the folder
    keeps the same figure beside its index; this row is the copy every server can read), so
    the log is pruned only behind the slowest replica seen lately. A replica whose row has
    been removed (it was gone too long, or fell too far behind) rebuilds its folder.
    """

    __tablename__ = "index_replica"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    applied_through: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
