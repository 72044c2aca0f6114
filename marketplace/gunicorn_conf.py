"""gunicorn settings for serving the marketplace: ``gunicorn -c python:marketplace.gunicorn_conf ...``.

The request line may be as long as gunicorn allows (8,190 bytes): the search box's 256
characters and every API filter fit even when each character is percent-encoded UTF-8. A
longer line is refused by gunicorn before the app sees it; the worker class below answers
that refusal in the API's JSON error shape instead of gunicorn's HTML page (gunicorn has not
read the path by then, so every such answer is JSON; a browser shows it as text). Lines up
to the limit reach the app, which answers 414 itself above ``validation.MAX_REQUEST_LINE``.
"""

from __future__ import annotations

import gc
import json

from gunicorn import util
from gunicorn.http.errors import LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

# Imported once, in the master: every worker forked from it shares these pages (the code and
# data of Flask, SQLAlchemy, NumPy, SciPy and scikit-learn) instead of importing a copy of its
# own, so a second worker adds little more than its own data. Nothing is started here: each
# worker still calls create_app itself.
import marketplace.app  # noqa: F401

# gunicorn's largest limit short of "unlimited" (0, which would let one request line fill memory).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# Threaded workers: a request waiting on PostgreSQL leaves the worker's CPU to another.
worker_class = "marketplace.gunicorn_conf.JsonErrorThreadWorker"
threads = 4

_TOO_LONG = json.dumps(
    {
        "error": {
            "code": "uri_too_long",
            "message": f"The address is longer than {limit_request_line:,} bytes. Shorten the query.",
        }
    }
).encode()


class JsonErrorThreadWorker(ThreadWorker):
    """gunicorn's threaded worker, answering an over-long request line with the API's JSON error shape."""

    def handle_error(self, req, client, addr, exc) -> None:
        """Write a JSON 414 for an over-long request line; anything else as gunicorn does."""
        if not isinstance(exc, LimitRequestLine):
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("request line too long from ip=%s", (addr or ("",))[0])
        response = (
            b"HTTP/1.1 414 URI Too Long\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(_TOO_LONG)}\r\n\r\n".encode()
            + _TOO_LONG
        )
        try:
            util.write_nonblock(client, response)
        except Exception:  # the client has gone; nothing to tell it
            self.log.debug("Failed to send error message.")


def pre_fork(server, worker) -> None:
    """In the master, just before a worker is forked: freeze what the master has built.

    Objects the master created (the imported libraries above) move to a permanent
    generation that the workers' garbage collections never visit, so the collector does not
    write to them and their pages stay shared instead of being copied into every worker
    (Python's advice for processes that fork without exec, see ``gc.freeze``).
    """
    gc.freeze()
