"""API routes for the council's reference lists."""

from __future__ import annotations

from flask import request
from sqlalchemy import select

from marketplace.models import Measure
from marketplace.request_scope import db_session
from marketplace.services.paging import check_paging, paginate
from marketplace.services.reference import reference_lists

from . import api
from .serializers import measure_json, page_json


@api.get("/measures")
def list_measures() -> object:
    """Social value measures with their £ proxy values."""
    page, per_page = check_paging(request.args.get("page"), request.args.get("per_page"), default_per_page=100)
    result = paginate(db_session(), select(Measure).order_by(Measure.code), page, per_page)
    return page_json(result, measure_json)


@api.get("/reference")
def reference() -> object:
    """The categories, districts and outcomes accepted in needs and offers."""
    lists = reference_lists(db_session())
    return {
        "categories": [{"code": c.code, "name": c.name} for c in lists.categories],
        "districts": [{"code": d.code, "name": d.name, "covers_all": d.covers_all} for d in lists.districts],
        "outcomes": [{"code": o.code, "name": o.name} for o in lists.outcomes],
    }
