"""Every failure, mapped once: a GOV.UK error page for people, the JSON error shape for the API."""

from __future__ import annotations

import logging

from flask import Flask, flash, g, make_response, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from marketplace.api.errors import error_response
from marketplace.db import database_unavailable
from marketplace.extensions import login_manager
from marketplace.request_scope import discard_session
from marketplace.services.errors import DomainError, NotSignedIn, RateLimited, ValidationFailed
from marketplace.validation import MAX_BODY_TEXT

log = logging.getLogger(__name__)

_TITLES = {
    400: "There is a problem with your request",
    401: "Sign in to continue",
    403: "You cannot do that",
    404: "Page not found",
    405: "You cannot do that here",
    409: "That cannot be done now",
    413: "What you sent is too large",
    422: "There is a problem",
    429: "Too many requests",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}
RETRY_AFTER_SECONDS = 30


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, title=_TITLES.get(status, "Error"), message=message), status


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, HTTP errors and unexpected exceptions for pages and the API."""

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> object:
        # Every 429 says when to try again, on pages and in the API alike.
        headers = [("Retry-After", str(error.retry_after))] if isinstance(error, RateLimited) else []
        if _wants_json():
            if isinstance(error, ValidationFailed):
                return error_response(
                    error.http_status, error.code, error.message, error.fields, field_codes=error.codes
                )
            return error_response(error.http_status, error.code, error.message, headers=headers)
        if isinstance(error, NotSignedIn):
            flash("Sign in to continue.", "info")
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        message = error.message
        if isinstance(error, ValidationFailed):
            message = " ".join(error.fields.values()) or error.message
        body, status = _page(error.http_status, message)
        return body, status, headers

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> object:
        message = "The form had expired or was sent from another site. Go back, reload the page and try again."
        if _wants_json():
            return error_response(400, "csrf_failed", message)
        return _page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> object:
        status = error.code or 500
        messages = {
            404: "If you typed the web address, check it is correct. If you pasted it, check you copied "
            "the entire address.",
            405: "This address does not accept that kind of request.",
            413: f"The request must be smaller than {MAX_BODY_TEXT}.",
            414: "The address is too long. Shorten the search or the filters and try again.",
        }
        message = messages.get(status, error.description or "")
        # Keep what the error says about itself, such as the Allow header of a 405.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        if _wants_json():
            code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 414: "uri_too_long"}.get(
                status, "http_error"
            )
            return error_response(status, code, message, headers=headers)
        return (*_page(status, message), headers)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> object:
        log.exception("unexpected error", extra={"path": request.path, "method": request.method})
        message = "Nothing you sent was saved. Try again later."
        if _wants_json():
            return error_response(500, "internal_error", message)
        return _page(500, message)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeout)
    def database_error(error: Exception) -> object:
        if not database_unavailable(error):
            return unexpected_error(error)
        return _database_unavailable(error)


def _database_unavailable(error: Exception) -> object:
    """503: the database went away or is overloaded. The request's transaction never committed,
    so nothing it wrote was kept; the pool has dropped a broken connection, so a later request
    starts afresh.
    """
    # Only the driver's first line: the exception's own text carries the SQL statement.
    orig = getattr(error, "orig", None) or error
    reason = (str(orig).strip().splitlines() or [""])[0][:200]
    log.error(
        "database unavailable",
        extra={
            "path": request.path,
            "method": request.method,
            "error": type(orig).__name__,
            "reason": reason,
            "connection_invalidated": getattr(error, "connection_invalidated", False),
        },
    )
    # The broken session cannot even be rolled back safely while rendering; nor can the
    # signed-in user be loaded, so the page is drawn without them (and without navigation).
    discard_session()
    g._login_user = login_manager.anonymous_user()
    message = "Nothing you sent was saved. Try again in a few minutes."
    if _wants_json():
        response = error_response(503, "unavailable", "The service is unavailable. " + message)
    else:
        response = make_response(render_template("unavailable.html", title=_TITLES[503], message=message), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
