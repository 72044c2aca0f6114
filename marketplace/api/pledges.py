"""API routes for pledges and their lifecycle."""

from __future__ import annotations

from flask import request, url_for

from marketplace.models import PledgeStatus, Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import pledges as pledges_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import FieldErrors, unknown_fields
from marketplace.services.paging import check_paging

from . import api
from .openapi import DATE_TIME, PAGING, SIGNED_IN, body, document, page_of, path_id, query_param, ref, responses
from .parsing import json_body
from .serializers import page_json, pledge_json


def _optional(body: dict[str, object], name: str) -> object:
    # An optional reason may be left out or sent as null; either means none.
    value = body.get(name)
    return "" if value is None else value


_ACTIONS = {
    "accept": lambda s, a, i, body: pledges_service.accept_pledge(s, a, i),
    "decline": lambda s, a, i, body: pledges_service.decline_pledge(s, a, i, _optional(body, "reason")),
    "approve": lambda s, a, i, body: pledges_service.approve_pledge(s, a, i),
    "reject": lambda s, a, i, body: pledges_service.reject_pledge(s, a, i, body.get("reason")),
    "deliver": lambda s, a, i, body: pledges_service.deliver_pledge(
        s, a, i, body.get("evidence"), body.get("actual_quantity")
    ),
    "confirm": lambda s, a, i, body: pledges_service.confirm_pledge(s, a, i),
    "cancel": lambda s, a, i, body: pledges_service.cancel_pledge(s, a, i, _optional(body, "reason")),
}
# What each step's body may hold; anything else is named back, so a typo is not silently ignored.
_ACTION_FIELDS = {
    "accept": set(),
    "decline": {"reason"},
    "approve": set(),
    "reject": {"reason"},
    "deliver": {"evidence", "actual_quantity"},
    "confirm": set(),
    "cancel": {"reason"},
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
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    body = json_body(allow_empty=True)
    errors = FieldErrors()
    unknown_fields(body, _ACTION_FIELDS[action], errors)
    errors.raise_if_any()
    pledge = _ACTIONS[action](db_session(), actor, pledge_id, body)
    commit()
    return pledge_json(pledge)


_NAMED = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
_STATUSES = [s.value for s in PledgeStatus]
_PLEDGE_OUTPUT = {
    "id": {"type": "integer"},
    "status": {"enum": _STATUSES},
    "need_id": {"type": "integer"},
    "offer_id": {"type": ["integer", "null"]},
    "contract_id": {"type": ["integer", "null"]},
    "supplier": _NAMED,
    "measure": {"type": "string", "description": "The measure code it is counted in"},
    "quantity": {"type": "number", "description": "In the measure's unit"},
    "value": {"type": ["number", "null"], "description": "£, set at approval: quantity × proxy value"},
    "proxy_value": {"type": ["number", "null"], "description": "£ per unit in force at approval"},
    "proxy_version": {"type": ["integer", "null"]},
    "message": {"type": "string"},
    "evidence": {"type": ["string", "null"], "description": "The supplier's account of the delivery"},
    "reject_reason": {"type": ["string", "null"]},
    "assisted": {"type": "boolean", "description": "Recorded by an officer for the supplier"},
    "created_at": DATE_TIME,
    "updated_at": DATE_TIME,
    "history": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["from", "to", "by", "at", "note"],
            "properties": {
                "from": {"enum": [*_STATUSES, None]},
                "to": {"enum": _STATUSES},
                "by": {"anyOf": [_NAMED, {"type": "null"}]},
                "at": DATE_TIME,
                "note": {"type": "string"},
            },
        },
    },
}
_QUANTITY = {
    "type": "number",
    "exclusiveMinimum": 0,
    "maximum": 1_000_000_000,
    "description": "In the measure's unit; at most 2 decimal places",
}
_PLEDGE_INPUT = {
    "type": "object",
    "required": ["quantity"],
    "properties": {
        "need_id": {"type": "integer", "description": "Required unless request_id is given"},
        "request_id": {
            "type": ["integer", "null"],
            "description": "A group's open request for one of the supplier's offers: fills need_id and offer_id",
        },
        "offer_id": {"type": ["integer", "null"], "description": "One of the supplier's open offers"},
        "contract_id": {"type": ["integer", "null"], "description": "One of the supplier's contracts"},
        "measure": {
            "type": ["string", "null"],
            "description": "A measure code; required without an offer, and an offer's own measure wins",
        },
        "quantity": _QUANTITY,
        "message": {"type": ["string", "null"], "maxLength": 2000},
        "supplier_id": {"type": "integer", "description": "Officers only: the supplier it is recorded for"},
    },
    "additionalProperties": False,
}
_REASON = {"type": ["string", "null"], "maxLength": 2000}
_NOTHING = {"type": "object", "additionalProperties": False, "description": "Nothing, or an empty object"}
_ACTION_BODIES = {
    "accept": _NOTHING,
    "approve": _NOTHING,
    "confirm": _NOTHING,
    "decline": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"reason": {**_REASON, "description": "Optional"}},
    },
    "cancel": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"reason": {**_REASON, "description": "Optional"}},
    },
    "reject": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000, "description": "Required"}},
    },
    "deliver": {
        "type": "object",
        "additionalProperties": False,
        "required": ["evidence"],
        "properties": {
            "evidence": {
                "type": "string",
                "minLength": 5,
                "maxLength": 5000,
                "description": "What was delivered: dates, hours or items",
            },
            "actual_quantity": {
                **_QUANTITY,
                "type": ["number", "null"],
                "description": "Optional: the quantity actually delivered, if different",
            },
        },
    },
}
_pledge_id = path_id("pledge_id")
_ID_FILTER = {"type": "integer", "minimum": 0, "maximum": 999_999_999}
document(
    {
        "/pledges": {
            "get": {
                "summary": "Pledges the caller may see: officers all, suppliers theirs, groups those for their needs",
                "security": SIGNED_IN,
                "parameters": [
                    query_param("status", "A pledge status", {"enum": _STATUSES}),
                    query_param("need_id", "A need id", _ID_FILTER),
                    query_param("supplier_id", "A supplier organisation id", _ID_FILTER),
                    query_param("offer_id", "An offer id", _ID_FILTER),
                    query_param("contract_id", "A contract id", _ID_FILTER),
                    *PAGING,
                ],
                "responses": responses("200", page_of("Pledge")),
            },
            "post": {
                "summary": "Pledge against a need (suppliers; officers on a supplier's behalf)",
                "security": SIGNED_IN,
                "requestBody": body(_PLEDGE_INPUT, {"need_id": 1, "measure": "volunteer-hours", "quantity": 40}),
                "responses": responses("201", ref("Pledge"), "403", "404", "409"),
            },
        },
        "/pledges/{pledge_id}": {
            "parameters": [_pledge_id],
            "get": {
                "summary": "One pledge",
                "security": SIGNED_IN,
                "responses": responses("200", ref("Pledge"), "404"),
            },
        },
        **{
            f"/pledges/{{pledge_id}}/{action}": {
                "parameters": [_pledge_id],
                "post": {
                    "summary": f"{action.capitalize()} the pledge",
                    "security": SIGNED_IN,
                    "requestBody": body(_ACTION_BODIES[action], required=action in ("reject", "deliver")),
                    "responses": responses("200", ref("Pledge"), "403", "404", "409"),
                },
            }
            for action in _ACTIONS
        },
    },
    {"Pledge": {"type": "object", "required": list(_PLEDGE_OUTPUT), "properties": _PLEDGE_OUTPUT}},
)
