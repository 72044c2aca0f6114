"""Reading API input: JSON bodies, query-string filters and paging."""

from __future__ import annotations

from flask import request

from marketplace.services.errors import DomainError, ValidationFailed


class MalformedRequest(DomainError):
    """The body is not a JSON object."""

    code = "malformed_request"
    http_status = 400


def json_body(*, allow_empty: bool = False) -> dict[str, object]:
    """The request's JSON object.

    Raises:
        MalformedRequest: for a body that is not valid JSON or not an object.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if allow_empty:
            return {}
        raise MalformedRequest("The request body must be a JSON object.")
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object (valid JSON, UTF-8).")
    return data


def query_flag(name: str) -> bool | None:
    """A true/false query parameter; absent means None.

    Raises:
        ValidationFailed: for anything but true/false.
    """
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValidationFailed({name: f"{name} must be true or false"})
