"""The audit log: every decision an officer or the system makes about money or trust."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.user import User


class AuditEntry(Base):
    """Who did what to which record, when, and the record before and after."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True, index=True)
    actor: Mapped[User | None] = relationship()
    action: Mapped[str] = mapped_column(String(60), index=True)  # e.g. "pledge.approve"
    entity_type: Mapped[str] = mapped_column(String(30))  # e.g. "pledge"
    entity_id: Mapped[str] = mapped_column(String(60), index=True)  # an id or a code
    before: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict | None] = mapped_column(JSON, nullable=True)
