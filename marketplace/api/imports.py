"""API routes for officers' bulk imports of needs and offers from CSV, all rows or none."""

from __future__ import annotations

from flask import jsonify, request, url_for

from marketplace.clock import council_today
from marketplace.models import Role
from marketplace.request_scope import commit, current_actor, db_session
from marketplace.services import bulk_import
from marketplace.services.accounts import require_role
from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.validation import MAX_BODY_TEXT

from . import api
from .openapi import document, json_content, ref, responses

CSV_TYPES = ("text/csv", "application/csv", "text/plain")


class UnsupportedMediaType(DomainError):
    """The body is neither CSV text nor a form with a file."""

    code = "unsupported_media_type"
    http_status = 415


def _csv_upload() -> tuple[bytes, str]:
    """The CSV file's bytes and name, from a text/csv body or a multipart form's ``file`` part.

    Raises:
        UnsupportedMediaType: for any other kind of body.
        ValidationFailed: for a form without its file.
    """
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed({"file": "Send the CSV file in the form field named 'file'"}, "There is no file.")
        return upload.read(), upload.filename or ""
    if request.mimetype in CSV_TYPES:
        return request.get_data(cache=False), ""
    raise UnsupportedMediaType(
        "Send the CSV file as the body with Content-Type: text/csv, or as multipart/form-data in a field named 'file'."
    )


@api.post("/imports/<any(needs, offers):kind>")
def import_listings(kind: str) -> object:
    """Import needs or offers from a CSV file (officers): 201 with the new ids, or 422 with every row's problems."""
    actor = current_actor()
    require_role(actor, Role.OFFICER)  # before reading the body: strangers learn nothing about the file
    content, filename = _csv_upload()
    try:
        result = bulk_import.import_csv(db_session(), actor, kind, content, council_today(), filename=filename)
    except bulk_import.ImportFailed as error:
        body = {
            "code": error.code,
            "message": error.message,
            "fields": error.fields,
            "rows": [p.as_json() for p in error.problems],
            "warnings": [w.as_json() for w in error.warnings],
        }
        response = jsonify({"error": body})
        response.status_code = 422
        return response
    commit()
    endpoint = "api.get_need" if kind == "needs" else "api.get_offer"
    id_name = "need_id" if kind == "needs" else "offer_id"
    return (
        {
            "kind": kind,
            "created": len(result.ids),
            "ids": result.ids,
            "items": [
                {"id": item.id, "title": item.title, "url": url_for(endpoint, **{id_name: item.id})}
                for item in result.items
            ],
            "warnings": [w.as_json() for w in result.warnings],
            "result_page": url_for("officer_import.result", audit_id=result.audit_id),
        },
        201,
    )


_PROBLEM = {
    "type": "object",
    "required": ["row", "column", "message"],
    "properties": {
        "row": {"type": ["integer", "null"], "description": "The spreadsheet's row number (the header is row 1); "
                "null for the file as a whole"},
        "column": {"type": ["string", "null"]},
        "message": {"type": "string"},
    },
}  # fmt: skip


def _import_operation(kind: str, spec: bulk_import.Kind) -> dict[str, object]:
    columns = ", ".join(f"`{c.name}`{' (required)' if c.required else ''}" for c in spec.columns)
    error_responses = responses("201", ref("ImportResult"), "400", "401", "403", "413")
    error_responses["415"] = {
        "description": "The body is neither text/csv nor multipart/form-data",
        **json_content(ref("Error")),
    }
    error_responses["422"] = {
        "description": "Nothing was imported: `error.rows` lists every problem, by spreadsheet row and column",
        **json_content(ref("ImportError")),
    }
    return {
        "post": {
            "summary": f"Import {kind} from a CSV file, all or nothing (officers)",
            "description": (
                f"A CSV file (UTF-8, with or without a byte-order mark; Excel-style quoting) whose first row "
                f"names the columns: {columns}. Lists (outcomes, districts) are separated by semicolons; "
                f"categories, districts, outcomes and measures may be given by code or name; dates as "
                f"2027-03-31 or 31/03/2027. The organisation column names an existing "
                f"{spec.organisation_noun}. At most {bulk_import.MAX_ROWS:,} rows and {MAX_BODY_TEXT}. Every row is "
                f"checked as `POST /{kind}` checks one {spec.noun}; if any row is wrong, nothing is imported."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
            },
            "responses": error_responses,
        }
    }


document(
    {
        "/imports/needs": _import_operation("needs", bulk_import.NEEDS),
        "/imports/offers": _import_operation("offers", bulk_import.OFFERS),
    },
    {
        "ImportResult": {
            "type": "object",
            "required": ["kind", "created", "ids", "items", "warnings", "result_page"],
            "properties": {
                "kind": {"enum": ["needs", "offers"]},
                "created": {"type": "integer", "minimum": 1},
                "ids": {"type": "array", "items": {"type": "integer"}},
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "title", "url"],
                        "properties": {
                            "id": {"type": "integer"},
                            "title": {"type": "string"},
                            "url": {"type": "string"},
                        },
                    },
                },
                "warnings": {
                    "type": "array",
                    "items": _PROBLEM,
                    "description": "Imported, but worth knowing: formula-like cells, unverified organisations",
                },
                "result_page": {"type": "string", "description": "The officer's page for this import"},
            },
        },
        "ImportError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        "rows": {"type": "array", "items": _PROBLEM},
                        "warnings": {"type": "array", "items": _PROBLEM},
                    },
                }
            },
        },
    },
)
