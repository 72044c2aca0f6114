"""How evidence files are received and sent, for the pages and the API alike.

A stored file is sent always as a download, never sniffed, never cached.

The page and the API send evidence the same way, from here: ``Content-Disposition:
attachment`` so a browser never renders it in the site's origin, ``nosniff`` so it is never
taken for another type, and ``Cache-Control: private, no-store`` because photos of community
projects must not linger in shared caches.
"""

from __future__ import annotations

import io

from flask import Response, send_file
from werkzeug.datastructures import FileStorage

from marketplace.models import EvidenceFile
from marketplace.request_scope import app_state
from marketplace.services.evidence import MAX_BYTES, Upload, evidence_bytes


def read_upload(sent: FileStorage) -> Upload:
    """An uploaded file's name and bytes (one byte over the limit, so the check can name it)."""
    try:
        return Upload(name=sent.filename or "", data=sent.read(MAX_BYTES + 1))
    finally:
        sent.close()  # a large upload is spooled to a temporary file: let it go at once


def evidence_response(item: EvidenceFile) -> Response:
    """The file as an attachment with its cleaned name and sniffed type."""
    data = evidence_bytes(item, app_state().config.evidence_path)
    response = send_file(
        io.BytesIO(data),
        mimetype=item.content_type,
        as_attachment=True,
        download_name=item.name,
        max_age=0,
        conditional=False,
        etag=False,
        last_modified=None,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
