"""API routes about the caller and organisations."""

from __future__ import annotations

from flask import request

from marketplace.models import Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import organisations as organisations_service
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.paging import check_paging

from . import api
from .parsing import json_body, query_flag
from .serializers import organisation_json, page_json, user_json


@api.get("/me")
def me() -> object:
    """The caller, with role and organisation."""
    return user_json(require_role(current_actor(), Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER))


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
