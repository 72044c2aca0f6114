"""Reference data kept as rows, not code: categories, districts, outcomes and measures.

A council changes its strategic outcomes every few years and maintains its own list of
social value measures, so none of these lists is hard-coded; they are seeded with
Leicestershire's and can be edited without a code change.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Integer, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base


class Category(Base):
    """A kind of help: premises, advertising, goods, volunteering, …"""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Hint text shown under the option, in plain words.
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


class District(Base):
    """An area of the council; ``County-wide`` covers them all."""

    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # True for the district that stands for the whole county.
    covers_all: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class Outcome(Base):
    """One of the council's strategic outcomes."""

    __tablename__ = "outcome"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)


measure_outcome = Table(
    "measure_outcome",
    Base.metadata,
    Column("measure_code", ForeignKey("measure.code", ondelete="CASCADE"), primary_key=True),
    Column("outcome_code", ForeignKey("outcome.code"), primary_key=True),
)


class Measure(Base):
    """A social value measure with a unit and, where the council set one, a £ proxy per unit."""

    __tablename__ = "measure"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(60))
    # £ per unit; None for measures counted in units only.
    proxy_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    # Where the proxy value comes from, so an auditor can check it.
    source: Mapped[str] = mapped_column(Text, default="")
    # The current version of the proxy value (see MeasureProxy for every version).
    proxy_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    outcomes: Mapped[list[Outcome]] = relationship(secondary=measure_outcome, order_by=Outcome.position)
