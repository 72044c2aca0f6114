"""API routes for the council's reference lists."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from marketplace.models import Measure
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import measures as measures_service
from marketplace.services.paging import check_paging, paginate
from marketplace.services.reference import reference_lists

from . import api
from .openapi import PAGING, SIGNED_IN, body, document, page_of, query_param, ref, responses
from .parsing import json_body
from .serializers import measure_json, page_json


@api.get("/measures")
def list_measures() -> object:
    """Social value measures with their £ proxy values."""
    page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"), default_per_page=100)
    result = paginate(db_session(), select(Measure).order_by(Measure.code), page, per_page)
    return page_json(result, measure_json)


@api.post("/measures")
def create_measure() -> object:
    """Add a measure (officers)."""
    measure = measures_service.create_measure(db_session(), current_actor(), json_body())
    commit()
    return measure_json(measure), 201


@api.patch("/measures/<code>")
def update_measure(code: str) -> object:
    """Change a measure (officers); a new proxy value becomes a new version."""
    measure = measures_service.update_measure(db_session(), current_actor(), code, json_body())
    commit()
    return measure_json(measure)


@api.get("/reference")
def reference() -> object:
    """The categories, districts and outcomes accepted in needs and offers."""
    lists = reference_lists(db_session())
    return {
        "categories": [{"code": c.code, "name": c.name} for c in lists.categories],
        "districts": [{"code": d.code, "name": d.name, "covers_all": d.covers_all} for d in lists.districts],
        "outcomes": [{"code": o.code, "name": o.name} for o in lists.outcomes],
    }


_MEASURE_INPUT = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "maxLength": 60,
            "description": "Lower-case letters, numbers and hyphens; unique",
        },
        "name": {"type": "string", "minLength": 3, "maxLength": 200},
        "unit": {"type": "string", "minLength": 1, "maxLength": 60},
        "proxy_value": {
            "type": ["number", "null"],
            "exclusiveMinimum": 0,
            "maximum": 1_000_000,
            "description": "£ per unit, at most 2 decimal places; null when not monetised",
        },
        "outcomes": {"type": ["array", "null"], "items": {"type": "string"}, "description": "Outcome codes"},
        "source": {"type": ["string", "null"], "maxLength": 1000},
        "active": {"type": "boolean"},
    },
    "additionalProperties": False,
}
_NAMED_CODE = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": {"type": "string"}, "name": {"type": "string"}},
}
document(
    {
        "/measures": {
            "get": {
                "summary": "Social value measures and their £ proxy values",
                "parameters": [
                    PAGING[0],
                    query_param(
                        "per_page",
                        "Items per page, 1 to 100 (default 100)",
                        {"type": "integer", "minimum": 1, "maximum": 100},
                    ),
                ],
                "responses": responses("200", page_of("Measure")),
            },
            "post": {
                "summary": "Add a measure (officers)",
                "security": SIGNED_IN,
                "requestBody": body(
                    {**_MEASURE_INPUT, "required": ["code", "name", "unit"]},
                    {"code": "trees-planted", "name": "Trees planted", "unit": "trees", "proxy_value": 12.5},
                ),
                "responses": responses("201", ref("Measure"), "403"),
            },
        },
        "/measures/{code}": {
            "parameters": [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}],
            "patch": {
                "summary": "Change a measure (officers); a new proxy value is a new version",
                "security": SIGNED_IN,
                "requestBody": body(
                    {
                        **_MEASURE_INPUT,
                        "properties": {k: v for k, v in _MEASURE_INPUT["properties"].items() if k != "code"},
                    }
                ),
                "responses": responses("200", ref("Measure"), "403", "404", "409"),
            },
        },
        "/reference": {
            "get": {
                "summary": "Categories, districts and outcomes: the codes needs and offers use",
                "responses": responses(
                    "200",
                    {
                        "type": "object",
                        "required": ["categories", "districts", "outcomes"],
                        "properties": {
                            "categories": {"type": "array", "items": _NAMED_CODE},
                            "districts": {
                                "type": "array",
                                "items": {
                                    **_NAMED_CODE,
                                    "required": ["code", "name", "covers_all"],
                                    "properties": {
                                        **_NAMED_CODE["properties"],
                                        "covers_all": {
                                            "type": "boolean",
                                            "description": "The whole county: an offer here reaches every district",
                                        },
                                    },
                                },
                            },
                            "outcomes": {"type": "array", "items": _NAMED_CODE},
                        },
                    },
                ),
            },
        },
    }
)
