"""API routes for social value reports (officers): JSON or CSV of the same figures."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, request

from marketplace.request_scope import current_actor, db_session
from marketplace.services.errors import ValidationFailed
from marketplace.services.reports import GROUPS, Report, ReportRow, UnitAmounts, report_csv, social_value_report

from . import api
from .openapi import SIGNED_IN, document, query_param, ref, responses

FORMATS = ("json", "csv")


def _pounds(value: Decimal) -> float:
    # JSON numbers, rounded to the penny; the exact Decimal stays in the service.
    return float(value.quantize(Decimal("0.01")))


def _units(units: dict[str, UnitAmounts]) -> dict[str, dict[str, float]]:
    return {
        code: {
            "committed": _pounds(a.committed),
            "delivered": _pounds(a.delivered),
            "reported_delivered": _pounds(a.reported),
            "overdue": _pounds(a.overdue),
        }
        for code, a in units.items()
    }


def _rate(rate: Decimal | None) -> float | None:
    return float(rate) if rate is not None else None


def _words(item: Report | ReportRow) -> dict[str, object]:
    """The fixed words, in £: committed, reported delivered, confirmed (delivered), overdue, and the rate."""
    return {
        "committed_value": _pounds(item.committed),
        "reported_delivered_value": _pounds(item.reported),
        "delivered_value": _pounds(item.delivered),
        "overdue_value": _pounds(item.overdue),
        "delivery_rate": _rate(item.delivery_rate),
    }


def report_json(report: Report) -> dict[str, object]:
    """A report in the API's JSON shape."""
    return {
        "group_by": report.group_by,
        "from": report.date_from.isoformat() if report.date_from else None,
        "to": report.date_to.isoformat() if report.date_to else None,
        "rows": [
            {
                "key": row.key,
                "label": row.label,
                "committed": _pounds(row.committed),
                "delivered": _pounds(row.delivered),
                "pledges": row.pledges,
                "units": _units(row.units),
                **_words(row),
            }
            for row in report.rows
        ],
        "totals": {
            "committed": _pounds(report.committed),
            "delivered": _pounds(report.delivered),
            "pledges": report.pledges,
            "units": _units(report.units),
            **_words(report),
        },
        "measures": [
            {"code": m.code, "name": m.name, "unit": m.unit, "monetised": m.monetised} for m in report.measures.values()
        ],
        "split_between_outcomes": report.split_between_outcomes,
    }


@api.get("/reports/social-value")
def social_value() -> object:
    """Committed and delivered social value grouped one way, as JSON or CSV (officers)."""
    fmt = request.args.get("format") or "json"
    try:
        report = social_value_report(
            db_session(),
            current_actor(),
            request.args.get("group_by") or "contract",
            request.args.get("from"),
            request.args.get("to"),
        )
    except ValidationFailed as error:
        if fmt not in FORMATS:
            error.fields["format"] = "format must be json or csv"
        raise
    if fmt not in FORMATS:
        raise ValidationFailed({"format": "Format must be json or csv"})
    if fmt == "json":
        return report_json(report)
    period = "".join(
        f"-{label}-{day.isoformat()}" for label, day in (("from", report.date_from), ("to", report.date_to)) if day
    )
    return Response(
        report_csv(report),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="social-value-by-{report.group_by}{period}.csv"',
            "Cache-Control": "private, no-store",
        },
    )


_AMOUNTS = {
    "type": "object",
    "description": "Units per measure code",
    "additionalProperties": {
        "type": "object",
        "required": ["committed", "delivered", "reported_delivered", "overdue"],
        "properties": {
            "committed": {"type": "number"},
            "delivered": {"type": "number", "description": "Confirmed"},
            "reported_delivered": {"type": "number"},
            "overdue": {"type": "number"},
        },
    },
}
_WORDS = {
    "committed_value": {"type": "number", "description": "£ approved by an officer (approved, delivered, confirmed)"},
    "reported_delivered_value": {"type": "number", "description": "£ the supplier says it delivered"},
    "delivered_value": {"type": "number", "description": "£ confirmed: evidence accepted and the group confirmed"},
    "overdue_value": {"type": "number", "description": "£ committed, still only approved after its deliver-by date"},
    "delivery_rate": {"type": ["number", "null"], "description": "delivered_value / committed_value"},
}

document(
    {
        "/reports/social-value": {
            "get": {
                "summary": "Committed and delivered social value in £ and units, grouped (officers)",
                "security": SIGNED_IN,
                "description": "Committed counts approved, delivered and confirmed pledges; delivered counts "
                "confirmed ones. £ is each pledge's value fixed at approval; unmonetised measures count in "
                "units only. Grouped by outcome, a pledge serving several outcomes is split equally between "
                "them so totals are not double counted. `format=csv` returns the rows as a CSV attachment "
                "(key, label, committed, delivered, pledges, reported_delivered, overdue, delivery_rate, then "
                "committed_units:<measure> and delivered_units:<measure> per measure, then reported_units:<measure> "
                "and overdue_units:<measure> per measure). Overdue is committed value still only approved after "
                "its deliver-by date; delivered (confirmed) needs accepted evidence and the group's confirmation.",
                "parameters": [
                    query_param("group_by", "How to group: " + ", ".join(GROUPS), {"enum": list(GROUPS)}),
                    query_param(
                        "from",
                        "Pledges approved on or after this day (YYYY-MM-DD)",
                        {"type": "string", "format": "date"},
                    ),
                    query_param(
                        "to",
                        "Pledges approved on or before this day (YYYY-MM-DD)",
                        {"type": "string", "format": "date"},
                    ),
                    query_param("format", "json (default) or csv", {"enum": list(FORMATS)}),
                ],
                "responses": {
                    **responses("200", ref("SocialValueReport"), "401", "403", "422"),
                    "200": {
                        "description": "Success",
                        "content": {
                            "application/json": {"schema": ref("SocialValueReport")},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                },
            }
        }
    },
    {
        "SocialValueReport": {
            "type": "object",
            "required": ["group_by", "from", "to", "rows", "totals", "measures", "split_between_outcomes"],
            "properties": {
                "group_by": {"enum": list(GROUPS)},
                "from": {"type": ["string", "null"], "format": "date"},
                "to": {"type": ["string", "null"], "format": "date"},
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "label", "committed", "delivered", "pledges", "units", *_WORDS],
                        "properties": {
                            "key": {
                                "type": ["integer", "string", "null"],
                                "description": "Contract or supplier id, outcome or district code, YYYY-MM; "
                                "null for no contract or no outcome",
                            },
                            "label": {"type": "string"},
                            "committed": {"type": "number", "description": "£"},
                            "delivered": {"type": "number", "description": "£"},
                            "pledges": {"type": "integer"},
                            "units": _AMOUNTS,
                            **_WORDS,
                        },
                    },
                },
                "totals": {
                    "type": "object",
                    "required": ["committed", "delivered", "pledges", "units", *_WORDS],
                    "properties": {
                        "committed": {"type": "number"},
                        "delivered": {"type": "number"},
                        "pledges": {"type": "integer"},
                        "units": _AMOUNTS,
                        **_WORDS,
                    },
                },
                "measures": {
                    "type": "array",
                    "description": "The measures counted, with their units",
                    "items": {
                        "type": "object",
                        "required": ["code", "name", "unit", "monetised"],
                        "properties": {
                            "code": {"type": "string"},
                            "name": {"type": "string"},
                            "unit": {"type": "string"},
                            "monetised": {"type": "boolean", "description": "Has a £ proxy value"},
                        },
                    },
                },
                "split_between_outcomes": {"type": "boolean"},
            },
        }
    },
)
