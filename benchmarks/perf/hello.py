"""The yardstick for web throughput: a bare Flask app with one "hello" route.

Served by gunicorn with the same settings as the marketplace, so the ratio between the two
says how much our pages cost beyond what Flask and the server cost anyway.
"""

from __future__ import annotations

from flask import Flask


def hello_app() -> Flask:
    """A Flask app answering ``GET /`` with a short text."""
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, world!"

    return app
