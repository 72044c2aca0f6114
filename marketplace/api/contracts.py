"""API routes for contracts."""

from __future__ import annotations

from flask import request, url_for

from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import contracts as contracts_service
from marketplace.services.errors import ValidationFailed
from marketplace.services.paging import check_paging

from . import api
from .openapi import (
    DATE,
    DATE_TIME,
    PAGING,
    SIGNED_IN,
    body,
    document,
    nullable,
    page_of,
    path_id,
    query_param,
    ref,
    responses,
)
from .parsing import json_body
from .serializers import contract_json


def _with_progress(contract):
    progress = contracts_service.progress(db_session(), [contract])[contract.id]
    return contract_json(contract, progress)


@api.post("/contracts")
def create_contract() -> object:
    """Register a contract (officers)."""
    contract = contracts_service.create_contract(db_session(), current_actor(), json_body())
    commit()
    return _with_progress(contract), 201, {"Location": url_for("api.get_contract", contract_id=contract.id)}


@api.get("/contracts")
def list_contracts() -> object:
    """Contracts: all for officers, their own for suppliers."""
    supplier_id = request.args.get("supplier_id")
    if supplier_id not in (None, "") and not (supplier_id.isdigit() and len(supplier_id) < 10):
        raise ValidationFailed({"supplier_id": "Supplier ID must be a whole number"})
    page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    session = db_session()
    result = contracts_service.list_contracts(
        session, current_actor(), supplier_id=int(supplier_id) if supplier_id else None, page=page, per_page=per_page
    )
    progress = contracts_service.progress(session, result.items)
    return {
        "items": [contract_json(c, progress[c.id]) for c in result.items],
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
    }


@api.get("/contracts/<int:contract_id>")
def get_contract(contract_id: int) -> object:
    """One contract with its progress."""
    return _with_progress(contracts_service.get_contract(db_session(), current_actor(), contract_id))


@api.patch("/contracts/<int:contract_id>")
def update_contract(contract_id: int) -> object:
    """Change a contract (officers)."""
    contract = contracts_service.update_contract(db_session(), current_actor(), contract_id, json_body())
    commit()
    return _with_progress(contract)


_POUNDS = {"type": "number", "minimum": 0, "maximum": 100_000_000_000, "description": "£, at most 2 decimal places"}
_CONTRACT_INPUT = {
    "type": "object",
    "properties": {
        "reference": {"type": "string", "minLength": 2, "maxLength": 60, "description": "Unique, e.g. LCC-2026-0142"},
        "title": {"type": "string", "minLength": 3, "maxLength": 200},
        "supplier_id": {"type": "integer", "description": "A supplier organisation's id"},
        "value": _POUNDS,
        "start_date": DATE,
        "end_date": {**DATE, "description": "On or after the start date"},
        "social_value_target": nullable(_POUNDS),
    },
    "additionalProperties": False,
}
_REQUIRED = ["reference", "title", "supplier_id", "value", "start_date", "end_date"]
_CONTRACT_OUTPUT = {
    "id": {"type": "integer"},
    "reference": {"type": "string"},
    "title": {"type": "string"},
    "supplier": {
        "type": "object",
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    },
    "supplier_id": {"type": "integer"},
    "value": {"type": "number", "description": "£"},
    "start_date": DATE,
    "end_date": DATE,
    "social_value_target": {"type": ["number", "null"], "description": "£"},
    "needs_target": {"type": "boolean", "description": "Over £50,000 without a social value target"},
    "created_at": DATE_TIME,
    "updated_at": DATE_TIME,
    "committed": {"type": "number", "description": "£ of approved, delivered and confirmed pledges"},
    "delivered": {"type": "number", "description": "£ of confirmed pledges"},
    "behind_target": {"type": "boolean"},
}
_EXAMPLE = {
    "reference": "LCC-2026-0142",
    "title": "Office cleaning",
    "supplier_id": 2,
    "value": 250000,
    "start_date": "2026-04-01",
    "end_date": "2029-03-31",
    "social_value_target": 12500,
}
document(
    {
        "/contracts": {
            "get": {
                "summary": "Contracts (officers: all; suppliers: their own)",
                "security": SIGNED_IN,
                "parameters": [
                    query_param(
                        "supplier_id",
                        "Officers: only this supplier organisation's contracts",
                        {"type": "integer", "minimum": 0, "maximum": 999_999_999},
                    ),
                    *PAGING,
                ],
                "responses": responses("200", page_of("Contract"), "403"),
            },
            "post": {
                "summary": "Register a contract (officers)",
                "security": SIGNED_IN,
                "requestBody": body(
                    {**_CONTRACT_INPUT, "required": _REQUIRED},
                    _EXAMPLE,
                ),
                "responses": responses("201", ref("Contract"), "403"),
            },
        },
        "/contracts/{contract_id}": {
            "parameters": [path_id("contract_id")],
            "get": {
                "summary": "One contract (officers, and the supplier holding it)",
                "security": SIGNED_IN,
                "responses": responses("200", ref("Contract"), "403", "404"),
            },
            "patch": {
                "summary": "Change a contract (officers)",
                "security": SIGNED_IN,
                "requestBody": body(_CONTRACT_INPUT),
                "responses": responses("200", ref("Contract"), "403", "404"),
            },
        },
    },
    {"Contract": {"type": "object", "required": list(_CONTRACT_OUTPUT), "properties": _CONTRACT_OUTPUT}},
)
