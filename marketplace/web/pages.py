"""The start page."""

from __future__ import annotations

from flask import Blueprint, render_template

from marketplace.request_scope import current_actor, db_session
from marketplace.services.listings import Filters
from marketplace.services.needs import list_needs
from marketplace.services.offers import list_offers

bp = Blueprint("pages", __name__)


@bp.get("/")
def start() -> str:
    """What the service is for, and the newest open needs and offers."""
    session, actor = db_session(), current_actor()
    return render_template(
        "start.html",
        needs=list_needs(session, actor, Filters(), 1, 3),
        offers=list_offers(session, actor, Filters(), 1, 3),
    )
