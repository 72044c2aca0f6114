"""Security headers on every response.

The Content-Security-Policy allows scripts, styles, images and fonts from this site only and
no inline script at all (the GOV.UK page template's one inline script is a file in our copy
of the template, templates/page_template.html). Pages are never framed; HSTS is sent when
the request came over HTTPS. Every answer to someone signed in is ``Cache-Control: no-store``.
"""

from __future__ import annotations

from flask import Flask, Response, g, request, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    """Add the headers to every response."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if _private(response):
            # Signed-in pages hold contact details, tokens shown once and personal data: no
            # browser, proxy or shared computer may keep a copy.
            if "no-store" not in headers.get("Cache-Control", ""):  # keep a stricter "private, no-store"
                headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
            headers.add("Vary", "Cookie")
        return response


def _private(response: Response) -> bool:
    """True for an answer to someone signed in (browser session or API token)."""
    if request.endpoint == "static":
        return False
    # The session's user id, not the loaded user: no database read here, so this works
    # even on a 503 answer while the database is away.
    return request.authorization is not None or "api_user" in g or "_user_id" in session
