"""Requests for an offer: a group asks a supplier for (part of) one of its offers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, UTCDateTime, utcnow
from marketplace.models.need import Need
from marketplace.models.offer import Offer
from marketplace.models.organisation import Organisation
from marketplace.models.user import User


class RequestStatus(enum.StrEnum):
    """open → pledged (the supplier turned it into a pledge) | declined (with a reason)."""

    OPEN = "open"
    PLEDGED = "pledged"
    DECLINED = "declined"


class OfferRequest(Base):
    """A group's request for an offer, for one of its needs.

    It holds no capacity: only the pledge the supplier makes from it does.
    """

    __tablename__ = "offer_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offer.id"), index=True)
    offer: Mapped[Offer] = relationship()
    need_id: Mapped[int] = mapped_column(ForeignKey("need.id"), index=True)
    need: Mapped[Need] = relationship()
    # The group asking (the need's organisation), kept so lists need no join.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    organisation: Mapped[Organisation] = relationship()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True)
    created_by: Mapped[User | None] = relationship()
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=RequestStatus.OPEN,
    )
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledge.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
