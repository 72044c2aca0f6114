"""Pledges: a supplier's promise to meet (part of) a need, and each step of its life."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.contract import Contract
from marketplace.models.need import Need
from marketplace.models.offer import Offer
from marketplace.models.organisation import Organisation
from marketplace.models.reference import Measure
from marketplace.models.user import User


class PledgeStatus(enum.StrEnum):
    """proposed → accepted | declined → approved | rejected → delivered → confirmed; or cancelled."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


# Pledges that still hold on to an offer's capacity or a need's quantity.
HOLDING = (
    PledgeStatus.PROPOSED,
    PledgeStatus.ACCEPTED,
    PledgeStatus.APPROVED,
    PledgeStatus.DELIVERED,
    PledgeStatus.CONFIRMED,
)
# Pledges that count as committed social value, and as delivered social value.
COMMITTED = (PledgeStatus.APPROVED, PledgeStatus.DELIVERED, PledgeStatus.CONFIRMED)
DELIVERED = (PledgeStatus.CONFIRMED,)
# Pledges the supplier says it has delivered, whether or not confirmed yet.
REPORTED = (PledgeStatus.DELIVERED, PledgeStatus.CONFIRMED)


class EvidenceReview(enum.StrEnum):
    """Where the officers' check of a delivered pledge's evidence stands."""

    WAITING = "waiting"  # the supplier reported delivery: an officer is to look
    MORE_NEEDED = "more-needed"  # an officer asked for more evidence, with a reason
    DISPUTED = "disputed"  # the group says it did not happen or there is a problem
    ACCEPTED = "accepted"  # an officer accepted the evidence: the group may confirm


class Pledge(Base):
    """A supplier's promise against one need, optionally from one offer and against one contract."""

    __tablename__ = "pledge"
    __table_args__ = (
        Index("ix_pledge_status_updated", "status", "updated_at"),
        # The newest change to any pledge: every suggestion asks (see SuggestionEngine.stamps).
        Index("ix_pledge_updated", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    need: Mapped[Need] = relationship()
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offer.id"), nullable=True, index=True)
    offer: Mapped[Offer | None] = relationship()
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), nullable=True, index=True)
    contract: Mapped[Contract | None] = relationship()
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    supplier: Mapped[Organisation] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[User | None] = relationship()
    measure_code: Mapped[str] = mapped_column(ForeignKey("measure.code"))
    measure: Mapped[Measure] = relationship()
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # in the measure's unit
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[PledgeStatus] = mapped_column(
        Enum(PledgeStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=PledgeStatus.PROPOSED,
    )
    # Set at approval: £ = quantity × the proxy in force then, which is kept with its version
    # so a later change of the proxy never rewrites an approved pledge.
    value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    proxy_value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    proxy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # What the supplier reported when marking it delivered.
    evidence: Mapped[str | None] = mapped_column(Text, nullable=True)
    reject_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Recorded by an officer on the supplier's behalf (it came by phone or e-mail).
    assisted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Proposed by the supplier, fixed by the officer at approval: when it is to be delivered.
    deliver_by: Mapped[date | None] = mapped_column(nullable=True, index=True)
    # What the officer approved. ``quantity`` and ``value`` may later go down (a partial
    # delivery), so the honest gap between promised and delivered stays visible.
    committed_quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    committed_value: Mapped[Decimal | None] = mapped_column(Numeric(16, 2), nullable=True)
    # A reported delivery above the approved quantity waits here for an officer.
    pending_quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence_review: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The officer's reason for wanting more evidence, or the group's reason for disputing.
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The supplier's declaration that this is not reported against another contract or council.
    declaration: Mapped[str | None] = mapped_column(Text, nullable=True)
    declared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # When a reminder about this pledge was last sent, so nobody is chased twice in a day.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence_files: Mapped[list[EvidenceFile]] = relationship(
        back_populates="pledge", order_by="EvidenceFile.id", cascade="all, delete-orphan"
    )
    history: Mapped[list[PledgeEvent]] = relationship(
        back_populates="pledge", order_by="PledgeEvent.id", cascade="all, delete-orphan"
    )


class PledgeEvent(Base):
    """One step in a pledge's life: who moved it from which status to which, and when."""

    __tablename__ = "pledge_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"), index=True)
    pledge: Mapped[Pledge] = relationship(back_populates="history")
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    actor: Mapped[User | None] = relationship()
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EvidenceFile(Base):
    """A file the supplier attached to show a pledge was delivered.

    The bytes live on disk under the evidence folder, named by ``storage_key`` (random);
    the name the supplier gave is kept only for display and the download's file name.
    """

    __tablename__ = "evidence_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id", ondelete="CASCADE"), index=True)
    pledge: Mapped[Pledge] = relationship(back_populates="evidence_files")
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Who uploaded it; erasing that person keeps their organisation's evidence.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    uploaded_by: Mapped[User | None] = relationship()
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
