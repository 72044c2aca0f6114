"""API routes for needs."""

from __future__ import annotations

from flask import url_for

from marketplace.clock import council_today
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import needs as needs_service
from marketplace.services.listings import load_outcomes
from marketplace.services.reference import reference_lists

from . import api
from .parsing import json_body, list_arguments
from .serializers import need_json, page_json


@api.get("/needs")
def list_needs() -> object:
    """Needs the caller may see, filtered and paged."""
    session = db_session()
    filters, page, per_page = list_arguments(reference_lists(session), needs_service.NEED_STATUSES)
    result = needs_service.list_needs(session, current_actor(), filters, page, per_page)
    load_outcomes(session, result.items)
    return page_json(result, need_json)


@api.post("/needs")
def post_need() -> object:
    """Post a need for the caller's community group."""
    need = needs_service.post_need(db_session(), current_actor(), json_body(), council_today())
    commit()
    return need_json(need), 201, {"Location": url_for("api.get_need", need_id=need.id)}


@api.get("/needs/<int:need_id>")
def get_need(need_id: int) -> object:
    """One need."""
    return need_json(needs_service.get_need(db_session(), current_actor(), need_id))


@api.patch("/needs/<int:need_id>")
def edit_need(need_id: int) -> object:
    """Change some fields of an open need."""
    need = needs_service.edit_need(db_session(), current_actor(), need_id, json_body(), council_today())
    commit()
    return need_json(need)


@api.post("/needs/<int:need_id>/withdraw")
def withdraw_need(need_id: int) -> object:
    """Withdraw an open need."""
    need = needs_service.withdraw_need(db_session(), current_actor(), need_id)
    commit()
    return need_json(need)


@api.post("/needs/<int:need_id>/met")
def mark_need_met(need_id: int) -> object:
    """The posting group marks an open need as met."""
    need = needs_service.mark_need_met(db_session(), current_actor(), need_id)
    commit()
    return need_json(need)
