"""Reading API input: JSON bodies, query-string filters and paging.

A JSON body is read as the OpenAPI document describes it: numbers as ``Decimal`` (never
through a float), ``NaN`` and ``Infinity`` refused (they are not JSON), each field's JSON type
checked against the operation's request schema (a number in quotes is text, not a number),
and text that no database can store (a NUL, a lone surrogate) refused naming its field.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache

from flask import request

from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.services.listings import Filters, check_filters
from marketplace.services.paging import check_paging
from marketplace.services.reference import ReferenceLists
from marketplace.validation import Code, FieldErrors, field_label, has_bad_text


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
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_not_a_json_number)
    except _NotJson as error:
        raise MalformedRequest(str(error)) from None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object (valid JSON, UTF-8).")
    errors = FieldErrors()
    for name, value in data.items():
        if has_bad_text(name):
            errors.add("input", Code.BAD_CHARACTERS, "Field names must not contain control characters")
        elif has_bad_text(value):
            errors.add(
                name, Code.BAD_CHARACTERS, f"{field_label(name)} contains characters that cannot be stored; remove them"
            )
    errors.raise_if_any()
    _check_types(data, _request_schema(request.method.lower(), request.url_rule.rule if request.url_rule else ""))
    return data


class _NotJson(ValueError):
    """NaN or Infinity in a body: JavaScript writes them, JSON has no such numbers."""


def _not_a_json_number(name: str) -> object:
    raise _NotJson(f"{name} is not a number in JSON; send a number such as 40, or null.")


_JSON_TYPES = {
    "null": "null",
    "boolean": "true or false",
    "integer": "a whole number, like 3",
    "number": "a number, like 40 (without quotes)",
    "string": "text in quotes",
    "array": "a list",
    "object": "an object",
}


def _json_type(value: object) -> set[str]:
    if value is None:
        return {"null"}
    if isinstance(value, bool):
        return {"boolean"}
    if isinstance(value, int):
        return {"integer", "number"}
    if isinstance(value, Decimal):
        return {"number", "integer"} if value == value.to_integral_value() else {"number"}
    if isinstance(value, str):
        return {"string"}
    if isinstance(value, list):
        return {"array"}
    return {"object"}


def _allowed_types(schema: dict[str, object]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return set(kind)
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list):
        found = [_allowed_types(option) for option in options if isinstance(option, dict)]
        return set().union(*found) if found and all(found) else set()
    return set()  # no type given: anything goes


def _check_types(data: dict[str, object], schema: dict[str, object] | None) -> None:
    """Refuse a field whose JSON type the operation's schema does not allow, naming it.

    Raises:
        ValidationFailed: with code ``wrong_type`` for each such field.
    """
    if not schema:
        return
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    errors = FieldErrors()
    for name, value in data.items():
        field_schema = properties.get(name)
        allowed = _allowed_types(field_schema) if isinstance(field_schema, dict) else set()
        if allowed and not allowed & _json_type(value):
            wanted = " or ".join(_JSON_TYPES.get(kind, kind) for kind in sorted(allowed, key=list(_JSON_TYPES).index))
            errors.add(name, Code.WRONG_TYPE, f"{field_label(name)} must be {wanted}")
    errors.raise_if_any()


@cache
def _request_schemas() -> dict[tuple[str, str], dict[str, object]]:
    """(method, Flask rule) → the JSON request body schema the OpenAPI document gives it."""
    from marketplace.api.openapi import openapi_document

    document = openapi_document()
    components = document["components"]["schemas"]
    found: dict[tuple[str, str], dict[str, object]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            schema = operation["requestBody"].get("content", {}).get("application/json", {}).get("schema")
            if isinstance(schema, dict) and "$ref" in schema:
                schema = components.get(schema["$ref"].rsplit("/", 1)[-1])
            if isinstance(schema, dict):
                found[(method, path)] = schema
    return found


def _request_schema(method: str, rule: str) -> dict[str, object] | None:
    # /api/v1/needs/<int:need_id> is /needs/{need_id} in the document.
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule).removeprefix("/api/v1")
    return _request_schemas().get((method, path))


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
    raise ValidationFailed({name: f"{field_label(name)} must be true or false"})


def list_arguments(lists: ReferenceLists, statuses: set[str]) -> tuple[Filters, int, int]:
    """Browse filters and paging from the query string, every problem reported at once.

    Raises:
        ValidationFailed: naming each bad parameter.
    """
    errors = FieldErrors()
    filters, page, per_page = Filters(), 1, 20
    try:
        filters = check_filters(request.args, lists, statuses)
    except ValidationFailed as error:
        errors.merge(error)
    try:
        page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    except ValidationFailed as error:
        errors.merge(error)
    errors.raise_if_any()
    return filters, page, per_page
