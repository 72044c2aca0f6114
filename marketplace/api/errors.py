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
    field_codes: dict[str, str] | None = None,
) -> Response:
    """A JSON error response in the API's one shape, with any headers the status calls for.

    ``field_codes`` gives each field's machine-readable code (marketplace.validation.Code)
    beside its message in ``fields``, for programs that act on the kind of problem.
    """
    body: dict[str, object] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    if fields and field_codes:
        body["field_codes"] = {name: field_codes.get(name, "invalid") for name in fields}
    response = jsonify({"error": body})
    response.status_code = status
    for name, value in headers:
        response.headers[name] = value
    return response
