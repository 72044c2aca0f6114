"""API routes for pledges and their lifecycle."""

from __future__ import annotations

from flask import request, url_for

from marketplace.downloads import evidence_response, read_upload
from marketplace.models import EvidenceReview, PledgeStatus, Role
from marketplace.request_scope import app_state, commit, current_actor, db_session
from marketplace.services import evidence as evidence_service
from marketplace.services import pledges as pledges_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.evidence import Upload
from marketplace.services.listings import FieldErrors, unknown_fields
from marketplace.services.paging import check_paging
from marketplace.validation import field_label

from . import api
from .openapi import (
    DATE_TIME,
    PAGING,
    SIGNED_IN,
    body,
    document,
    error,
    page_of,
    path_id,
    query_param,
    ref,
    responses,
)
from .parsing import json_body
from .serializers import evidence_json, page_json, pledge_json


def _optional(body: dict[str, object], name: str) -> object:
    # An optional reason may be left out or sent as null; either means none.
    value = body.get(name)
    return "" if value is None else value


_ACTIONS = {
    "accept": lambda s, a, i, body: pledges_service.accept_pledge(s, a, i),
    "decline": lambda s, a, i, body: pledges_service.decline_pledge(s, a, i, _optional(body, "reason")),
    "approve": lambda s, a, i, body: pledges_service.approve_pledge(s, a, i, body.get("deliver_by")),
    "reject": lambda s, a, i, body: pledges_service.reject_pledge(s, a, i, body.get("reason")),
    "deliver": lambda s, a, i, body: pledges_service.deliver_pledge(
        s, a, i, body.get("evidence"), body.get("actual_quantity"), body.get("declaration")
    ),
    "confirm": lambda s, a, i, body: pledges_service.confirm_pledge(s, a, i, body.get("need_met")),
    "request-evidence": lambda s, a, i, body: pledges_service.request_evidence(s, a, i, body.get("reason")),
    "accept-evidence": lambda s, a, i, body: pledges_service.accept_evidence(s, a, i, body.get("accept_change")),
    "dispute": lambda s, a, i, body: pledges_service.dispute_pledge(s, a, i, body.get("reason")),
    "cancel": lambda s, a, i, body: pledges_service.cancel_pledge(s, a, i, _optional(body, "reason")),
}
# What each step's body may hold; anything else is named back, so a typo is not silently ignored.
_ACTION_FIELDS = {
    "accept": set(),
    "decline": {"reason"},
    "approve": {"deliver_by"},
    "reject": {"reason"},
    "deliver": {"evidence", "actual_quantity", "declaration"},
    "confirm": {"need_met"},
    "cancel": {"reason"},
    "request-evidence": {"reason"},
    "accept-evidence": {"accept_change"},
    "dispute": {"reason"},
}


def _int_arg(name: str, fields: dict[str, str]) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    if not raw.isdigit() or len(raw) > 9:
        fields[name] = f"{field_label(name)} must be a whole number"
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


@api.post("/pledges/<int:pledge_id>/<any(" + ", ".join(f"'{a}'" for a in _ACTIONS) + "):action>")
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
    "deliver_by": {"type": ["string", "null"], "format": "date", "description": "Fixed at approval"},
    "pending_quantity": {
        "type": ["number", "null"],
        "description": "A reported quantity above the approved one, waiting for an officer; "
        "`quantity` and `value` stay the approved ones until then",
    },
    "committed_quantity": {"type": ["number", "null"], "description": "What the officer approved"},
    "committed_value": {"type": ["number", "null"], "description": "£ committed at approval"},
    "evidence_review": {"enum": [*[r.value for r in EvidenceReview], None]},
    "review_note": {"type": ["string", "null"], "description": "What evidence is missing, or the group's dispute"},
    "declaration": {"type": ["string", "null"], "description": "The supplier's no-double-counting declaration"},
    "declared_at": {**DATE_TIME, "type": ["string", "null"]},
    "delivered_at": {**DATE_TIME, "type": ["string", "null"]},
    "measure_fits": {"type": "boolean", "description": "False: the measure does not usually fit the need's category"},
    "evidence_files": {"type": "array", "items": ref("Evidence")},
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
        "deliver_by": {"type": ["string", "null"], "format": "date", "description": "The date proposed for delivery"},
    },
    "additionalProperties": False,
}
_REASON = {"type": ["string", "null"], "maxLength": 2000}
_NOTHING = {"type": "object", "additionalProperties": False, "description": "Nothing, or an empty object"}
_ACTION_BODIES = {
    "accept": _NOTHING,
    "approve": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "deliver_by": {
                "type": ["string", "null"],
                "format": "date",
                "description": "YYYY-MM-DD, today or later; without it the supplier's proposed date, "
                "else the need's needed-by date, stands (one is required)",
            }
        },
    },
    "confirm": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"need_met": {"type": ["boolean", "null"], "description": "The need is now met"}},
    },
    "request-evidence": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
    },
    "dispute": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason"],
        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
    },
    "accept-evidence": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "accept_change": {
                "type": ["boolean", "null"],
                "description": "Required when the supplier reported more than approved: true approves the change",
            }
        },
    },
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
        "required": ["evidence", "declaration"],
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
                "description": "Optional: the quantity actually delivered. Above the approved one it waits "
                "for an officer (pending_quantity); below it, the delivery is partial",
            },
            "declaration": {
                "const": True,
                "description": "Required, true: not reported against another contract or to another council",
            },
        },
    },
}
_SUMMARIES = {
    "approve": "Approve the pledge with a deliver-by date (officers)",
    "deliver": "Report delivery, or send it again with more evidence (the supplier)",
    "request-evidence": "Ask the supplier for more evidence, with a reason (officers)",
    "accept-evidence": "Accept the delivery evidence, deciding any reported increase (officers)",
    "dispute": "Say the delivery did not happen or has a problem (the group)",
    "confirm": "Confirm delivery after the evidence was accepted, and say whether the need is met (the group)",
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
                "description": "409 when the need or offer cannot take it now, or when it repeats one of the "
                "supplier's pledges to the need still waiting for a decision (same offer, measure, quantity and "
                "message).",
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
                    "summary": _SUMMARIES.get(action, f"{action.capitalize()} the pledge"),
                    "security": SIGNED_IN,
                    "requestBody": body(
                        _ACTION_BODIES[action], required=action in ("reject", "deliver", "request-evidence", "dispute")
                    ),
                    "responses": responses("200", ref("Pledge"), "403", "404", "409"),
                },
            }
            for action in _ACTIONS
        },
    },
    {"Pledge": {"type": "object", "required": list(_PLEDGE_OUTPUT), "properties": _PLEDGE_OUTPUT}},
)


def _upload() -> Upload:
    """The file from a multipart form's ``file`` field."""
    if request.mimetype != "multipart/form-data":
        raise ValidationFailed(
            {"file": "Send the file as multipart/form-data in a field named 'file'"}, "There is no file."
        )
    sent = request.files.get("file")
    if sent is None:
        raise ValidationFailed({"file": "Send the file in the form field named 'file'"}, "There is no file.")
    return read_upload(sent)


@api.post("/pledges/<int:pledge_id>/evidence")
def add_evidence(pledge_id: int) -> object:
    """The supplier attaches an evidence file to its pledge."""
    session, actor = db_session(), current_actor()
    # Who may, before the file is read: others learn nothing about the file's checks.
    pledges_service.pledge_for_step(session, actor, pledge_id, "deliver")
    item = evidence_service.add_evidence(session, actor, pledge_id, _upload(), app_state().config.evidence_path)
    commit()
    return evidence_json(item), 201, {"Location": url_for("api.get_evidence", evidence_id=item.id)}


@api.get("/pledges/<int:pledge_id>/evidence")
def list_evidence(pledge_id: int) -> object:
    """The pledge's evidence files, to its parties and officers."""
    items = evidence_service.list_evidence(db_session(), current_actor(), pledge_id)
    return {
        "items": [evidence_json(i) for i in items],
        "total": len(items),
        "page": 1,
        "per_page": evidence_service.MAX_FILES,
    }


@api.get("/evidence/<int:evidence_id>")
def get_evidence(evidence_id: int) -> object:
    """One evidence file's bytes, as an attachment; 404 to anyone outside its pledge."""
    return evidence_response(evidence_service.get_evidence(db_session(), current_actor(), evidence_id))


_EVIDENCE = {
    "type": "object",
    "required": ["id", "name", "content_type", "size"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string", "description": "The cleaned file name (photos end .jpg or .png once re-encoded)"},
        "content_type": {"type": "string", "description": "Decided from the file's bytes"},
        "size": {"type": "integer", "description": "Bytes as stored (photos re-encoded without EXIF)"},
        "sha256": {"type": "string"},
        "uploaded_at": DATE_TIME,
        "url": {"type": "string"},
    },
}
_FILE_HEADERS = {
    "Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=..."},
    "Cache-Control": {"schema": {"const": "private, no-store"}},
    "X-Content-Type-Options": {"schema": {"const": "nosniff"}},
}
document(
    {
        "/pledges/{pledge_id}/evidence": {
            "parameters": [_pledge_id],
            "get": {
                "summary": "The pledge's evidence files (its group, its supplier, officers)",
                "security": SIGNED_IN,
                "responses": responses("200", page_of("Evidence"), "404"),
            },
            "post": {
                "summary": "Attach an evidence file (the supplier; up to 10 files of up to 10 MB)",
                "description": (
                    f"Accepted: {evidence_service.ACCEPTED_WORDS}. The type is decided from the file's bytes. "
                    "Photos are re-encoded so EXIF and GPS are removed (HEIC becomes JPEG). Refused with 422: "
                    "other types, empty files, files over 10 MB, PDFs with JavaScript or embedded files, "
                    "office files with macros, photos over 50 million pixels, names with '/', '\\\\', '..' or "
                    "control characters. 503 when the store cannot take the file: nothing is kept."
                ),
                "security": SIGNED_IN,
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": responses("201", ref("Evidence"), "403", "404", "409", "503"),
            },
        },
        "/evidence/{evidence_id}": {
            "parameters": [path_id("evidence_id")],
            "get": {
                "summary": "An evidence file, as an attachment (the pledge's parties and officers; 404 to others)",
                "security": SIGNED_IN,
                "responses": {
                    "200": {
                        "description": "The file",
                        "headers": _FILE_HEADERS,
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "404": error("404"),
                },
            },
        },
    },
    {"Evidence": _EVIDENCE},
)
