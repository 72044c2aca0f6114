"""Officers' social value reports and the public impact page, with its open data downloads."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from marketplace.models import Role
from marketplace.request_scope import current_actor, db_session
from marketplace.services.accounts import require_role
from marketplace.services.errors import ValidationFailed
from marketplace.services.reports import (
    GROUP_LABELS,
    GROUPS,
    DeliveredPledge,
    Report,
    ReportRow,
    contracts_behind_target,
    delivered_pledges,
    impact_csv,
    impact_summary,
    last_confirmed_at,
    social_value_report,
)
from marketplace.web.forms import date_problem

bp = Blueprint("reports", __name__)

# Open data may be cached by browsers and proxies for a few minutes.
OPEN_DATA_MAX_AGE = 300
CHART_ROWS = 25
# Where each field's error in the summary takes the person.
_ERROR_HREFS = {"group_by": "#group_by", "from": "#from-day", "to": "#to-day"}
_PARTS = ("day", "month", "year")


def _date_parts(name: str) -> tuple[str | None, dict[str, str]]:
    """A date from the form's day/month/year boxes (or ISO text in ``name``), and the boxes to show again.

    The service decides whether it is a real date; this only puts the parts together.
    """
    parts = {part: request.args.get(f"{name}-{part}", "").strip()[:10] for part in _PARTS}
    if not any(parts.values()):
        iso = request.args.get(name, "").strip()[:20]
        if iso:
            year, _, rest = iso.partition("-")
            month, _, day = rest.partition("-")
            return iso, {"day": day, "month": month, "year": year}
        return None, parts
    return f"{parts['year']}-{parts['month'].zfill(2)}-{parts['day'].zfill(2)}", parts


def _date_items(parts: dict[str, str], error: bool) -> list[dict[str, str]]:
    """The day, month and year boxes of a GOV.UK date input, showing what was typed."""
    widths = {"day": 2, "month": 2, "year": 4}
    return [
        {
            "name": part,
            "value": parts.get(part, ""),
            "classes": f"govuk-input--width-{widths[part]}" + (" govuk-input--error" if error else ""),
        }
        for part in _PARTS
    ]


def bar_chart(rows: list[ReportRow], limit: int = CHART_ROWS) -> dict[str, object]:
    """Geometry for a horizontal bar chart of committed and delivered £ per row, largest first."""
    shown = sorted(rows, key=lambda r: r.committed, reverse=True)[:limit]
    top = max((r.committed for r in shown), default=Decimal(0)) or Decimal(1)
    label_width, bar_width, row_height, head = 230, 360, 46, 36
    bars = []
    for index, row in enumerate(shown):
        y = head + index * row_height
        label = row.label if len(row.label) <= 32 else row.label[:31] + "…"
        bars.append(
            {
                "label": label,
                "y": y,
                "committed": row.committed,
                "delivered": row.delivered,
                "committed_width": float(row.committed / top) * bar_width,
                "delivered_width": float(row.delivered / top) * bar_width,
            }
        )
    return {
        "bars": bars,
        "x": label_width,
        "width": label_width + bar_width + 130,
        "height": head + len(shown) * row_height + 4,
        "truncated": len(rows) > len(shown),
    }


@bp.get("/officer/reports")
def officer_reports() -> str:
    """Committed and delivered social value, grouped and filtered, with contracts behind target."""
    session, actor = db_session(), current_actor()
    require_role(actor, Role.OFFICER)
    group_by = request.args.get("group_by") or "contract"
    date_from, from_parts = _date_parts("from")
    date_to, to_parts = _date_parts("to")
    errors: list[dict[str, str]] = []
    field_errors: dict[str, str] = {}
    report: Report | None = None
    try:
        report = social_value_report(session, actor, group_by, date_from, date_to)
    except ValidationFailed as error:
        field_errors = dict(error.fields)
        for name, parts, label in (("from", from_parts, "The start date"), ("to", to_parts, "The end date")):
            problem = date_problem(parts.get("day", ""), parts.get("month", ""), parts.get("year", ""))
            if name in field_errors and problem:
                field_errors[name] = f"{label} {problem}"
        errors = [
            {"text": message, "href": _ERROR_HREFS.get(name, "#group_by")} for name, message in error.fields.items()
        ]
    downloads = {}
    if report is not None:
        query = {"group_by": report.group_by}
        if report.date_from:
            query["from"] = report.date_from.isoformat()
        if report.date_to:
            query["to"] = report.date_to.isoformat()
        downloads = {fmt: url_for("api.social_value", format=fmt, **query) for fmt in ("csv", "json")}
    return render_template(
        "reports/social_value.html",
        report=report,
        chart=bar_chart(report.rows) if report else None,
        behind=contracts_behind_target(session, actor),
        groups=GROUPS,
        group_labels=GROUP_LABELS,
        group_by=group_by if group_by in GROUPS else "contract",
        date_items={
            "from": _date_items(from_parts, "from" in field_errors),
            "to": _date_items(to_parts, "to" in field_errors),
        },
        errors=errors,
        field_errors=field_errors,
        downloads=downloads,
    )


@bp.get("/impact")
def impact() -> str:
    """Social value delivered so far, for everyone: totals, by outcome and district, recent deliveries."""
    return render_template("impact/impact.html", impact=impact_summary(db_session()))


def _open_data(response: Response, last_change: datetime | None) -> Response:
    """Make an open data response cache-friendly: public, short-lived, revalidated by ETag."""
    response.headers["Cache-Control"] = f"public, max-age={OPEN_DATA_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if last_change is not None:
        response.last_modified = last_change
    response.add_etag()
    return response.make_conditional(request)


def _pounds(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _pledge_json(pledge: DeliveredPledge) -> dict[str, object]:
    return {
        "pledge_id": pledge.id,
        "confirmed_on": pledge.confirmed_on.isoformat() if pledge.confirmed_on else None,
        "supplier": pledge.supplier,
        "community_group": pledge.group,
        "need": pledge.need_title,
        "district": pledge.district,
        "outcomes": list(pledge.outcomes),
        "measure": pledge.measure.code,
        "unit": pledge.measure.unit,
        "quantity": _pounds(pledge.quantity),
        "value": _pounds(pledge.value),
    }


def _rows_json(rows: list[ReportRow]) -> list[dict[str, object]]:
    return [
        {
            "key": row.key,
            "label": row.label,
            "delivered": _pounds(row.delivered),
            "pledges": row.pledges,
            "units": {code: _pounds(amounts.delivered) for code, amounts in row.units.items()},
        }
        for row in rows
    ]


@bp.get("/impact.json")
def impact_json() -> Response:
    """The impact figures and every confirmed pledge, as open data JSON."""
    session = db_session()
    impact = impact_summary(session, recent=0)
    body = {
        "description": "Social value delivered through the marketplace: confirmed pledges only. £ values are "
        "quantity × the measure's proxy value at approval; measures without a proxy count in units only. "
        "A pledge serving several outcomes is split equally between them in by_outcome.",
        "last_confirmed_at": impact.last_confirmed_at.isoformat() if impact.last_confirmed_at else None,
        "totals": {
            "delivered": _pounds(impact.delivered),
            "pledges": impact.pledges,
            "units": {code: _pounds(units) for code, units in impact.units.items()},
        },
        "measures": [
            {"code": m.code, "name": m.name, "unit": m.unit, "monetised": m.monetised} for m in impact.measures.values()
        ],
        "by_outcome": _rows_json(impact.by_outcome),
        "by_district": _rows_json(impact.by_district),
        "pledges": [_pledge_json(p) for p in delivered_pledges(session)],
    }
    return _open_data(jsonify(body), impact.last_confirmed_at)


@bp.get("/impact.csv")
def impact_csv_download() -> Response:
    """Every confirmed pledge as open data CSV, one row each."""
    session = db_session()
    response = Response(
        impact_csv(delivered_pledges(session)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="social-value-delivered.csv"'},
    )
    return _open_data(response, last_confirmed_at(session))
