"""What every page's layout needs: navigation for the person's role and display helpers."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import MutableMapping
from datetime import date, datetime
from typing import Any

from flask import Flask, request, url_for
from flask.templating import Environment

from marketplace import formatting
from marketplace.clock import COUNCIL_ZONE
from marketplace.models import Role, User
from marketplace.request_scope import app_state, current_actor, db_session
from marketplace.services.tasks import waiting_count


def _navigation() -> list[dict[str, object]]:
    actor = current_actor()
    items = [("Needs", "needs.browse"), ("Offers", "offers.browse"), ("Impact", "reports.impact")]
    if actor is not None and actor.role is Role.COMMUNITY:
        items.append(("Your needs", "account.my_needs"))
        items.append(("Pledges", "pledges.mine"))
    if actor is not None and actor.role is Role.SUPPLIER:
        items.append(("Your offers", "account.my_offers"))
        items.append(("Needs for you", "supplier.suggested_needs"))
        items.append(("Pledges", "pledges.mine"))
        items.append(("Contracts", "supplier.contracts"))
    if actor is not None and actor.role is Role.OFFICER:
        items.append(("Officer dashboard", "officer.dashboard"))
        items.append(("Reports", "reports.officer_reports"))
    if actor is not None:
        items.append((_account_label(actor), "account.overview"))
    else:
        items.extend([("Sign in", "auth.sign_in"), ("Register", "auth.register")])
    links = [(text, url_for(endpoint)) for text, endpoint in items]
    # Only the most specific matching link is current: /officer/reports is Reports, not the dashboard.
    matches = [href for _, href in links if href != "/" and request.path.startswith(href)]
    current = max(matches, key=len, default=None)
    nav = [{"text": text, "href": href, "active": href == current} for text, href in links]
    return nav


def _account_label(actor: User) -> str:
    # The navigation shows how many steps are waiting for the person, on every page.
    waiting = waiting_count(db_session(), actor)
    return f"Your account ({waiting} waiting)" if waiting else "Your account"


def format_date(value: date | datetime | None) -> str:
    """A date the GOV.UK way: 27 March 2027."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(COUNCIL_ZONE)
        return f"{value.day} {value:%B %Y} at {value:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")
    return f"{value.day} {value:%B %Y}"


# How an audit action reads on a page: "pledge.approve" is "Pledge approved".
_DONE = {
    "propose": "proposed",
    "accept": "accepted",
    "decline": "declined",
    "approve": "approved",
    "reject": "rejected",
    "deliver": "delivered",
    "confirm": "confirmed",
    "cancel": "cancelled",
    "create": "created",
    "update": "changed",
    "change": "changed",
    "close": "closed",
    "reset": "put back to the shipped wording",
    "import": "imported",
    "verify": "verified",
    "withdraw": "withdrawn",
}


def audit_words(action: str) -> str:
    """An audit action in words: ``pledge.approve`` → "Pledge approved"; unknown ones readably as they are."""
    noun, _, verb = action.partition(".")
    noun = noun.replace("_", " ").capitalize()
    return f"{noun} {_DONE.get(verb, verb.replace('_', ' '))}".strip()


class _TemplateGlobals(ChainMap):
    """A template's globals over the environment's, as Jinja makes them, with keys as a set.

    Every ``{% from ... import ... %}`` takes the names of the rendering context's globals less
    the imported template's (``ctx.globals_keys - template.globals.keys()``). Against a
    ChainMap's keys view that is a Python-level lookup per name in each map: about a tenth of
    a millisecond a page, whose layout imports a dozen macros. A set takes the difference in C.
    """

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)


class TemplateEnvironment(Environment):
    """Flask's template environment, with :class:`_TemplateGlobals` as each template's globals."""

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals over the environment's (see :class:`_TemplateGlobals`)."""
        if d is None:
            d = {}
        return _TemplateGlobals(d, self.globals)


def register_layout(app: Flask) -> None:
    """Add the layout's context and filters to every template."""

    @app.context_processor
    def layout_context() -> dict[str, object]:
        config = app_state().config
        return {
            "council_name": config.council_name,
            "service_name": config.service_name,
            "navigation": _navigation,
            "actor": current_actor(),
        }

    app.add_template_filter(format_date, "govuk_date")
    app.add_template_filter(formatting.number, "number")
    app.add_template_filter(formatting.amount, "amount")
    app.add_template_filter(formatting.count, "count")
    app.add_template_filter(audit_words, "audit_words")
