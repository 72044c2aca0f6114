"""The supplier's area: suggestions on pages, "needs that fit your offers", and contracts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, url_for

from marketplace.clock import council_today
from marketplace.request_scope import app_state, current_actor, db_session
from marketplace.services import contracts as contracts_service
from marketplace.services import suggestions as suggestions_service
from marketplace.services.errors import ServiceUnavailable
from marketplace.services.suggestions import SuggestionList

log = logging.getLogger(__name__)

bp = Blueprint("supplier", __name__, url_prefix="/supplier")

SUGGESTIONS_SHOWN = 5


@dataclass(frozen=True)
class SuggestionsPanel:
    """What a page shows about suggestions: the list, or why there is none."""

    found: SuggestionList | None
    unavailable: str | None = None


def suggested(load: Callable[[], SuggestionList], *, show: bool) -> SuggestionsPanel | None:
    """Suggestions for a page section; a broken model hides the section's list, not the page."""
    if not show:
        return None
    try:
        return SuggestionsPanel(found=load())
    except ServiceUnavailable as error:
        return SuggestionsPanel(found=None, unavailable=error.message)


@bp.get("/suggested-needs")
def suggested_needs() -> str:
    """Needs that best fit all of the supplier's open offers."""
    found = suggestions_service.needs_for_supplier(
        db_session(), app_state().suggestions, current_actor(), 20, council_today()
    )
    return render_template("supplier/suggested_needs.html", found=found)


@bp.get("/contracts")
def contracts() -> str:
    """The supplier's contracts and progress against each social value target."""
    session, actor = db_session(), current_actor()
    page = contracts_service.list_contracts(session, actor, per_page=100)
    if actor is not None and actor.is_officer:
        return redirect(url_for("officer.contracts"))
    return render_template(
        "contracts/list.html", page=page, progress=contracts_service.progress(session, page.items), officer=False
    )
