"""API routes about the caller and organisations."""

from __future__ import annotations

from flask import jsonify, request

from marketplace.models import Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import organisations as organisations_service
from marketplace.services import personal_data
from marketplace.services.accounts import require_role
from marketplace.services.digest import set_digest
from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import FieldErrors, unknown_fields
from marketplace.services.notifications import EMAIL_PREFERENCES, set_email_preference
from marketplace.services.paging import check_paging

from . import api
from .openapi import document, error, json_content, ref, responses
from .parsing import json_body, query_flag
from .serializers import organisation_json, page_json, user_json


@api.get("/me")
def me() -> object:
    """The caller, with role and organisation."""
    return user_json(require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER))


@api.patch("/me")
def update_me() -> object:
    """Change the caller's settings: ``{"digest_enabled": false}`` switches a supplier's daily digest off."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    body = json_body()
    errors = FieldErrors()
    unknown_fields(body, {"digest_enabled"}, errors)
    if "digest_enabled" in body and not isinstance(body["digest_enabled"], bool):
        errors["digest_enabled"] = "digest_enabled must be true or false"
    errors.raise_if_any()
    if "digest_enabled" in body:
        set_digest(db_session(), actor, body["digest_enabled"])
    commit()
    return user_json(actor)


document(
    {
        "/me": {
            "get": {"summary": "The caller", "responses": responses("200", ref("Me"), "401")},
            "patch": {
                "summary": "Change the caller's settings",
                "description": "`digest_enabled` (suppliers only): the daily email of new needs that fit "
                "their open offers well.",
                "requestBody": {
                    "required": True,
                    **json_content(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "properties": {"digest_enabled": {"type": "boolean"}},
                        }
                    ),
                },
                "responses": responses("200", ref("Me"), "400", "401", "403", "413", "422"),
            },
        }
    },
    {
        "Me": {
            "type": "object",
            "required": ["id", "email", "role", "organisation", "digest_enabled"],
            "properties": {
                "id": {"type": "integer"},
                "email": {"type": "string"},
                "name": {"type": "string"},
                "role": {"enum": ["community", "supplier", "officer"]},
                "organisation": ref("OrganisationRef"),
                "digest_enabled": {
                    "type": "boolean",
                    "description": "Suppliers: a daily email of new needs that fit their open offers",
                },
            },
        }
    },
)


def _email_preferences_json(email_preference: str) -> dict[str, object]:
    return {
        "email_preference": email_preference,
        "choices": [{"value": value, "label": label} for value, label in EMAIL_PREFERENCES.items()],
    }


@api.route("/me/email-preferences", methods=["GET", "PUT"])
def my_email_preferences() -> object:
    """Which e-mails about their work the caller gets: each event, a daily summary, or essential ones only."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    if request.method == "PUT":
        body = json_body()
        errors = FieldErrors()
        unknown_fields(body, {"email_preference"}, errors)
        errors.raise_if_any()
        set_email_preference(db_session(), actor, body.get("email_preference"))
        commit()
    return _email_preferences_json(actor.email_preference)


_EMAIL_PREFERENCE = {
    "enum": list(EMAIL_PREFERENCES),
    "description": "each: an email for each thing that happens; daily: one summary a day; "
    "essential: only sign-in links, invitations and decisions about the organisation",
}
document(
    {
        "/me/email-preferences": {
            "get": {
                "summary": "Which emails about their work the caller gets",
                "responses": responses("200", ref("EmailPreferences"), "401"),
            },
            "put": {
                "summary": "Choose which emails about their work the caller gets",
                "description": "Essential emails (links to confirm an address or reset a password, invitations, "
                "decisions about the organisation) are always sent.",
                "requestBody": {
                    "required": True,
                    **json_content(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["email_preference"],
                            "properties": {"email_preference": _EMAIL_PREFERENCE},
                        },
                        {"email_preference": "daily"},
                    ),
                },
                "responses": responses("200", ref("EmailPreferences"), "400", "401", "413", "422"),
            },
        }
    },
    {
        "EmailPreferences": {
            "type": "object",
            "required": ["email_preference", "choices"],
            "properties": {
                "email_preference": _EMAIL_PREFERENCE,
                "choices": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["value", "label"],
                        "properties": {"value": {"type": "string"}, "label": {"type": "string"}},
                    },
                },
            },
        }
    },
)


@api.get("/me/data")
def my_data() -> object:
    """Everything the marketplace holds about the caller (UK GDPR right of access)."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    response = jsonify(personal_data.personal_data(db_session(), actor))
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/me/close")
def close_me() -> object:
    """Close the caller's account with ``{"password": "..."}``: personal details erased, records kept."""
    actor = require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)
    body = json_body()
    errors = FieldErrors()
    unknown_fields(body, {"password"}, errors)
    if not isinstance(body.get("password"), str):
        errors["password"] = "Enter your current password to close your account"
    errors.raise_if_any()
    personal_data.close_account(db_session(), actor, body["password"])
    commit()
    return "", 204


document(
    {
        "/me/data": {
            "get": {
                "summary": "Download the caller's own data",
                "description": "Everything the marketplace holds about the caller: account, organisation, API "
                "tokens (never the token itself), what they posted, pledge steps, recorded actions and "
                "emails sent to them.",
                "responses": responses("200", ref("PersonalData"), "401"),
            }
        },
        "/me/close": {
            "post": {
                "summary": "Close the caller's account",
                "description": "Erases the caller's name, email address, password, API tokens and emails; "
                "their organisation's needs, offers, pledges and the audit log stay, showing a former member. "
                "Cannot be undone.",
                "requestBody": {
                    "required": True,
                    **json_content(
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["password"],
                            "properties": {"password": {"type": "string"}},
                        }
                    ),
                },
                "responses": {
                    "204": {"description": "The account is closed"},
                    **{code: error(code) for code in ("400", "401", "413", "422")},
                },
            }
        },
    },
    {
        "PersonalData": {
            "type": "object",
            "required": [
                "downloaded_at",
                "account",
                "organisation",
                "api_tokens",
                "needs_posted",
                "offers_posted",
                "pledges_made",
                "pledge_steps",
                "actions_recorded",
                "emails_sent_to_you",
            ],
            "properties": {
                "about": {"type": "string"},
                "downloaded_at": {"type": "string", "format": "date-time"},
                "account": {"type": "object"},
                "organisation": {"type": "object"},
                "api_tokens": {"type": "array", "items": {"type": "object"}},
                "saved_searches": {"type": "array", "items": {"type": "object"}},
                "needs_posted": {"type": "array", "items": {"type": "object"}},
                "offers_posted": {"type": "array", "items": {"type": "object"}},
                "pledges_made": {"type": "array", "items": {"type": "object"}},
                "pledge_steps": {"type": "array", "items": {"type": "object"}},
                "actions_recorded": {"type": "array", "items": {"type": "object"}},
                "emails_sent_to_you": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
)


@api.get("/organisations")
def list_organisations() -> object:
    """Organisations, for officers; ``verified=false`` lists those waiting or rejected."""
    verified = query_flag("verified")
    page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"))
    result = organisations_service.list_organisations(
        db_session(), current_actor(), verified=verified, page=page, per_page=per_page
    )
    return page_json(result, organisation_json)


@api.post("/organisations/<int:organisation_id>/verify")
def verify_organisation(organisation_id: int) -> object:
    """An officer verifies an organisation."""
    json_body(allow_empty=True)
    organisation = organisations_service.verify_organisation(db_session(), current_actor(), organisation_id)
    commit()
    return organisation_json(organisation)


@api.post("/organisations/<int:organisation_id>/reject")
def reject_organisation(organisation_id: int) -> object:
    """An officer rejects an organisation, optionally with a reason."""
    body = json_body(allow_empty=True)
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ValidationFailed({"reason": "The reason must be text"})
    organisation = organisations_service.reject_organisation(db_session(), current_actor(), organisation_id, reason)
    commit()
    return organisation_json(organisation)
