"""API routes for suggested need↔offer pairings."""

from __future__ import annotations

from flask import request

from marketplace.clock import council_today
from marketplace.request_scope import app_state, current_actor, db_session
from marketplace.services import suggestions as suggestions_service
from marketplace.services.suggestions import SuggestionList, check_limit

from . import api
from .serializers import need_json, offer_json


def _answer(found: SuggestionList, key: str) -> dict[str, object]:
    # The services were asked for whole listings (``whole=True``): the API shows every field.
    render = need_json if key == "need" else offer_json
    items = []
    for suggestion in found.items:
        item: dict[str, object] = {
            key: render(suggestion.item),
            "score": round(suggestion.score, 4),
            "good": suggestion.good,
            "reasons": list(suggestion.reasons),
        }
        if suggestion.via_offer is not None:
            item["via_offer"] = {"id": suggestion.via_offer.id, "title": suggestion.via_offer.title}
        items.append(item)
    return {"items": items, "no_good_match": found.no_good_match}


@api.get("/needs/<int:need_id>/suggestions")
def need_suggestions(need_id: int) -> object:
    """Offers that could meet a need, best first."""
    limit = check_limit(request.args.get("limit"))
    found = suggestions_service.offers_for_need(
        db_session(), app_state().suggestions, current_actor(), need_id, limit, council_today(), whole=True
    )
    return _answer(found, "offer")


@api.get("/offers/<int:offer_id>/suggestions")
def offer_suggestions(offer_id: int) -> object:
    """Needs an offer could meet, best first (the offer's supplier and officers)."""
    limit = check_limit(request.args.get("limit"))
    found = suggestions_service.needs_for_offer(
        db_session(), app_state().suggestions, current_actor(), offer_id, limit, council_today(), whole=True
    )
    return _answer(found, "need")


@api.get("/suggestions/needs")
def supplier_suggestions() -> object:
    """Needs that best fit all of the calling supplier's open offers."""
    limit = check_limit(request.args.get("limit"))
    found = suggestions_service.needs_for_supplier(
        db_session(), app_state().suggestions, current_actor(), limit, council_today(), whole=True
    )
    return _answer(found, "need")
