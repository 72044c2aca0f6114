"""API routes that move people along: their tasks, requests for offers, messages and teams."""

from __future__ import annotations

from flask import request, url_for

from marketplace.models import Message, OfferRequest, RequestStatus, User
from marketplace.request_scope import commit, current_actor, db_session, link_settings
from marketplace.services import messages as messages_service
from marketplace.services import offer_requests, tasks, teams
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import FieldErrors, unknown_fields
from marketplace.services.paging import check_paging

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
from .serializers import page_json


def _iso(moment) -> str:
    return moment.isoformat()


def _body_with(allowed: set[str]) -> dict[str, object]:
    data = json_body()
    errors = FieldErrors()
    unknown_fields(data, allowed, errors)
    errors.raise_if_any()
    return data


@api.get("/me/tasks")
def my_tasks() -> object:
    """What is waiting for the caller, newest first."""
    found = tasks.tasks_for(db_session(), current_actor())
    return {
        "items": [
            {"kind": t.kind, "title": t.title, "url": request.host_url.rstrip("/") + t.url, "since": _iso(t.since)}
            for t in found.items
        ],
        "total": found.total,
    }


def request_json(item: OfferRequest) -> dict[str, object]:
    """A request for an offer as the API shows it."""
    return {
        "id": item.id,
        "status": item.status.value,
        "offer": {"id": item.offer_id, "title": item.offer.title, "supplier": item.offer.organisation.name},
        "need": {"id": item.need_id, "title": item.need.title},
        "group": {"id": item.organisation_id, "name": item.organisation.name},
        "message": item.message,
        "decline_reason": item.decline_reason,
        "pledge_id": item.pledge_id,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
    }


@api.post("/offers/<int:offer_id>/requests")
def ask_for_offer(offer_id: int) -> object:
    """A group asks for an offer for one of its needs."""
    item = offer_requests.ask_for_offer(db_session(), current_actor(), offer_id, json_body())
    commit()
    return request_json(item), 201, {"Location": url_for("api.get_request", request_id=item.id)}


@api.get("/requests")
def list_requests() -> object:
    """Requests the caller is part of, on either side."""
    fields: dict[str, str] = {}
    status = request.args.get("status") or None
    if status is not None and status not in {s.value for s in RequestStatus}:
        fields["status"] = f"Unknown status: {status[:40]}"
    try:
        page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    except ValidationFailed as error:
        fields.update(error.fields)
    if fields:
        raise ValidationFailed(fields)
    found = offer_requests.list_requests(db_session(), current_actor(), page, per_page, status=status)
    return page_json(found, request_json)


@api.get("/requests/<int:request_id>")
def get_request(request_id: int) -> object:
    """One request."""
    return request_json(offer_requests.get_request(db_session(), current_actor(), request_id))


@api.post("/requests/<int:request_id>/decline")
def decline_request(request_id: int) -> object:
    """The supplier declines a request, with a reason."""
    session, actor = db_session(), current_actor()
    offer_requests.get_request(session, actor, request_id)  # who may, before what they sent
    data = _body_with({"reason"})
    item = offer_requests.decline_request(session, actor, request_id, data.get("reason"))
    commit()
    return request_json(item)


def message_json(message: Message) -> dict[str, object]:
    """A message as the API shows it."""
    author = message.author
    return {
        "id": message.id,
        "body": message.body,
        "author": {
            "id": author.id if author else None,
            "name": author.name if author else "A former member",
            "organisation": author.organisation.name if author else None,
        },
        "created_at": _iso(message.created_at),
    }


def _messages(about: messages_service.Conversation) -> object:
    session = db_session()
    if request.method == "POST":
        data = _body_with({"body"})
        message = messages_service.post_message(session, current_actor(), about, data.get("body"))
        commit()
        return message_json(message), 201
    found = messages_service.list_messages(session, about)
    return {"items": [message_json(m) for m in found], "total": len(found)}


@api.route("/pledges/<int:pledge_id>/messages", methods=["GET", "POST"])
def pledge_messages(pledge_id: int) -> object:
    """The messages on a pledge, or a new one."""
    return _messages(messages_service.conversation(db_session(), current_actor(), pledge_id=pledge_id))


@api.route("/requests/<int:request_id>/messages", methods=["GET", "POST"])
def request_messages(request_id: int) -> object:
    """The messages on a request, or a new one."""
    return _messages(messages_service.conversation(db_session(), current_actor(), request_id=request_id))


def member_json(user: User) -> dict[str, object]:
    """A member of an organisation, as its colleagues see them."""
    return {"id": user.id, "name": user.name, "email": user.email, "joined_at": _iso(user.created_at)}


@api.get("/organisations/<int:organisation_id>/members")
def list_members(organisation_id: int) -> object:
    """Who is in an organisation (its members and officers only)."""
    found = teams.list_members(db_session(), current_actor(), organisation_id)
    return {"items": [member_json(u) for u in found], "total": len(found)}


@api.post("/organisations/<int:organisation_id>/invitations")
def invite(organisation_id: int) -> object:
    """Invite a colleague by e-mail."""
    session, actor = db_session(), current_actor()
    teams.list_members(session, actor, organisation_id)  # who may, before what they sent
    data = _body_with({"email"})
    invitation = teams.invite(session, link_settings(), actor, organisation_id, data.get("email"))
    commit()
    return {"id": invitation.id, "email": invitation.email, "created_at": _iso(invitation.created_at)}, 201


@api.delete("/organisations/<int:organisation_id>/members/<int:user_id>")
def remove_member(organisation_id: int, user_id: int) -> object:
    """Remove someone from the organisation (never its last member)."""
    teams.remove_member(db_session(), current_actor(), organisation_id, user_id)
    commit()
    return "", 204


_TASK = {
    "type": "object",
    "required": ["kind", "title", "url", "since"],
    "properties": {
        "kind": {"type": "string", "description": "e.g. pledge_to_answer, request_to_answer, message"},
        "title": {"type": "string", "description": "The step, in words"},
        "url": {"type": "string", "description": "The page where the step is taken"},
        "since": DATE_TIME,
    },
}
_NAMED_ID = {
    "type": "object",
    "required": ["id"],
    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}, "name": {"type": "string"}},
}
_REQUEST = {
    "type": "object",
    "required": ["id", "status", "offer", "need", "group", "message", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "status": {"enum": [s.value for s in RequestStatus]},
        "offer": {**_NAMED_ID, "properties": {**_NAMED_ID["properties"], "supplier": {"type": "string"}}},
        "need": _NAMED_ID,
        "group": _NAMED_ID,
        "message": {"type": "string"},
        "decline_reason": {"type": ["string", "null"]},
        "pledge_id": {"type": ["integer", "null"], "description": "The pledge the supplier made from it"},
        "created_at": DATE_TIME,
        "updated_at": DATE_TIME,
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["id", "body", "author", "created_at"],
    "properties": {
        "id": {"type": "integer"},
        "body": {"type": "string", "description": "Plain text"},
        "author": {
            "type": "object",
            "properties": {
                "id": {"type": ["integer", "null"]},
                "name": {"type": "string"},
                "organisation": {"type": ["string", "null"]},
            },
        },
        "created_at": DATE_TIME,
    },
}
_MESSAGE_INPUT = {
    "type": "object",
    "required": ["body"],
    "additionalProperties": False,
    "properties": {
        "body": {
            "type": "string",
            "minLength": 1,
            "maxLength": messages_service.BODY_MAX,
            "description": "Plain text; HTML tags are refused. A person may send 10 in 10 minutes",
        }
    },
}
_MEMBER = {
    "type": "object",
    "required": ["id", "name", "email", "joined_at"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
        "joined_at": DATE_TIME,
    },
}


def _list_of(schema: dict[str, object]) -> dict[str, object]:
    return {
        "type": "object",
        "required": ["items", "total"],
        "properties": {"items": {"type": "array", "items": schema}, "total": {"type": "integer", "minimum": 0}},
    }


def _messages_path(param: str, what: str) -> dict[str, object]:
    return {
        "parameters": [path_id(param)],
        "get": {
            "summary": f"The messages on a {what}, oldest first (its group, supplier and officers)",
            "security": SIGNED_IN,
            "responses": responses("200", _list_of(ref("Message")), "404"),
        },
        "post": {
            "summary": f"Write a message on a {what}; the others in it are emailed a link",
            "security": SIGNED_IN,
            "requestBody": body(_MESSAGE_INPUT, {"body": "Could you come on Saturday at 10?"}),
            "responses": responses("201", ref("Message"), "404", "429"),
        },
    }


document(
    {
        "/me/tasks": {
            "get": {
                "summary": "What is waiting for the caller: each step that is theirs, newest first",
                "security": SIGNED_IN,
                "responses": responses("200", _list_of(_TASK)),
            }
        },
        "/offers/{offer_id}/requests": {
            "parameters": [path_id("offer_id")],
            "post": {
                "summary": "A group asks for an offer, for one of its open needs",
                "security": SIGNED_IN,
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["need_id", "message"],
                        "additionalProperties": False,
                        "properties": {
                            "need_id": {"type": "integer", "description": "One of the group's open needs"},
                            "message": {"type": "string", "minLength": 1, "maxLength": offer_requests.MESSAGE_MAX},
                        },
                    },
                    {"need_id": 1, "message": "Could your volunteers paint our hall in May?"},
                ),
                "responses": responses("201", ref("OfferRequest"), "403", "404", "409"),
            },
        },
        "/requests": {
            "get": {
                "summary": "Requests the caller is part of: a group's own, those for a supplier's offers; officers all",
                "security": SIGNED_IN,
                "parameters": [
                    query_param("status", "A request status", {"enum": [s.value for s in RequestStatus]}),
                    *PAGING,
                ],
                "responses": responses("200", page_of("OfferRequest")),
            }
        },
        "/requests/{request_id}": {
            "parameters": [path_id("request_id")],
            "get": {
                "summary": "One request",
                "security": SIGNED_IN,
                "responses": responses("200", ref("OfferRequest"), "404"),
            },
        },
        "/requests/{request_id}/decline": {
            "parameters": [path_id("request_id")],
            "post": {
                "summary": "The supplier declines a request, saying why",
                "security": SIGNED_IN,
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["reason"],
                        "additionalProperties": False,
                        "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 2000}},
                    },
                    {"reason": "Our volunteers are booked until September"},
                ),
                "responses": responses("200", ref("OfferRequest"), "403", "404", "409"),
            },
        },
        "/pledges/{pledge_id}/messages": _messages_path("pledge_id", "pledge"),
        "/requests/{request_id}/messages": _messages_path("request_id", "request"),
        "/organisations/{organisation_id}/members": {
            "parameters": [path_id("organisation_id")],
            "get": {
                "summary": "Who is in an organisation (for its members and officers)",
                "security": SIGNED_IN,
                "responses": responses("200", _list_of(_MEMBER), "404"),
            },
        },
        "/organisations/{organisation_id}/invitations": {
            "parameters": [path_id("organisation_id")],
            "post": {
                "summary": "Invite a colleague by email: a signed link that works once, for 7 days",
                "security": SIGNED_IN,
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["email"],
                        "additionalProperties": False,
                        "properties": {"email": {"type": "string", "format": "email", "maxLength": 254}},
                    },
                    {"email": "colleague@example.org"},
                ),
                "responses": responses(
                    "201",
                    {
                        "type": "object",
                        "required": ["id", "email", "created_at"],
                        "properties": {"id": {"type": "integer"}, "email": {"type": "string"}, "created_at": DATE_TIME},
                    },
                    "403",
                    "404",
                ),
            },
        },
        "/organisations/{organisation_id}/members/{user_id}": {
            "parameters": [path_id("organisation_id"), path_id("user_id")],
            "delete": {
                "summary": "Remove someone from the organisation; they can no longer sign in. Never the last member",
                "security": SIGNED_IN,
                "responses": {"204": {"description": "Removed"}, "404": error("404"), "409": error("409")},
            },
        },
    },
    {"OfferRequest": _REQUEST, "Message": _MESSAGE},
)
