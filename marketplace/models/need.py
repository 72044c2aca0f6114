"""Needs: what a community group asks for."""

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


class NeedStatus(enum.StrEnum):
    """A need's place in its lifecycle: open → met | withdrawn | expired."""

    OPEN = "open"
    MET = "met"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


need_outcome = Table(
    "need_outcome",
    Base.metadata,
    Column("need_id", ForeignKey("need.id", ondelete="CASCADE"), primary_key=True),
    Column("outcome_code", ForeignKey("outcome.code"), primary_key=True),
)


class Need(Base):
    """A request for help posted by a community group."""

    __tablename__ = "need"
    __table_args__ = (
        Index("ix_need_status_created", "status", "created_at"),
        # Counting what the public may see reads this index alone (see visibility_clause).
        Index("ix_need_status_organisation", "status", "organisation_id"),
        # Every suggestion asks for the newest change (the matcher's catch-up): an index
        # answers max(updated_at) at once instead of reading every row.
        Index("ix_need_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    category: Mapped[Category] = relationship()
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    district: Mapped[District] = relationship()
    outcomes: Mapped[list[Outcome]] = relationship(secondary=need_outcome, order_by=Outcome.position)
    # Free text in the group's own words, e.g. "about 30 pallets" or "one evening a month".
    quantity: Mapped[str] = mapped_column(String(200), default="")
    needed_by: Mapped[date | None] = mapped_column(nullable=True)
    # Optional: how much is needed in a measure's unit, so pledges cannot over-promise and
    # the need is met once confirmed pledges cover it.
    measure_code: Mapped[str | None] = mapped_column(ForeignKey("measure.code"), nullable=True)
    measure: Mapped[Measure | None] = relationship()
    quantity_needed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    # Posted by an officer on the group's behalf (it came by phone or e-mail).
    assisted: Mapped[bool] = mapped_column(default=False)
    status: Mapped[NeedStatus] = mapped_column(
        Enum(NeedStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=NeedStatus.OPEN,
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    organisation: Mapped[Organisation] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[User | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
