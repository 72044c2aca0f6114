"""Organisations: community groups, suppliers and the council itself."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UTCDateTime, utcnow


class OrganisationKind(enum.StrEnum):
    """What an organisation is, which decides what its members may do."""

    COMMUNITY = "community"
    SUPPLIER = "supplier"
    COUNCIL = "council"


class Verification(enum.StrEnum):
    """Where an organisation stands with the council's checks."""

    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class Organisation(Base):
    """A community group, a supplier or the council."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(
        Enum(OrganisationKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    verification: Mapped[Verification] = mapped_column(
        Enum(Verification, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Verification.PENDING,
    )
    # Registered charity number (England and Wales) or company number, when it has one.
    charity_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    company_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # How a supplier reaches the group once a pledge is accepted (never shown publicly).
    contact_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Why the council rejected it, shown to its members.
    verification_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def verified(self) -> bool:
        """True once an officer has verified the organisation."""
        return self.verification is Verification.VERIFIED
