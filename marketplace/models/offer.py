"""Offers: what a supplier can give."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Enum, ForeignKey, Index, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.organisation import Organisation
from marketplace.models.reference import Category, District, Measure, Outcome
from marketplace.models.user import User


class OfferStatus(enum.StrEnum):
    """An offer's place in its lifecycle: open ⇄ paused; open/paused → withdrawn."""

    OPEN = "open"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"


offer_district = Table(
    "offer_district",
    Base.metadata,
    Column("offer_id", ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True),
    Column("district_code", ForeignKey("district.code"), primary_key=True),
)

offer_outcome = Table(
    "offer_outcome",
    Base.metadata,
    Column("offer_id", ForeignKey("offer.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome_code", ForeignKey("outcome.code"), primary_key=True),
)


class Offer(Base):
    """Something a supplier can give to community groups."""

    __tablename__ = "offer"
    __table_args__ = (
        Index("ix_offer_status_created", "status", "created_at"),
        # Counting what the public may see reads this index alone (see visibility_clause).
        Index("ix_offer_status_organisation", "status", "organisation_id"),
        # Every suggestion asks for the newest change (the matcher's catch-up): an index
        # answers max(updated_at) at once instead of reading every row.
        Index("ix_offer_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    category: Mapped[Category] = relationship()
    districts: Mapped[list[District]] = relationship(secondary=offer_district, order_by=District.position)
    outcomes: Mapped[list[Outcome]] = relationship(secondary=offer_outcome, order_by=Outcome.position)
    available_until: Mapped[date | None] = mapped_column(nullable=True)
    # Optional: what the offer is measured in, and how much of it there is in that unit.
    measure_code: Mapped[str | None] = mapped_column(ForeignKey("measure.code"), nullable=True)
    measure: Mapped[Measure | None] = relationship()
    capacity: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    status: Mapped[OfferStatus] = mapped_column(
        Enum(OfferStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=OfferStatus.OPEN,
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    organisation: Mapped[Organisation] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
