"""The OpenAPI 3.1 document describing every API route, served at /api/v1/openapi.json.

Each API module describes its own routes beside its handlers with ``document()``; the
needs, offers, organisations and suggestions routes are described here. Responses every
operation can give (a bad bearer token, a NUL character in the address, a rate limit; and
for changes a malformed or too large body) are added to every operation in one place, so
no route, whoever writes it, forgets them. The test suite fuzzes the API against this
document with schemathesis (tests/api/test_schemathesis.py).
"""

from __future__ import annotations

import copy

from marketplace.models import NeedStatus, OfferStatus, OrganisationKind, Verification
from marketplace.services.paging import MAX_PAGE, MAX_PER_PAGE
from marketplace.validation import MAX_BODY_TEXT, MAX_ID, MAX_REQUEST_LINE

from . import api

_ERROR_CODES = {
    "400": "Malformed request: the body is not a JSON object, or a signed-in browser sent no CSRF token",
    "401": "Not signed in, or the bearer token is unknown or revoked",
    "403": "Signed in, but not allowed to do this",
    "404": "No such item, or not visible to the caller",
    "409": "The item's status does not allow this",
    "413": f"The request body is larger than {MAX_BODY_TEXT}",
    "414": f"The request line (method and address) is longer than {MAX_REQUEST_LINE:,} bytes",
    "422": "Validation failed; error.fields names each field",
    "429": "Too many requests: wait the number of seconds in Retry-After",
    "503": "A part of the service (such as the matching model) is unavailable; try again later",
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# Any request can carry a bad token, a NUL in its address, an address too long or be rate
# limited; any change can carry a body that is not JSON, a session without its CSRF token, or
# more than 1 MB.
_EVERY_OPERATION = ("401", "414", "422", "429")
_EVERY_CHANGE = ("400", "413")
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, object], example: object = None) -> dict[str, object]:
    media: dict[str, object] = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"content": {"application/json": media}}


def _error(code: str) -> dict[str, object]:
    response: dict[str, object] = {"description": _ERROR_CODES[code], **_json(_ref("Error"))}
    if code == "429":
        response["headers"] = copy.deepcopy(_RETRY_AFTER)
    return response


def _responses(ok: str, schema: dict[str, object], *errors: str) -> dict[str, object]:
    responses: dict[str, object] = {ok: {"description": "Success", **_json(schema)}}
    for code in errors:
        responses[code] = _error(code)
    return responses


def _page_of(name: str) -> dict[str, object]:
    return {
        "type": "object",
        "required": ["items", "total", "page", "per_page"],
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    }


def _query(name: str, description: str, schema: dict[str, object] | None = None) -> dict[str, object]:
    # Pages' forms send blank fields as empty values, and the API reads them the same way:
    # an empty value means the parameter was left out.
    return {
        "name": name,
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "description": description + " (empty means not given)",
        "schema": schema or {"type": "string"},
    }


# Ids in addresses are database integers: anything else, or out of range, is a 404.
_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _path_id(name: str) -> dict[str, object]:
    return {"name": name, "in": "path", "required": True, "schema": dict(_ID)}


def _body(schema: dict[str, object], example: object = None, *, required: bool = True) -> dict[str, object]:
    return {"required": required, **_json(schema, example)}


def _nullable(schema: dict[str, object]) -> dict[str, object]:
    """The schema, or null (OpenAPI 3.1 / JSON Schema style)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {**schema, "type": [kind, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


_PAGE = {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}
_PAGING = [
    _query("page", "Page number, from 1 (a page past the end is empty)", _PAGE),
    _query(
        "per_page", f"Items per page, 1 to {MAX_PER_PAGE}", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}
    ),
]


def _filters(statuses: list[str]) -> list[dict[str, object]]:
    return [
        _query("category", "A category code (GET /reference)"),
        _query("district", "A district code (GET /reference)"),
        _query("outcome", "An outcome code (GET /reference)"),
        _query("status", "A status, or 'any'; open by default", {"enum": [*statuses, "any"]}),
        _query(
            "sort",
            "newest (the default) or closing: soonest needed-by or available-until date first",
            {"enum": ["newest", "closing"]},
        ),
    ]


_LIMIT = _query(
    "limit", "At most this many suggestions, 1 to 50 (default 10)", {"type": "integer", "minimum": 1, "maximum": 50}
)
_DATE_TIME = {"type": "string", "format": "date-time"}
_DATE = {"type": "string", "format": "date"}
_CODES = {"type": "array", "items": {"type": "string"}}
_AMOUNT = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 1_000_000_000,
    "multipleOf": 0.01,
    "description": "In the measure's unit; at most 2 decimal places",
}


def _suggestions(kind: str) -> dict[str, object]:
    return {
        "type": "object",
        "required": ["items", "no_good_match"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [kind, "score", "good", "reasons"],
                    "properties": {
                        kind: _ref(kind.capitalize()),
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "good": {"type": "boolean", "description": "Scores well enough to be worth a look"},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "via_offer": {
                            "type": "object",
                            "description": "For a supplier's suggested needs: the offer that fits best",
                            "required": ["id", "title"],
                            "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
                        },
                    },
                },
            },
            "no_good_match": {"type": "boolean", "description": "True when no suggestion scores well"},
        },
    }


_LISTING_INPUT: dict[str, object] = {
    "title": {"type": "string", "minLength": 5, "maxLength": 120, "description": "5 to 120 characters"},
    "description": {"type": "string", "minLength": 20, "maxLength": 5000, "description": "20 to 5,000 characters"},
    "category": {"type": "string", "description": "A category code (GET /reference)"},
    "outcomes": {**_CODES, "description": "Outcome codes (GET /reference)"},
    "measure": {"type": ["string", "null"], "description": "A measure code (GET /measures)"},
}
_NEED_INPUT = {
    **_LISTING_INPUT,
    "outcomes": {**_CODES, "minItems": 1, "description": "At least one outcome code (GET /reference)"},
    "district": {"type": "string", "description": "A district code (GET /reference)"},
    "quantity": {"type": ["string", "null"], "maxLength": 200, "description": "Free text, e.g. 'about 30 pallets'"},
    "needed_by": {**_nullable(_DATE), "description": "Not in the past"},
    "quantity_needed": {**_nullable(_AMOUNT), "description": "How much, in the measure's unit (needs a measure)"},
}
_OFFER_INPUT = {
    **_LISTING_INPUT,
    "districts": {**_CODES, "minItems": 1, "description": "District codes (GET /reference)"},
    "available_until": {**_nullable(_DATE), "description": "Not in the past"},
    "capacity": {**_nullable(_AMOUNT), "description": "How much can be given, in the measure's unit"},
}
_EXAMPLE_NEED = {
    "title": "Tables for our youth club",
    "description": "We need six folding tables for our Friday evening sessions.",
    "category": "goods",
    "district": "Melton",
    "outcomes": ["great-communities"],
}
_EXAMPLE_OFFER = {
    "title": "Meeting room in Loughborough",
    "description": "Our ground-floor meeting room seats 20, has step-free access and a kitchenette.",
    "category": "premises",
    "districts": ["Charnwood"],
    "outcomes": ["great-communities"],
}
_LISTING_OUTPUT: dict[str, object] = {
    "id": {"type": "integer"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "category": {"type": "string"},
    "outcomes": _CODES,
    "measure": {"type": ["string", "null"]},
    "organisation": _ref("OrganisationRef"),
    "created_at": _DATE_TIME,
    "updated_at": _DATE_TIME,
}
_NEED_OUTPUT = {
    **_LISTING_OUTPUT,
    "status": {"enum": [s.value for s in NeedStatus]},
    "district": {"type": "string"},
    "quantity": {"type": "string"},
    "needed_by": _nullable(_DATE),
    "quantity_needed": {"type": ["number", "null"]},
    "assisted": {"type": "boolean", "description": "Posted by an officer for the group"},
}
_OFFER_OUTPUT = {
    **_LISTING_OUTPUT,
    "status": {"enum": [s.value for s in OfferStatus]},
    "districts": _CODES,
    "available_until": _nullable(_DATE),
    "capacity": {"type": ["number", "null"]},
}

_SCHEMAS: dict[str, object] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    "field_codes": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "A machine-readable code per field in fields: required, not_text, "
                        "bad_characters, too_short, too_long, unknown_choice, not_a_list, not_a_date, in_the_past, "
                        "not_a_number, out_of_range, too_precise, wrong_type, unknown_field, needs_a_measure, invalid",
                    },
                },
            }
        },
    },
    "OrganisationRef": {
        "type": "object",
        "required": ["id", "name", "verified"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "verified": {"type": "boolean"}},
    },
    "Organisation": {
        "type": "object",
        "required": [
            "id",
            "name",
            "verified",
            "kind",
            "verification",
            "verification_note",
            "charity_number",
            "company_number",
            "created_at",
            "verified_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "verified": {"type": "boolean"},
            "kind": {"enum": [k.value for k in OrganisationKind]},
            "verification": {"enum": [v.value for v in Verification]},
            "verification_note": {"type": ["string", "null"]},
            "charity_number": {"type": ["string", "null"]},
            "company_number": {"type": ["string", "null"]},
            "created_at": _DATE_TIME,
            "verified_at": _nullable(_DATE_TIME),
        },
    },
    "NeedInput": {
        "type": "object",
        "required": ["title", "description", "category", "district", "outcomes"],
        "properties": {
            **_NEED_INPUT,
            "organisation_id": {"type": "integer", "description": "Officers only: the community group it is for"},
        },
        "additionalProperties": False,
    },
    "NeedPatch": {"type": "object", "properties": _NEED_INPUT, "additionalProperties": False},
    "Need": {"type": "object", "required": list(_NEED_OUTPUT), "properties": _NEED_OUTPUT},
    "OfferInput": {
        "type": "object",
        "required": ["title", "description", "category", "districts"],
        "properties": _OFFER_INPUT,
        "additionalProperties": False,
    },
    "OfferPatch": {"type": "object", "properties": _OFFER_INPUT, "additionalProperties": False},
    "Offer": {"type": "object", "required": list(_OFFER_OUTPUT), "properties": _OFFER_OUTPUT},
    "Measure": {
        "type": "object",
        "required": ["code", "name", "unit", "proxy_value", "proxy_version", "outcomes", "source", "active"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "proxy_value": {"type": ["number", "null"], "description": "£ per unit; null when not monetised"},
            "proxy_version": {"type": "integer", "minimum": 1, "description": "Goes up by one each time it changes"},
            "outcomes": _CODES,
            "source": {"type": "string"},
            "active": {"type": "boolean"},
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "facets", "did_you_mean", "fallback"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "id", "title", "snippet", "score"],
                    "properties": {
                        "kind": {"enum": ["need", "offer"]},
                        "id": {"type": "integer"},
                        "title": {"type": "string"},
                        "snippet": {"type": "string", "description": "Escaped text; matches wrapped in <mark>"},
                        "score": {"type": ["number", "null"]},
                    },
                },
            },
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
            "facets": {
                "type": "object",
                "description": "Facet name → value → count",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "did_you_mean": {"type": ["string", "null"]},
            "fallback": {"type": "boolean", "description": "True while the index is unavailable"},
        },
    },
}


def _listing_paths(
    kind: str, model: str, actions: list[str], statuses: list[str], example: object
) -> dict[str, object]:
    id_param = _path_id(f"{kind}_id")
    signed_in = [{"bearer": []}]
    paths: dict[str, object] = {
        f"/{kind}s": {
            "get": {
                "summary": f"List {kind}s the caller may see",
                "parameters": _filters(statuses) + _PAGING,
                "responses": _responses("200", _page_of(model)),
            },
            "post": {
                "summary": f"Post a {kind}",
                "security": signed_in,
                "requestBody": _body(_ref(f"{model}Input"), example),
                "responses": _responses("201", _ref(model), "403"),
            },
        },
        f"/{kind}s/{{{kind}_id}}": {
            "parameters": [id_param],
            "get": {"summary": f"One {kind}", "responses": _responses("200", _ref(model), "404")},
            "patch": {
                "summary": f"Change fields of a {kind} (owner only)",
                "security": signed_in,
                "requestBody": _body(_ref(f"{model}Patch")),
                "responses": _responses("200", _ref(model), "403", "404", "409"),
            },
        },
    }
    for action in actions:
        paths[f"/{kind}s/{{{kind}_id}}/{action}"] = {
            "parameters": [id_param],
            "post": {
                "summary": f"{action.capitalize()} the {kind} (owner only)",
                "security": signed_in,
                "responses": _responses("200", _ref(model), "403", "404", "409"),
            },
        }
    return paths


_REGISTERED_PATHS: dict[str, object] = {}
_REGISTERED_SCHEMAS: dict[str, object] = {}


def document(paths: dict[str, object], schemas: dict[str, object] | None = None) -> None:
    """Let an API module describe its own routes beside its handlers (called at import)."""
    _REGISTERED_PATHS.update(paths)
    _REGISTERED_SCHEMAS.update(schemas or {})


# Helpers for modules that document their own routes.
ref, json_content, responses, page_of, query_param, path_id = _ref, _json, _responses, _page_of, _query, _path_id
body, nullable, error = _body, _nullable, _error
PAGING = _PAGING
SIGNED_IN = [{"bearer": []}]
DATE, DATE_TIME = _DATE, _DATE_TIME


def _with_common_responses(paths: dict[str, object]) -> dict[str, object]:
    """Every operation's own responses plus those any request can get (see _EVERY_OPERATION)."""
    paths = copy.deepcopy(paths)
    for item in paths.values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            answers = operation.setdefault("responses", {})
            codes = _EVERY_OPERATION + (() if method in ("get", "head", "options") else _EVERY_CHANGE)
            for code in codes:
                answers.setdefault(code, _error(code))
            answers["429"] = _error("429")
    return paths


def openapi_document() -> dict[str, object]:
    """The whole OpenAPI document."""
    signed_in = [{"bearer": []}]
    paths = {
        **_listing_paths("need", "Need", ["withdraw", "met"], [s.value for s in NeedStatus], _EXAMPLE_NEED),
        **_listing_paths(
            "offer", "Offer", ["pause", "resume", "withdraw"], [s.value for s in OfferStatus], _EXAMPLE_OFFER
        ),
        "/organisations": {
            "get": {
                "summary": "Organisations (officers)",
                "security": signed_in,
                "parameters": [
                    _query("verified", "true: verified ones; false: those waiting or rejected", {"type": "boolean"}),
                    *_PAGING,
                ],
                "responses": _responses("200", _page_of("Organisation"), "403"),
            }
        },
        "/organisations/{organisation_id}/verify": {
            "parameters": [_path_id("organisation_id")],
            "post": {
                "summary": "Verify an organisation (officers)",
                "security": signed_in,
                "requestBody": _body(
                    {"type": "object", "description": "Nothing is needed; fields are ignored"}, required=False
                ),
                "responses": _responses("200", _ref("Organisation"), "403", "404", "409"),
            },
        },
        "/organisations/{organisation_id}/reject": {
            "parameters": [_path_id("organisation_id")],
            "post": {
                "summary": "Reject an organisation, with an optional reason (officers)",
                "security": signed_in,
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "reason": {"type": "string", "maxLength": 500, "description": "Shown to its members"}
                        },
                    },
                    required=False,
                ),
                "responses": _responses("200", _ref("Organisation"), "403", "404", "409"),
            },
        },
        "/needs/{need_id}/suggestions": {
            "parameters": [_path_id("need_id"), _LIMIT],
            "get": {
                "summary": "Offers that could meet this need, best first (signed in)",
                "security": signed_in,
                "responses": _responses("200", _suggestions("offer"), "403", "404", "503"),
            },
        },
        "/offers/{offer_id}/suggestions": {
            "parameters": [_path_id("offer_id"), _LIMIT],
            "get": {
                "summary": "Needs this offer could meet, best first (its supplier and officers)",
                "security": signed_in,
                "responses": _responses("200", _suggestions("need"), "403", "404", "503"),
            },
        },
        "/suggestions/needs": {
            "parameters": [_LIMIT],
            "get": {
                "summary": "Needs that best fit all of the calling supplier's open offers",
                "security": signed_in,
                "responses": _responses("200", _suggestions("need"), "403", "503"),
            },
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "responses": _responses("200", {"type": "object", "required": ["openapi", "info", "paths"]}),
            }
        },
        **_REGISTERED_PATHS,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Social Value Marketplace API",
            "version": "1",
            "description": "Needs, offers and social value. Authenticate with `Authorization: Bearer <token>` "
            "(create one in your account or with `marketplace tokens create EMAIL`), or with the browser "
            "session and the page's CSRF token in `X-CSRFToken`. Errors are "
            '`{"error": {"code", "message", "fields"}}`. Every operation may answer 429 with `Retry-After` '
            "when a caller sends too many requests.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {}],
        "paths": _with_common_responses(paths),
        "components": {
            "schemas": {**_SCHEMAS, **_REGISTERED_SCHEMAS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@api.get("/openapi.json")
def openapi_json() -> object:
    """Serve the OpenAPI document."""
    return openapi_document()
