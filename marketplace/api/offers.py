"""API routes for offers."""

from __future__ import annotations

from flask import url_for

from marketplace.clock import council_today
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import offers as offers_service
from marketplace.services.listings import load_outcomes
from marketplace.services.reference import reference_lists

from . import api
from .parsing import json_body, list_arguments
from .serializers import offer_json, page_json


@api.get("/offers")
def list_offers() -> object:
    """Offers the caller may see, filtered and paged."""
    session = db_session()
    filters, page, per_page = list_arguments(reference_lists(session), offers_service.OFFER_STATUSES)
    result = offers_service.list_offers(session, current_actor(), filters, page, per_page)
    load_outcomes(session, result.items)
    return page_json(result, offer_json)


@api.post("/offers")
def post_offer() -> object:
    """Post an offer for the caller's supplier organisation."""
    offer = offers_service.post_offer(db_session(), current_actor(), json_body(), council_today())
    commit()
    return offer_json(offer), 201, {"Location": url_for("api.get_offer", offer_id=offer.id)}


@api.get("/offers/<int:offer_id>")
def get_offer(offer_id: int) -> object:
    """One offer."""
    return offer_json(offers_service.get_offer(db_session(), current_actor(), offer_id))


@api.patch("/offers/<int:offer_id>")
def edit_offer(offer_id: int) -> object:
    """Change some fields of an offer that is not withdrawn."""
    offer = offers_service.edit_offer(db_session(), current_actor(), offer_id, json_body(), council_today())
    commit()
    return offer_json(offer)


@api.post("/offers/<int:offer_id>/<any(pause, resume, withdraw):action>")
def change_offer_status(offer_id: int, action: str) -> object:
    """Pause, resume or withdraw an offer."""
    offer = offers_service.change_offer_status(db_session(), current_actor(), offer_id, action)
    commit()
    return offer_json(offer)
