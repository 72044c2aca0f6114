"""Saved searches: anyone signed in keeps the search page's query and filters and is e-mailed,
daily or weekly, the needs or offers newly posted that match it.

A group saves a search of offers, a supplier one of needs (or either, by the search's own
"Needs or offers" filter). The e-mails are queued by ``send_saved_searches`` (run by
``marketplace send-summaries``); a search with nothing new sends nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.models import Need, Offer, Role, SavedSearch, User
from marketplace.search.queries import database_search, viewer_of
from marketplace.services.accounts import require_role
from marketplace.services.digest import ALERT_FREQUENCIES, MAX_LISTED, MAX_WINDOW
from marketplace.services.errors import NotFound, ValidationFailed
from marketplace.services.notifications import absolute_link, queue_email
from marketplace.services.reference import reference_lists
from marketplace.validation import FieldErrors, clean_choice, clean_optional_text, row_id
from search_index import MAX_QUERY_CHARS, IndexUnavailable, SearchHit, SearchIndex, SearchQuery

log = logging.getLogger(__name__)

# How often the e-mail comes: the same periods as a group's alerts of fitting offers.
FREQUENCIES = {name: period for name, period in ALERT_FREQUENCIES.items() if period is not None}
FREQUENCY_LABELS = {"daily": "Daily", "weekly": "Weekly"}
# Enough for anyone's interests, few enough that nobody floods themselves with e-mail.
MAX_SAVED = 20
FILTERS = ("kind", "category", "district", "outcome")
ROLES = (Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
KIND_WORDS = {"need": "needs", "offer": "offers", None: "needs and offers"}


def default_kind(user: User) -> str | None:
    """What a search lists when it does not say: offers for a group, needs for a supplier."""
    return {Role.COMMUNITY: "offer", Role.SUPPLIER: "need"}.get(user.role)


def _clean(session: Session, user: User, data: Mapping[str, object]) -> dict[str, str | None]:
    lists = reference_lists(session)
    allowed = {
        "kind": ({"need", "offer"}, "Choose needs or offers"),
        "category": (lists.category_codes, "Choose a category from the list"),
        "district": (lists.district_codes, "Choose a district from the list"),
        "outcome": (lists.outcome_codes, "Choose an outcome from the list"),
    }
    errors = FieldErrors()
    values: dict[str, str | None] = {"q": clean_optional_text(data, "q", "the search words", MAX_QUERY_CHARS, errors)}
    for name, (choices, message) in allowed.items():
        values[name] = clean_choice(data, name, choices, message, errors, required=False)
    values["frequency"] = clean_choice(
        data, "frequency", set(FREQUENCIES), "Choose how often you want the email: daily or weekly", errors
    )
    errors.raise_if_any()
    if values["kind"] is None:
        values["kind"] = default_kind(user)
    return values


def unsaved(actor: User | None, data: Mapping[str, object]) -> SavedSearch:
    """The search as it would be saved (not stored, not checked): to describe it before saving."""
    values = {name: (str(data.get(name) or "") or None) for name in FILTERS}
    if values["kind"] not in KIND_WORDS:
        values["kind"] = None  # not a kind: described as the default; saving it is refused
    preview = SavedSearch(q=str(data.get("q") or ""), frequency="daily", **values)
    if preview.kind is None and actor is not None:
        preview.kind = default_kind(actor)
    return preview


def save_search(session: Session, actor: User | None, data: Mapping[str, object]) -> SavedSearch:
    """Keep a search for the person, with how often to e-mail what newly matches it.

    ``data`` holds ``q``, the filters ``kind``, ``category``, ``district`` and ``outcome``
    (codes, or empty), and ``frequency`` ("daily" or "weekly").

    Raises:
        NotSignedIn; ValidationFailed: an unknown filter or frequency, words too long, the
        same search saved already, or more than ``MAX_SAVED`` searches.
    """
    user = require_role(actor, *ROLES)
    values = _clean(session, user, data)
    mine = list_saved_searches(session, user)
    if any(all(getattr(saved, name) == values[name] for name in ("q", *FILTERS)) for saved in mine):
        raise ValidationFailed({"frequency": "You have saved this search already"})
    if len(mine) >= MAX_SAVED:
        raise ValidationFailed({"frequency": f"You can save up to {MAX_SAVED} searches. Delete one first"})
    saved = SavedSearch(user_id=user.id, **values)
    session.add(saved)
    session.flush()
    log.info("search saved", extra={"user_id": user.id, "saved_search_id": saved.id, "frequency": saved.frequency})
    return saved


def list_saved_searches(session: Session, actor: User | None) -> list[SavedSearch]:
    """The person's saved searches, newest first."""
    user = require_role(actor, *ROLES)
    return list(
        session.scalars(
            select(SavedSearch)
            .where(SavedSearch.user_id == user.id)
            .order_by(SavedSearch.created_at.desc(), SavedSearch.id.desc())
        )
    )


def delete_saved_search(session: Session, actor: User | None, saved_search_id: object) -> SavedSearch:
    """Stop a saved search and its e-mails.

    Raises:
        NotFound: no such saved search of this person (someone else's is not said to exist).
    """
    user = require_role(actor, *ROLES)
    number = row_id(saved_search_id)
    saved = session.get(SavedSearch, number) if number else None
    if saved is None or saved.user_id != user.id:
        raise NotFound("No such saved search")
    session.delete(saved)
    session.flush()
    log.info("saved search deleted", extra={"user_id": user.id, "saved_search_id": number})
    return saved


def search_path(saved: SavedSearch) -> str:
    """The search page showing this search's results."""
    args = {name: value for name in ("q", *FILTERS) if (value := getattr(saved, name))}
    return "/search" + (f"?{urlencode(args)}" if args else "")


def saved_search_fields(saved: SavedSearch) -> dict[str, object]:
    """A saved search's own fields, as the API and the person's data export both give them."""
    return {
        "q": saved.q,
        **{name: getattr(saved, name) for name in FILTERS},
        "frequency": saved.frequency,
        "created_at": saved.created_at.isoformat(),
        "last_sent_at": saved.last_sent_at.isoformat() if saved.last_sent_at else None,
    }


@dataclass(frozen=True)
class Described:
    """A saved search in words, for its list and its e-mail."""

    words: str  # "“paint” in offers" or "all offers"
    filters: list[str]  # "Category: Volunteering", …


def describe(session: Session, saved: SavedSearch) -> Described:
    """What a saved search looks for, as people say it."""
    lists = reference_lists(session)
    names = {
        "category": ("Category", {c.code: c.name for c in lists.categories}),
        "district": ("District", {d.code: d.name for d in lists.districts}),
        "outcome": ("Outcome", {o.code: o.name for o in lists.outcomes}),
    }
    kinds = KIND_WORDS[saved.kind]
    words = f"“{saved.q}” in {kinds}" if saved.q else f"all {kinds}"
    filters = [
        f"{label}: {labels.get(value, value)}"
        for name, (label, labels) in names.items()
        if (value := getattr(saved, name))
    ]
    return Described(words=words, filters=filters)


# The search index catches up with new items within moments of their commit; items posted in
# the last few minutes wait for the next e-mail, so none is missed while it catches up.
SETTLE = timedelta(minutes=10)
# At most this many results are considered per e-mail (newest first).
CONSIDERED = 100


def _new_results(
    session: Session, index: SearchIndex | None, saved: SavedSearch, since: datetime, until: datetime
) -> list[SearchHit]:
    """The items posted in (since, until] that the saved search finds, newest first.

    The search index answers as the search page does (stemming, synonyms); without a usable
    index, the database's plainer word search does.
    """
    query = SearchQuery(
        q=saved.q,
        kind=saved.kind,
        category=saved.category,
        district=saved.district,
        outcome=saved.outcome,
        sort="newest",
        per_page=CONSIDERED,
    )
    if index is not None:
        try:
            hits = index.search(query, viewer_of(saved.user)).hits
        except IndexUnavailable:
            log.warning("saved searches use the database: the search index is unavailable")
        else:
            new: set[tuple[str, int]] = set()
            for model, kind in ((Need, "need"), (Offer, "offer")):
                ids = [hit.id for hit in hits if hit.kind == kind]
                if ids:
                    rows = session.scalars(
                        select(model.id).where(model.id.in_(ids), model.created_at > since, model.created_at <= until)
                    )
                    new.update((kind, row) for row in rows)
            return [hit for hit in hits if (hit.kind, hit.id) in new]
    return list(database_search(session, saved.user, query, created_after=since, created_until=until).hits)


def send_saved_searches(session: Session, *, base_url: str, now: datetime, index: SearchIndex | None = None) -> int:
    """Queue one e-mail per saved search whose day or week is over and that has something new.

    New means posted since the search's last e-mail (at most a week back) and until a few
    minutes ago (``SETTLE``), visible to the person and open. Flushes, never commits.
    Returns the e-mails queued.
    """
    link = partial(absolute_link, base_url)
    until = now - SETTLE
    queued = 0
    due = session.scalars(
        select(SavedSearch)
        .join(User, User.id == SavedSearch.user_id)
        .where(User.active, User.closed_at.is_(None))
        .order_by(SavedSearch.id)
    ).all()
    for saved in due:
        period = FREQUENCIES.get(saved.frequency)
        last = saved.last_sent_at or saved.created_at
        if period is None or now - last < period:
            continue
        since = max(last, now - MAX_WINDOW)
        saved.last_sent_at = until
        found = _new_results(session, index, saved, since, until)
        if not found:
            continue
        shown = found[:MAX_LISTED]
        described = describe(session, saved)
        lines = [
            f"Hello {saved.user.name or saved.user.email},",
            "",
            f"New since your last email for your saved search {described.words}"
            + (f" ({', '.join(described.filters)})" if described.filters else "")
            + ":",
        ]
        for number, hit in enumerate(shown, start=1):
            lines += ["", f"{number}. {hit.title}", f"   {link(f'/{hit.kind}s/{hit.id}')}"]
        if len(found) > len(shown):
            lines += ["", f"And {len(found) - len(shown)} more."]
        lines += [
            "",
            f"See every result: {link(search_path(saved))}",
            f"To change or stop these emails: {link('/account/saved-searches')}",
        ]
        subject = (
            f"New for your saved search: “{found[0].title}”"
            if len(found) == 1
            else f"{len(found)} new results for your saved search {described.words}"
        )
        queue_email(session, [saved.user.email], subject, "\n".join(lines))
        queued += 1
    session.flush()
    log.info("saved search e-mails queued", extra={"emails": queued})
    return queued
