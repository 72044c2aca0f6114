"""API route for full-text search."""

from __future__ import annotations

from flask import request

from marketplace.models import SavedSearch
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.search.queries import SORTS, STATUSES, parse_search, search
from marketplace.services import saved_searches
from marketplace.services.accounts import require_role
from marketplace.validation import FieldErrors, unknown_fields
from search_index import MAX_QUERY_CHARS

from . import api
from .openapi import DATE_TIME, PAGING, SIGNED_IN, body, document, error, path_id, query_param, ref, responses
from .parsing import json_body


@api.get("/search")
def search_listings() -> object:
    """Needs and offers matching a query, with facet counts and a "did you mean"."""
    session = db_session()
    outcome = search(session, app_state().search, current_actor(), parse_search(session, request.args))
    found = outcome.results
    return {
        "items": [
            {"kind": hit.kind, "id": hit.id, "title": hit.title, "snippet": hit.snippet, "score": hit.score}
            for hit in found.hits
        ],
        "total": found.total,
        "page": found.page,
        "per_page": found.per_page,
        "facets": {name: {f.value: f.count for f in values} for name, values in found.facets.items()},
        "did_you_mean": found.suggestion,
        "fallback": outcome.fallback,
    }


document(
    {
        "/search": {
            "get": {
                "summary": "Full-text search over needs and offers, with facet counts",
                "parameters": [
                    query_param("q", 'Words, "phrases", -excluded, OR'),
                    query_param("kind", "need or offer (both by default)", {"enum": ["need", "offer"]}),
                    query_param("category", "A category code (GET /reference)"),
                    query_param("district", "A district code (GET /reference)"),
                    query_param("outcome", "An outcome code (GET /reference)"),
                    query_param("status", "A status, or 'any'; open by default", {"enum": [*sorted(STATUSES), "any"]}),
                    query_param("sort", "relevance (default) or newest", {"enum": list(SORTS)}),
                    *PAGING,
                ],
                "responses": responses("200", ref("SearchResults")),
            }
        }
    }
)


def saved_search_json(saved: SavedSearch) -> dict[str, object]:
    """A saved search as the API shows it."""
    return {
        "id": saved.id,
        **saved_searches.saved_search_fields(saved),
        "search_url": request.host_url.rstrip("/") + saved_searches.search_path(saved),
    }


@api.route("/me/saved-searches", methods=["GET", "POST"])
def my_saved_searches() -> object:
    """The caller's saved searches, or a new one."""
    session, actor = db_session(), current_actor()
    if request.method == "POST":
        require_role(actor, *saved_searches.ROLES)
        data = json_body()
        errors = FieldErrors()
        unknown_fields(data, {"q", *saved_searches.FILTERS, "frequency"}, errors)
        errors.raise_if_any()
        saved = saved_searches.save_search(session, actor, data)
        commit()
        return saved_search_json(saved), 201
    found = saved_searches.list_saved_searches(session, actor)
    return {"items": [saved_search_json(s) for s in found], "total": len(found)}


@api.delete("/me/saved-searches/<int:saved_search_id>")
def delete_saved_search(saved_search_id: int) -> object:
    """Stop one of the caller's saved searches and its e-mails."""
    saved_searches.delete_saved_search(db_session(), current_actor(), saved_search_id)
    commit()
    return "", 204


_CODE = {"type": ["string", "null"], "maxLength": 80}
_SAVED_SEARCH = {
    "type": "object",
    "required": ["id", "q", "kind", "category", "district", "outcome", "frequency", "search_url", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "q": {"type": "string"},
        "kind": {"enum": ["need", "offer", None], "description": "What the emails list; null for both"},
        "category": _CODE,
        "district": _CODE,
        "outcome": _CODE,
        "frequency": {"enum": list(saved_searches.FREQUENCIES)},
        "search_url": {"type": "string", "description": "The search page showing its results"},
        "created_at": DATE_TIME,
        "last_sent_at": {**DATE_TIME, "type": ["string", "null"]},
    },
}
document(
    {
        "/me/saved-searches": {
            "get": {
                "summary": "The caller's saved searches, newest first",
                "security": SIGNED_IN,
                "responses": responses(
                    "200",
                    {
                        "type": "object",
                        "required": ["items", "total"],
                        "properties": {
                            "items": {"type": "array", "items": ref("SavedSearch")},
                            "total": {"type": "integer", "minimum": 0},
                        },
                    },
                ),
            },
            "post": {
                "summary": "Save a search; what is newly posted that matches it is emailed daily or weekly",
                "description": "The words and filters are those of GET /search (empty or null: not given). "
                "Without `kind`, a community "
                f"group's search lists offers and a supplier's needs. Up to {saved_searches.MAX_SAVED} per "
                "person; the same search twice is refused (422). Nothing is sent when nothing new matches.",
                "security": SIGNED_IN,
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["frequency"],
                        "additionalProperties": False,
                        "properties": {
                            "q": {"type": ["string", "null"], "maxLength": MAX_QUERY_CHARS},
                            "kind": {"enum": ["need", "offer", "", None]},
                            "category": {"type": ["string", "null"], "description": "A category code (GET /reference)"},
                            "district": {"type": ["string", "null"], "description": "A district code (GET /reference)"},
                            "outcome": {"type": ["string", "null"], "description": "An outcome code (GET /reference)"},
                            "frequency": {"enum": list(saved_searches.FREQUENCIES)},
                        },
                    },
                    {"q": "paint", "kind": "offer", "frequency": "weekly"},
                ),
                "responses": responses("201", ref("SavedSearch"), "403"),
            },
        },
        "/me/saved-searches/{saved_search_id}": {
            "parameters": [path_id("saved_search_id")],
            "delete": {
                "summary": "Delete one of the caller's saved searches (its emails stop)",
                "security": SIGNED_IN,
                "responses": {"204": {"description": "Deleted"}, "404": error("404")},
            },
        },
    },
    {"SavedSearch": _SAVED_SEARCH},
)
