"""API routes for pledges and their lifecycle."""

from __future__ import annotations

from flask import request, url_for

from marketplace.models import PledgeStatus
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import pledges as pledges_service
from marketplace.services.errors import ValidationFailed
from marketplace.services.paging import check_paging

from . import api
from .openapi import PAGING, document, json_content, path_id, query_param, ref, responses
from .parsing import json_body
from .serializers import page_json, pledge_json

_ACTIONS = {
    "accept": lambda s, a, i, body: pledges_service.accept_pledge(s, a, i),
    "decline": lambda s, a, i, body: pledges_service.decline_pledge(s, a, i, body.get("reason", "")),
    "approve": lambda s, a, i, body: pledges_service.approve_pledge(s, a, i),
    "reject": lambda s, a, i, body: pledges_service.reject_pledge(s, a, i, body.get("reason")),
    "deliver": lambda s, a, i, body: pledges_service.deliver_pledge(
        s, a, i, body.get("evidence"), body.get("actual_quantity")
    ),
    "confirm": lambda s, a, i, body: pledges_service.confirm_pledge(s, a, i),
    "cancel": lambda s, a, i, body: pledges_service.cancel_pledge(s, a, i, body.get("reason", "")),
}


def _int_arg(name: str, fields: dict[str, str]) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 9:
        fields[name] = f"{name} must be a whole number"
        return None
    return int(raw)


@api.post("/pledges")
def propose_pledge() -> object:
    """A supplier pledges against a need."""
    pledge = pledges_service.propose_pledge(db_session(), current_actor(), json_body())
    commit()
    return pledge_json(pledge), 201, {"Location": url_for("api.get_pledge", pledge_id=pledge.id)}


@api.get("/pledges")
def list_pledges() -> object:
    """Pledges the caller may see, filtered and paged."""
    fields: dict[str, str] = {}
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in PledgeStatus}:
        fields["status"] = f"Unknown status: {status[:40]}"
    filters = pledges_service.PledgeFilters(
        status=status if "status" not in fields else None,
        need_id=_int_arg("need_id", fields),
        supplier_id=_int_arg("supplier_id", fields),
        offer_id=_int_arg("offer_id", fields),
        contract_id=_int_arg("contract_id", fields),
    )
    try:
        page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    return page_json(pledges_service.list_pledges(db_session(), current_actor(), filters, page, per_page), pledge_json)


@api.get("/pledges/<int:pledge_id>")
def get_pledge(pledge_id: int) -> object:
    """One pledge with its history."""
    return pledge_json(pledges_service.get_pledge(db_session(), current_actor(), pledge_id))


@api.post("/pledges/<int:pledge_id>/<any(accept, decline, approve, reject, deliver, confirm, cancel):action>")
def change_pledge(pledge_id: int, action: str) -> object:
    """Move a pledge along its lifecycle; who may do which step is checked by the service."""
    body = json_body(allow_empty=True)
    pledge = _ACTIONS[action](db_session(), current_actor(), pledge_id, body)
    commit()
    return pledge_json(pledge)


_PLEDGE_SCHEMA = {
    "type": "object",
    "required": ["id", "status", "need_id", "supplier", "measure", "quantity", "history"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": [s.value for s in PledgeStatus]},
        "need_id": {"type": "integer"},
        "offer_id": {"type": ["integer", "null"]},
        "contract_id": {"type": ["integer", "null"]},
        "supplier": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "measure": {"type": "string"},
        "quantity": {"type": "number"},
        "value": {"type": ["number", "null"], "description": "£, set at approval: quantity × proxy value"},
        "proxy_value": {"type": ["number", "null"]},
        "proxy_version": {"type": ["integer", "null"]},
        "history": {"type": "array", "items": {"type": "object"}},
    },
}
_PLEDGE_INPUT = {
    "type": "object",
    "required": ["need_id", "quantity"],
    "properties": {
        "need_id": {"type": "integer"},
        "offer_id": {"type": "integer"},
        "contract_id": {"type": "integer"},
        "measure": {"type": "string", "description": "A measure code; an offer's own measure wins"},
        "quantity": {"type": "number", "exclusiveMinimum": 0},
        "message": {"type": "string", "maxLength": 2000},
        "supplier_id": {"type": "integer", "description": "Officers only: the supplier it is recorded for"},
    },
}
_ACTION_BODY = {
    "type": "object",
    "properties": {
        "reason": {"type": "string", "description": "Required to reject; optional to decline or cancel"},
        "evidence": {"type": "string", "description": "Required to deliver"},
        "actual_quantity": {"type": "number", "description": "Optional when delivering"},
    },
}
_pledge_id = path_id("pledge_id")
_errors = ("400", "401", "403", "404", "409", "422")
document(
    {
        "/pledges": {
            "get": {
                "summary": "Pledges the caller may see",
                "parameters": [
                    query_param("status", "A pledge status"),
                    query_param("need_id", "A need id", {"type": "integer"}),
                    query_param("supplier_id", "A supplier organisation id", {"type": "integer"}),
                    query_param("offer_id", "An offer id", {"type": "integer"}),
                    query_param("contract_id", "A contract id", {"type": "integer"}),
                    *PAGING,
                ],
                "responses": responses("200", {"type": "object"}, "401", "422"),
            },
            "post": {
                "summary": "Pledge against a need (suppliers; officers on a supplier's behalf)",
                "requestBody": {"required": True, **json_content(_PLEDGE_INPUT)},
                "responses": responses("201", ref("Pledge"), *_errors, "413"),
            },
        },
        "/pledges/{pledge_id}": {
            "parameters": [_pledge_id],
            "get": {"summary": "One pledge", "responses": responses("200", ref("Pledge"), "401", "404")},
        },
        **{
            f"/pledges/{{pledge_id}}/{action}": {
                "parameters": [_pledge_id],
                "post": {
                    "summary": f"{action.capitalize()} the pledge",
                    "requestBody": {"required": False, **json_content(_ACTION_BODY)},
                    "responses": responses("200", ref("Pledge"), *_errors),
                },
            }
            for action in _ACTIONS
        },
    },
    {"Pledge": _PLEDGE_SCHEMA},
)
