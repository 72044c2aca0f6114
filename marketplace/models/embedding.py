"""Sentence vectors of needs and offers, kept with the model that made them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.db import Base, UTCDateTime, utcnow


class ListingEmbedding(Base):
    """The vector of one need's or offer's text under one model.

    Stored so that a restart never re-encodes, and keyed by model so that configuring
    another model re-embeds instead of mixing vectors from two models.
    """

    __tablename__ = "listing_embedding"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)  # "need" or "offer"
    item_id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    # SHA-256 of the embedded text: an edit that changes the text makes the vector stale.
    text_hash: Mapped[str] = mapped_column(String(64))
    # float32 values, little-endian, normalised to unit length.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
