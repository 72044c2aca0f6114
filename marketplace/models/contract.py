"""Council contracts held by suppliers, with their social value targets."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.organisation import Organisation

# The policy applies to contracts worth more than this; they should carry a target.
POLICY_THRESHOLD = Decimal("50000")


class Contract(Base):
    """A contract a supplier holds with the council."""

    __tablename__ = "contract"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The council's own contract reference, e.g. "LCC-2026-0142".
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    supplier: Mapped[Organisation] = relationship()
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # £
    start_date: Mapped[date]
    end_date: Mapped[date]
    # £ of social value the supplier committed to deliver; None when not yet agreed.
    social_value_target: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def needs_target(self) -> bool:
        """Over the policy threshold but without a social value target."""
        return self.value > POLICY_THRESHOLD and self.social_value_target is None
