"""Searching needs and offers: the index when it can be used, the database when it cannot."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.models import District, Need, NeedStatus, Offer, OfferStatus, Outcome, User
from marketplace.search.sync import SearchSync
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import visibility_clause
from marketplace.services.paging import check_paging
from marketplace.services.reference import reference_lists
from marketplace.validation import Code, FieldErrors
from search_index import ANY_STATUS, MAX_QUERY_CHARS, IndexUnavailable, SearchHit, SearchQuery, SearchResults, Viewer

log = logging.getLogger(__name__)

STATUSES = {s.value for s in NeedStatus} | {s.value for s in OfferStatus}
SORTS = ("relevance", "newest")
FALLBACK_WORDS = 8


@dataclass(frozen=True)
class SearchOutcome:
    """Results, and whether they came from the slower database fallback."""

    results: SearchResults
    fallback: bool = False


def viewer_of(actor: User | None) -> Viewer:
    """What the index needs to know about who is searching."""
    if actor is None:
        return Viewer()
    return Viewer(organisation_id=actor.organisation_id, is_officer=actor.is_officer)


def parse_search(session: Session, args: Mapping[str, str]) -> SearchQuery:
    """A search request from query-string parameters.

    Raises:
        ValidationFailed: naming each unknown filter value or bad paging parameter.
    """
    lists = reference_lists(session)
    errors = FieldErrors()
    allowed = {
        "kind": {"need", "offer"},
        "category": lists.category_codes,
        "district": lists.district_codes,
        "outcome": lists.outcome_codes,
        "status": STATUSES | {"any"},
        "sort": set(SORTS),
    }
    values: dict[str, str | None] = {}
    for name, choices in allowed.items():
        value = args.get(name) or None
        if value is not None and value not in choices:
            errors.add(name, Code.UNKNOWN_CHOICE, f"Unknown {name}: {value[:60]}")
            value = None
        values[name] = value
    try:
        page, per_page = check_paging(args.get("page"), args.get("per_page"))
    except ValidationFailed as error:
        errors.merge(error)
        page, per_page = 1, 20
    errors.raise_if_any()
    status = values.pop("status")
    return SearchQuery(
        q=(args.get("q") or "")[: MAX_QUERY_CHARS * 2],
        status=ANY_STATUS if status == "any" else status,
        sort=values.pop("sort") or "relevance",
        page=page,
        per_page=per_page,
        **values,
    )


def search(session: Session, sync: SearchSync | None, actor: User | None, query: SearchQuery) -> SearchOutcome:
    """Search the index; while it cannot be used, search the database instead."""
    if sync is not None and sync.available and sync.index is not None:
        try:
            return SearchOutcome(sync.index.search(query, viewer_of(actor)))
        except IndexUnavailable as error:
            log.error("search index unusable: falling back to the database", extra={"error": str(error)})
            sync.available = False
            sync.notify()
    return SearchOutcome(database_search(session, actor, query), fallback=True)


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def database_search(
    session: Session,
    actor: User | None,
    query: SearchQuery,
    *,
    created_after: datetime | None = None,
    created_until: datetime | None = None,
) -> SearchResults:
    """A plain, slower search: every word in the title or description, newest first, no facets.

    ``created_after``/``created_until`` keep only items posted in that window (a saved
    search's e-mail lists what is new since the last one).
    """
    words = [w for w in query.q.split() if w.upper() not in ("AND", "OR", "NOT")][:FALLBACK_WORDS]
    words = [w.strip('"()-*') for w in words if w.strip('"()-*')]
    hits: list[tuple[object, str, Need | Offer]] = []
    for model, kind in ((Need, "need"), (Offer, "offer")):
        if query.kind not in (None, kind):
            continue
        withdrawn = NeedStatus.WITHDRAWN.value if model is Need else OfferStatus.WITHDRAWN.value
        statement = (
            select(model).options(selectinload(model.organisation)).where(visibility_clause(model, actor, withdrawn))
        )
        if query.status is None:
            statement = statement.where(model.status == "open")
        elif query.status != ANY_STATUS:
            statement = statement.where(model.status == query.status)
        for word in words:
            pattern = _like(word)
            statement = statement.where(
                or_(model.title.ilike(pattern, escape="\\"), model.description.ilike(pattern, escape="\\"))
            )
        if created_after is not None:
            statement = statement.where(model.created_at > created_after)
        if created_until is not None:
            statement = statement.where(model.created_at <= created_until)
        if query.category:
            statement = statement.where(model.category_code == query.category)
        if query.outcome:
            statement = statement.where(model.outcomes.any(Outcome.code == query.outcome))
        if query.district:
            if model is Need:
                statement = statement.where(Need.district_code == query.district)
            else:
                statement = statement.where(
                    Offer.districts.any(District.code == query.district) | Offer.districts.any(District.covers_all)
                )
        hits.extend((item.created_at, kind, item) for item in session.scalars(statement.limit(1000)))
    hits.sort(key=lambda hit: hit[0], reverse=True)
    start = (query.page - 1) * query.per_page
    page = [
        SearchHit(
            kind=kind,
            id=item.id,
            title=item.title,
            title_html=str(escape(item.title)),
            snippet=str(escape(item.description[:240] + ("…" if len(item.description) > 240 else ""))),
            score=None,
        )
        for _, kind, item in hits[start : start + query.per_page]
    ]
    return SearchResults(
        hits=tuple(page), total=len(hits), page=query.page, per_page=query.per_page, facets={}, query=query.q
    )
