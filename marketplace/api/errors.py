"""The API's error shape: {"error": {"code", "message", "fields"}}, used for every failure."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response, jsonify


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A JSON error response in the API's one shape, with any headers the status calls for."""
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in headers:
        response.headers[name] = value
    return response
