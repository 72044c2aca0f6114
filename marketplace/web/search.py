"""The search page."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from marketplace.request_scope import app_state, current_actor, db_session
from marketplace.search.queries import parse_search, search
from marketplace.services.errors import ValidationFailed
from marketplace.services.reference import reference_lists
from marketplace.services.saved_searches import FILTERS as SAVED_FILTERS
from marketplace.web.listing_pages import item_links, linker, pagination
from search_index import SearchQuery

bp = Blueprint("search", __name__)

FACET_TITLES = {
    "kind": "Needs or offers",
    "category": "Category",
    "district": "District",
    "outcome": "Outcome",
    "status": "Status",
}


def _labels() -> dict[str, dict[str, str]]:
    lists = reference_lists(db_session())
    return {
        "kind": {"need": "Needs", "offer": "Offers"},
        "category": {c.code: c.name for c in lists.categories},
        "district": {d.code: d.name for d in lists.districts},
        "outcome": {o.code: o.name for o in lists.outcomes},
        "status": {},
    }


@bp.get("/search")
def results() -> str:
    """Search needs and offers, with facets, sorting and paging."""
    session = db_session()
    errors: list[dict[str, str]] = []
    try:
        query = parse_search(session, request.args)
    except ValidationFailed as error:
        errors = [{"text": message, "href": "#q"} for message in error.fields.values()]
        query = SearchQuery(q=request.args.get("q", "")[:1000])
    outcome = search(session, app_state().search, current_actor(), query)
    found = outcome.results
    link = linker("search.results")
    return render_template(
        "search.html",
        query=query,
        q=request.args.get("q", ""),
        found=found,
        fallback=outcome.fallback,
        labels=_labels(),
        facet_titles=FACET_TITLES,
        link=link,
        item_link=item_links(),
        errors=errors,
        pagination=pagination(found, "search.results"),
        sort=request.args.get("sort") or "relevance",
        save_href=_save_link(),
    )


def _save_link() -> str:
    """Where "Save this search" leads: the form to save it, or signing in first and back here."""
    if current_actor() is None:
        here = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
        return url_for("auth.sign_in", next=here)
    kept = {name: request.args[name] for name in ("q", *SAVED_FILTERS) if request.args.get(name)}
    return url_for("saved_searches.new", **kept)
