"""Rate limits on the doors people could hammer: signing in, registering, password resets and the API.

Counts are kept in memory by default (per process: with two gunicorn workers each has its
own count) or in Redis when ``MARKETPLACE_RATELIMIT_URL`` is set, which shares them between
processes and servers. The API's limit per token is a setting (MARKETPLACE_API_RATE_LIMIT).
Every refusal is a 429 with ``Retry-After``: a GOV.UK page for people, the JSON error shape
for the API.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RateLimitExceeded

from marketplace.api.errors import error_response
from marketplace.config import Config

log = logging.getLogger(__name__)

# Limits on form submissions (POST) of these pages, per client address. Generous enough for
# a person who mistypes a few times, tight enough to make guessing passwords or mass
# registration pointless.
PAGE_LIMITS: dict[str, str] = {
    "auth.sign_in": "10 per minute;60 per hour",
    "auth.register": "5 per 10 minutes;20 per day",
    "auth.forgot_password": "5 per 10 minutes;20 per day",
    "auth.reset_password": "10 per 10 minutes",
    "info.feedback": "10 per 10 minutes;50 per day",
}
# Guessing one person's password from many addresses: a limit per email address typed in.
# It applies whether or not the account exists, so it reveals nothing about who has one.
SIGN_IN_PER_EMAIL = "20 per hour"


def _client_address() -> str:
    # Behind a proxy, ProxyFix (MARKETPLACE_PROXY_HOPS) has already put the real client here.
    return request.remote_addr or "unknown"


def _submitted_email() -> str:
    email = (request.form.get("email") or "").strip().lower()
    return "email:" + hashlib.sha256(email.encode("utf-8")).hexdigest()


class KnownTokens:
    """Hashes of bearer tokens this process has seen authenticate, most recent last.

    The API limit counts per token only for these; any other token (made up, mistyped,
    revoked) counts against the caller's address, so inventing tokens neither escapes the
    limit nor grows the limiter's storage. Bounded: the least recently used hash goes first.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._hashes: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, token: str) -> None:
        """Note that ``token`` authenticated."""
        key = token_hash(token)
        with self._lock:
            self._hashes[key] = None
            self._hashes.move_to_end(key)
            while len(self._hashes) > self.size:
                self._hashes.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._hashes


KNOWN_TOKENS = KnownTokens()


def token_hash(token: str) -> str:
    """A hash of a bearer token, so the token itself never sits in the limiter's storage (or Redis)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def _authenticates(token: str) -> bool:
    """True when ``token`` belongs to an active account (and remember it); False if unsure."""
    from marketplace.request_scope import db_session
    from marketplace.services.accounts import user_for_token

    try:
        user = user_for_token(db_session(), token.strip())
    except Exception:  # the database is away: the request's own handling says so
        return False
    if user is None:
        return False
    KNOWN_TOKENS.remember(token)
    return True


def _api_caller() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        key = token_hash(token)
        if key in KNOWN_TOKENS or _authenticates(token):
            return "token:" + key
    # No token, or one that has not authenticated: a failed attempt counts against the address.
    return "address:" + _client_address()


def register_rate_limits(app: Flask, config: Config) -> None:
    """Attach the limits to the app's views; call after the blueprints are registered."""
    if not config.rate_limits_enabled:
        return
    limiter = Limiter(
        key_func=_client_address,
        app=app,
        storage_uri=config.ratelimit_url or "memory://",
        # Exact: the limit holds over any minute, not only within fixed windows (a weighted
        # sliding-window counter lets a burst across a window's edge through).
        strategy="moving-window",
        # Flask-Limiter's own headers would put Retry-After on every response, even a 200 or
        # a 503 with its own wait; the 429 handler below sets it where it belongs.
        headers_enabled=False,
        # If Redis is unreachable, count in memory rather than refuse everyone.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        key_prefix="svm",
    )
    for endpoint, limits in PAGE_LIMITS.items():
        view = limiter.limit(limits, methods=["POST"])(app.view_functions[endpoint])
        if endpoint == "auth.sign_in":
            view = limiter.limit(SIGN_IN_PER_EMAIL, methods=["POST"], key_func=_submitted_email)(view)
        app.view_functions[endpoint] = view
    api_blueprint = app.blueprints["api"]
    limiter.limit(config.api_rate_limit, key_func=_api_caller)(api_blueprint)
    app.extensions["marketplace"].limiter = limiter
    app.register_error_handler(RateLimitExceeded, _too_many_requests)


def _too_many_requests(error: RateLimitExceeded) -> Response:
    seconds = _seconds_until_reset(error)
    minutes = max(1, round(seconds / 60))
    wait = "a minute" if minutes == 1 else f"{minutes} minutes"
    log.warning(
        "rate limit reached",
        extra={"path": request.path, "method": request.method, "limit": str(error.limit.limit)},
    )
    if request.path.startswith("/api/"):
        response = error_response(429, "rate_limited", f"Too many requests. Wait {wait} and try again.", None)
    else:
        message = f"You have tried this too many times. Wait {wait} and try again."
        if request.endpoint == "auth.sign_in":
            message += " If you have forgotten your password, you can reset it."
        html = render_template("error.html", status=429, title="Too many attempts", message=message)
        response = Response(html, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(seconds)
    return response


def _seconds_until_reset(error: RateLimitExceeded) -> int:
    current = current_app.extensions["marketplace"].limiter.current_limit
    if current is not None:
        return max(1, int(current.reset_at - time.time()))
    return int(error.limit.limit.get_expiry())
