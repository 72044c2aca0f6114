"""API route for full-text search."""

from __future__ import annotations

from flask import request

from marketplace.request_scope import app_state, current_actor, db_session
from marketplace.search.queries import SORTS, STATUSES, parse_search, search

from . import api
from .openapi import PAGING, document, query_param, ref, responses


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
