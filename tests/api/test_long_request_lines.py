"""Finding 10 of issue 12: long addresses under gunicorn, as production serves them.

A real gunicorn process with the production settings (marketplace/gunicorn_conf.py) serves
the app; the search box's and the API's own limits fit in a request line, and a longer line
gets the API's JSON error shape, not gunicorn's HTML page.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import quote

import pytest

from benchmarks.perf.web_load import GunicornServer
from tests.faults import own_database


def _get(port: int, target: str) -> tuple[int, str, str]:
    """Send one GET with the exact request target; return status, content type and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers.get("content-type", ""), body.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """gunicorn with the production settings, serving a database of its own (SQLite or PostgreSQL)."""
    folder = tmp_path_factory.mktemp("gunicorn")
    with own_database(folder) as database:
        env = {
            **os.environ,
            "MARKETPLACE_DATABASE_URL": database,
            "MARKETPLACE_INSTANCE_DIR": str(folder),
            "MARKETPLACE_EMBEDDING_MODEL": "none",
            "MARKETPLACE_SECRET_KEY": "test",
            "PYTHONPATH": str(Path(__file__).parents[2]),
        }
        log = folder / "server.log"
        with GunicornServer("marketplace.app:create_app()", workers=1, log_path=log, env=env) as running:
            yield running


def test_the_search_box_and_api_filters_fit_at_their_limits(server):
    longest = quote("ŵ" * 256)  # 256 characters, each percent-encoded UTF-8
    status, _, _ = _get(server.port, f"/search?q={longest}")
    assert status == 200
    status, kind, body = _get(
        server.port, f"/api/v1/search?q={longest}&kind=need&category=goods&district=Melton&page=1&per_page=100"
    )
    assert (status, kind) == (200, "application/json"), body[:300]


def test_an_over_long_api_address_gets_the_json_error_shape(server):
    status, kind, body = _get(server.port, "/api/v1/offers?district=" + "x" * 9000)
    assert status == 414
    assert kind == "application/json"
    assert json.loads(body)["error"]["code"] == "uri_too_long"


def test_an_address_just_within_gunicorns_limit_gets_the_apps_own_answer(server):
    status, kind, body = _get(server.port, "/api/v1/offers?district=" + "x" * 8150)
    assert status == 422
    assert kind == "application/json"
    assert "district" in json.loads(body)["error"]["fields"]


def test_the_documented_production_command_uses_these_settings():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "gunicorn -c python:marketplace.gunicorn_conf" in readme
