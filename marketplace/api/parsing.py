"""Reading API input: JSON bodies, query-string filters and paging."""

from __future__ import annotations

import json

from flask import request

from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.services.listings import Filters, check_filters
from marketplace.services.paging import check_paging
from marketplace.services.reference import ReferenceLists
from marketplace.text import refuse_nul


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
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise MalformedRequest("The request body must be a JSON object (valid JSON, UTF-8).")
    refuse_nul(data)
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


def list_arguments(lists: ReferenceLists, statuses: set[str]) -> tuple[Filters, int, int]:
    """Browse filters and paging from the query string, every problem reported at once.

    Raises:
        ValidationFailed: naming each bad parameter.
    """
    fields: dict[str, str] = {}
    filters, page, per_page = Filters(), 1, 20
    try:
        filters = check_filters(request.args, lists, statuses)
    except ValidationFailed as error:
        fields.update(error.fields)
    try:
        page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    return filters, page, per_page
