"""Turning needs and offers into the search library's documents."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.models import District, Need, Offer
from search_index import IndexedItem

BATCH = 500


def _offer_districts(offer: Offer, all_districts: tuple[str, ...]) -> tuple[str, ...]:
    # A County-wide offer serves every district, so filtering by Melton must find it.
    codes = tuple(d.code for d in offer.districts)
    if any(d.covers_all for d in offer.districts):
        return tuple(dict.fromkeys((*codes, *all_districts)))
    return codes


def need_document(need: Need) -> IndexedItem:
    """A need as the index sees it."""
    return IndexedItem(
        kind="need",
        id=need.id,
        title=need.title,
        description=need.description,
        category=need.category_code,
        districts=(need.district_code,),
        outcomes=tuple(o.code for o in need.outcomes),
        status=need.status.value,
        organisation_id=need.organisation_id,
        organisation_name=need.organisation.name,
        organisation_verified=need.organisation.verified,
        created_at=need.created_at,
        updated_at=need.updated_at,
        needed_by=need.needed_by,
    )


def offer_document(offer: Offer, all_districts: tuple[str, ...]) -> IndexedItem:
    """An offer as the index sees it."""
    return IndexedItem(
        kind="offer",
        id=offer.id,
        title=offer.title,
        description=offer.description,
        category=offer.category_code,
        districts=_offer_districts(offer, all_districts),
        outcomes=tuple(o.code for o in offer.outcomes),
        status=offer.status.value,
        organisation_id=offer.organisation_id,
        organisation_name=offer.organisation.name,
        organisation_verified=offer.organisation.verified,
        created_at=offer.created_at,
        updated_at=offer.updated_at,
        available_until=offer.available_until,
    )


def _district_codes(session: Session) -> tuple[str, ...]:
    return tuple(session.scalars(select(District.code).order_by(District.position)))


def load_documents(session: Session, kind: str, ids: Iterable[int]) -> dict[int, IndexedItem]:
    """The current documents of these needs or offers; ids that no longer exist are absent."""
    ids = list(ids)
    if kind == "need":
        rows = session.scalars(
            select(Need).options(selectinload(Need.outcomes), selectinload(Need.organisation)).where(Need.id.in_(ids))
        )
        return {need.id: need_document(need) for need in rows}
    districts = _district_codes(session)
    rows = session.scalars(
        select(Offer)
        .options(selectinload(Offer.outcomes), selectinload(Offer.districts), selectinload(Offer.organisation))
        .where(Offer.id.in_(ids))
    )
    return {offer.id: offer_document(offer, districts) for offer in rows}


def all_documents(session: Session) -> Iterator[IndexedItem]:
    """Every need and offer, read in batches so a large database is never all in memory."""
    for model, kind in ((Need, "need"), (Offer, "offer")):
        last_id = 0
        while True:
            ids = list(session.scalars(select(model.id).where(model.id > last_id).order_by(model.id).limit(BATCH)))
            if not ids:
                break
            documents = load_documents(session, kind, ids)
            yield from (documents[i] for i in ids if i in documents)
            last_id = ids[-1]
            session.expunge_all()


def count_listings(session: Session) -> int:
    """How many needs and offers there are, for progress bars."""
    from sqlalchemy import func

    return sum(session.scalar(select(func.count()).select_from(model)) or 0 for model in (Need, Offer))
