"""The web pages: GOV.UK-styled, working without JavaScript, one blueprint per area."""

from __future__ import annotations

from flask import Flask

from marketplace.web.errors import register_error_handlers


def register_web(app: Flask) -> None:
    """Register the page blueprints, the error pages and what every template needs."""
    from marketplace.web import (
        account,
        auth,
        info,
        needs,
        offers,
        officer,
        pages,
        pledges,
        reports,
        search,
        suggestions,
    )
    from marketplace.web.layout import register_layout
    from marketplace.web.officer_import import bp as officer_import_bp

    for module in (pages, auth, needs, offers, pledges, account, officer, search, suggestions, reports, info):
        app.register_blueprint(module.bp)
    app.register_blueprint(officer_import_bp)
    from marketplace.web import people, saved_searches

    app.register_blueprint(people.bp)
    app.register_blueprint(saved_searches.bp)
    register_layout(app)
    register_error_handlers(app)
