"""Versions of a measure's £ proxy value: approved pledges keep the version they used."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.reference import Measure
from marketplace.models.user import User


class MeasureProxy(Base):
    """One version of a measure's proxy value (None: counted in units only)."""

    __tablename__ = "measure_proxy"

    measure_code: Mapped[str] = mapped_column(ForeignKey("measure.code", ondelete="CASCADE"), primary_key=True)
    measure: Mapped[Measure] = relationship()
    version: Mapped[int] = mapped_column(primary_key=True)
    proxy_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    source: Mapped[str] = mapped_column(Text, default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    set_by: Mapped[User | None] = relationship()
