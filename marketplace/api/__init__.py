"""The JSON API under /api/v1: thin handlers that parse input, call services and commit once."""

from __future__ import annotations

from flask import Blueprint, g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from marketplace import rate_limits
from marketplace.extensions import csrf
from marketplace.request_scope import db_session
from marketplace.services.accounts import user_for_token
from marketplace.validation import Code, FieldErrors, field_label

from .errors import error_response

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)


@api.before_request
def authenticate() -> object:
    """Accept a bearer token, or the browser session with a CSRF token on changes."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        user = user_for_token(db_session(), token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return error_response(401, "not_signed_in", "The bearer token is missing, unknown or revoked.")
        g.api_user = user
        rate_limits.KNOWN_TOKENS.remember(token)
        return None
    # CSRF guards changes made with a signed-in browser's session. A request with neither a
    # token nor a signed-in session acts as nobody, so it gets 401 (not signed in), not 400.
    if request.method not in ("GET", "HEAD", "OPTIONS") and current_user.is_authenticated:
        try:
            csrf.protect()
        except CSRFError:
            return error_response(
                400,
                "csrf_failed",
                "Send an Authorization: Bearer token, or the page's CSRF token in X-CSRFToken.",
            )
    return None


@api.before_request
def refuse_repeated_query_parameters() -> None:
    """Every query parameter of the API takes one value: a repeated one is refused, not half-read.

    Reading only the first of ``?supplier_id=1&supplier_id=x`` would answer a question the
    caller did not ask.

    Raises:
        ValidationFailed: naming each repeated parameter.
    """
    errors = FieldErrors()
    for name in request.args:
        if len(request.args.getlist(name)) > 1:
            errors.add(name, Code.INVALID, f"{field_label(name)} is given more than once; give it once")
    errors.raise_if_any()


from . import (  # noqa: E402, F401  (register routes)
    accounts,
    contracts,
    imports,
    needs,
    offers,
    openapi,
    people,
    pledges,
    reference,
    reports,
    search,
    suggestions,
)
