"""API routes for contracts."""

from __future__ import annotations

from flask import request, url_for

from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import contracts as contracts_service
from marketplace.services.errors import ValidationFailed
from marketplace.services.paging import check_paging

from . import api
from .openapi import PAGING, document, json_content, path_id, query_param, ref, responses
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
        raise ValidationFailed({"supplier_id": "supplier_id must be a whole number"})
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


_CONTRACT_INPUT = {
    "type": "object",
    "properties": {
        "reference": {"type": "string", "maxLength": 60},
        "title": {"type": "string", "maxLength": 200},
        "supplier_id": {"type": "integer", "description": "A supplier organisation's id"},
        "value": {"type": "number", "minimum": 0, "description": "£"},
        "start_date": {"type": "string", "format": "date"},
        "end_date": {"type": "string", "format": "date"},
        "social_value_target": {"type": ["number", "null"], "minimum": 0, "description": "£"},
    },
    "additionalProperties": False,
}
_REQUIRED = ["reference", "title", "supplier_id", "value", "start_date", "end_date"]
_CONTRACT = {
    "type": "object",
    "required": ["id", "reference", "title", "supplier", "value", "start_date", "end_date"],
    "properties": {
        **_CONTRACT_INPUT["properties"],
        "id": {"type": "integer"},
        "supplier": {"type": "object"},
        "needs_target": {"type": "boolean", "description": "Over £50,000 without a social value target"},
        "committed": {"type": "number"},
        "delivered": {"type": "number"},
        "behind_target": {"type": "boolean"},
    },
}
document(
    {
        "/contracts": {
            "get": {
                "summary": "Contracts (officers: all; suppliers: their own)",
                "parameters": [query_param("supplier_id", "A supplier organisation id", {"type": "integer"}), *PAGING],
                "responses": responses("200", {"type": "object"}, "401", "403", "422"),
            },
            "post": {
                "summary": "Register a contract (officers)",
                "requestBody": {
                    "required": True,
                    **json_content(
                        {
                            **_CONTRACT_INPUT,
                            "required": ["reference", "title", "supplier_id", "value", "start_date", "end_date"],
                        }
                    ),
                },
                "responses": responses("201", ref("Contract"), "400", "401", "403", "413", "422"),
            },
        },
        "/contracts/{contract_id}": {
            "parameters": [path_id("contract_id")],
            "get": {"summary": "One contract", "responses": responses("200", ref("Contract"), "401", "403", "404")},
            "patch": {
                "summary": "Change a contract (officers)",
                "requestBody": {"required": True, **json_content(_CONTRACT_INPUT)},
                "responses": responses("200", ref("Contract"), "400", "401", "403", "404", "413", "422"),
            },
        },
    },
    {"Contract": _CONTRACT},
)
