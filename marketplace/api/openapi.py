"""The OpenAPI 3.1 document describing every API route, served at /api/v1/openapi.json."""

from __future__ import annotations

from . import api

_ERROR_CODES = {
    "400": "Malformed request (not a JSON object) or missing CSRF token",
    "401": "Not signed in, or the bearer token is unknown or revoked",
    "403": "Signed in, but not allowed to do this",
    "404": "No such item, or not visible to the caller",
    "409": "The item's status does not allow this",
    "413": "The request body is larger than 1 MB",
    "422": "Validation failed; error.fields names each field",
    "503": "A part of the service (such as the matching model) is unavailable",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, object]) -> dict[str, object]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: str, schema: dict[str, object], *errors: str) -> dict[str, object]:
    responses: dict[str, object] = {ok: {"description": "Success", **_json(schema)}}
    for code in errors:
        responses[code] = {"description": _ERROR_CODES[code], **_json(_ref("Error"))}
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
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path_id(name: str) -> dict[str, object]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_PAGING = [
    _query("page", "Page number, from 1", {"type": "integer", "minimum": 1}),
    _query("per_page", "Items per page, 1 to 100", {"type": "integer", "minimum": 1, "maximum": 100}),
]
_FILTERS = [
    _query("category", "A category code"),
    _query("district", "A district"),
    _query("outcome", "An outcome code"),
    _query("status", "A status, or 'any'; open by default"),
]

_LIMIT = _query("limit", "At most this many suggestions, 1 to 50 (default 10)", {"type": "integer", "minimum": 1})


def _suggestions(kind: str) -> dict[str, object]:
    return {
        "type": "object",
        "required": ["items", "no_good_match"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": [kind, "score", "reasons"],
                    "properties": {
                        kind: _ref(kind.capitalize()),
                        "score": {"type": "number", "minimum": 0, "maximum": 1},
                        "good": {"type": "boolean"},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "via_offer": {"type": "object"},
                    },
                },
            },
            "no_good_match": {"type": "boolean"},
        },
    }


_TIMESTAMPS = {
    "id": {"type": "integer"},
    "organisation": _ref("OrganisationRef"),
    "created_at": {"type": "string", "format": "date-time"},
    "updated_at": {"type": "string", "format": "date-time"},
}
_LISTING_INPUT = {
    "title": {"type": "string", "minLength": 5, "maxLength": 120},
    "description": {"type": "string", "minLength": 20, "maxLength": 5000},
    "category": {"type": "string", "description": "A category code"},
    "outcomes": {"type": "array", "items": {"type": "string"}, "description": "Outcome codes"},
}
_NEED_INPUT = {
    **_LISTING_INPUT,
    "district": {"type": "string"},
    "quantity": {"type": "string", "maxLength": 200, "description": "Free text, e.g. 'about 30 pallets'"},
    "needed_by": {"type": ["string", "null"], "format": "date", "description": "Not in the past"},
}
_OFFER_INPUT = {
    **_LISTING_INPUT,
    "districts": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "available_until": {"type": ["string", "null"], "format": "date"},
    "measure": {"type": ["string", "null"], "description": "A measure code"},
    "capacity": {"type": ["number", "null"], "exclusiveMinimum": 0, "description": "In the measure's unit"},
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
        "required": ["id", "name", "verified", "kind", "verification"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "verified": {"type": "boolean"},
            "kind": {"enum": ["community", "supplier", "council"]},
            "verification": {"enum": ["pending", "verified", "rejected"]},
            "verification_note": {"type": ["string", "null"]},
            "charity_number": {"type": ["string", "null"]},
            "company_number": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "verified_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "NeedInput": {
        "type": "object",
        "required": ["title", "description", "category", "district", "outcomes"],
        "properties": _NEED_INPUT,
        "additionalProperties": False,
    },
    "NeedPatch": {"type": "object", "properties": _NEED_INPUT, "additionalProperties": False},
    "Need": {
        "type": "object",
        "required": ["id", "status", "title", "organisation", "created_at", "updated_at"],
        "properties": {**_NEED_INPUT, **_TIMESTAMPS, "status": {"enum": ["open", "met", "withdrawn", "expired"]}},
    },
    "OfferInput": {
        "type": "object",
        "required": ["title", "description", "category", "districts"],
        "properties": _OFFER_INPUT,
        "additionalProperties": False,
    },
    "OfferPatch": {"type": "object", "properties": _OFFER_INPUT, "additionalProperties": False},
    "Offer": {
        "type": "object",
        "required": ["id", "status", "title", "organisation", "created_at", "updated_at"],
        "properties": {**_OFFER_INPUT, **_TIMESTAMPS, "status": {"enum": ["open", "paused", "withdrawn"]}},
    },
    "Measure": {
        "type": "object",
        "required": ["code", "name", "unit", "proxy_value", "outcomes"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "unit": {"type": "string"},
            "proxy_value": {"type": ["number", "null"], "description": "£ per unit; null when not monetised"},
            "outcomes": {"type": "array", "items": {"type": "string"}},
            "source": {"type": "string"},
            "active": {"type": "boolean"},
        },
    },
    "SearchResults": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "facets", "did_you_mean"],
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
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "facets": {
                "type": "object",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
            "did_you_mean": {"type": ["string", "null"]},
            "fallback": {"type": "boolean", "description": "True while the index is unavailable"},
        },
    },
    "Reference": {
        "type": "object",
        "properties": {
            "categories": {"type": "array", "items": {"type": "object"}},
            "districts": {"type": "array", "items": {"type": "object"}},
            "outcomes": {"type": "array", "items": {"type": "object"}},
        },
    },
}


def _listing_paths(kind: str, model: str, actions: list[str]) -> dict[str, object]:
    id_param = _path_id(f"{kind}_id")
    paths: dict[str, object] = {
        f"/{kind}s": {
            "get": {
                "summary": f"List {kind}s the caller may see",
                "parameters": _FILTERS + _PAGING,
                "responses": _responses("200", _page_of(model), "401", "422"),
            },
            "post": {
                "summary": f"Post a {kind}",
                "requestBody": {"required": True, **_json(_ref(f"{model}Input"))},
                "responses": _responses("201", _ref(model), "400", "401", "403", "413", "422"),
            },
        },
        f"/{kind}s/{{{kind}_id}}": {
            "parameters": [id_param],
            "get": {"summary": f"One {kind}", "responses": _responses("200", _ref(model), "401", "404")},
            "patch": {
                "summary": f"Change fields of a {kind} (owner only)",
                "requestBody": {"required": True, **_json(_ref(f"{model}Patch"))},
                "responses": _responses("200", _ref(model), "400", "401", "403", "404", "409", "413", "422"),
            },
        },
    }
    for action in actions:
        paths[f"/{kind}s/{{{kind}_id}}/{action}"] = {
            "parameters": [id_param],
            "post": {
                "summary": f"{action.capitalize()} the {kind} (owner only)",
                "responses": _responses("200", _ref(model), "400", "401", "403", "404", "409"),
            },
        }
    return paths


_NEW_MEASURE = {"type": "object", "required": ["code", "name", "unit"]}
_REGISTERED_PATHS: dict[str, object] = {}
_REGISTERED_SCHEMAS: dict[str, object] = {}


def document(paths: dict[str, object], schemas: dict[str, object] | None = None) -> None:
    """Let an API module describe its own routes beside its handlers (called at import)."""
    _REGISTERED_PATHS.update(paths)
    _REGISTERED_SCHEMAS.update(schemas or {})


# Helpers for modules that document their own routes.
ref, json_content, responses, page_of, query_param, path_id = _ref, _json, _responses, _page_of, _query, _path_id
PAGING = _PAGING


def openapi_document() -> dict[str, object]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Social Value Marketplace API",
            "version": "1",
            "description": "Needs, offers and social value. Authenticate with `Authorization: Bearer <token>` "
            "(create one in your account or with `marketplace tokens create EMAIL`). Errors are "
            '`{"error": {"code", "message", "fields"}}`.',
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {}],
        "paths": {
            **_listing_paths("need", "Need", ["withdraw", "met"]),
            **_listing_paths("offer", "Offer", ["pause", "resume", "withdraw"]),
            "/organisations": {
                "get": {
                    "summary": "Organisations (officers)",
                    "parameters": [_query("verified", "true or false", {"type": "boolean"}), *_PAGING],
                    "responses": _responses("200", _page_of("Organisation"), "401", "403", "422"),
                }
            },
            "/organisations/{organisation_id}/verify": {
                "parameters": [_path_id("organisation_id")],
                "post": {
                    "summary": "Verify an organisation (officers)",
                    "responses": _responses("200", _ref("Organisation"), "400", "401", "403", "404", "409"),
                },
            },
            "/organisations/{organisation_id}/reject": {
                "parameters": [_path_id("organisation_id")],
                "post": {
                    "summary": "Reject an organisation, with an optional reason (officers)",
                    "requestBody": {
                        "required": False,
                        **_json({"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}}),
                    },
                    "responses": _responses("200", _ref("Organisation"), "400", "401", "403", "404", "409", "422"),
                },
            },
            "/measures": {
                "post": {
                    "summary": "Add a measure (officers)",
                    "requestBody": {
                        "required": True,
                        **_json({"type": "object", "required": ["code", "name", "unit"]}),
                    },
                    "responses": _responses("201", _ref("Measure"), "400", "401", "403", "422"),
                },
                "get": {
                    "summary": "Social value measures and their £ proxy values",
                    "parameters": _PAGING,
                    "responses": _responses("200", _page_of("Measure"), "422"),
                },
            },
            "/reference": {
                "get": {
                    "summary": "Categories, districts and outcomes",
                    "responses": _responses("200", _ref("Reference")),
                },
            },
            "/search": {
                "get": {
                    "summary": "Full-text search over needs and offers, with facet counts",
                    "parameters": [
                        _query("q", 'Words, "phrases", -excluded, OR'),
                        _query("kind", "need or offer"),
                        *_FILTERS,
                        _query("sort", "relevance (default) or newest"),
                        *_PAGING,
                    ],
                    "responses": _responses("200", _ref("SearchResults"), "422"),
                }
            },
            "/needs/{need_id}/suggestions": {
                "parameters": [_path_id("need_id"), _LIMIT],
                "get": {
                    "summary": "Offers that could meet this need, best first (signed in)",
                    "responses": _responses("200", _suggestions("offer"), "401", "404", "422", "503"),
                },
            },
            "/offers/{offer_id}/suggestions": {
                "parameters": [_path_id("offer_id"), _LIMIT],
                "get": {
                    "summary": "Needs this offer could meet, best first (its supplier and officers)",
                    "responses": _responses("200", _suggestions("need"), "401", "403", "404", "422", "503"),
                },
            },
            "/suggestions/needs": {
                "parameters": [_LIMIT],
                "get": {
                    "summary": "Needs that best fit all of the calling supplier's open offers",
                    "responses": _responses("200", _suggestions("need"), "401", "403", "422", "503"),
                },
            },
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}},
            **_REGISTERED_PATHS,
        },
        "components": {
            "schemas": {**_SCHEMAS, **_REGISTERED_SCHEMAS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@api.get("/openapi.json")
def openapi_json() -> object:
    """Serve the OpenAPI document."""
    return openapi_document()
