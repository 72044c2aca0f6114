"""The database going away, caused for real, as an API client sees it: 503 in the error shape
with Retry-After, nothing half-written, and the next request works once the database is back.

The app runs on a database of its own with its own engine (as in production), so commits are
real and the rows left behind can be counted.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from marketplace.models import Need
from tests.conftest import need_fields
from tests.faults import (
    POSTGRES,
    ConnectionKiller,
    own_database,
    row_counts,
    short_sqlite_busy_timeout,
    sqlite_write_lock,
    verified_member,
)


@pytest.fixture(scope="module")
def fault_database_url(tmp_path_factory):
    with own_database(tmp_path_factory.mktemp("faults")) as url:
        yield url


@pytest.fixture
def fault_app(config, fault_database_url):
    from marketplace.app import create_app

    app = create_app(config.with_overrides(database_url=fault_database_url))
    yield app
    app.extensions["marketplace"].engine.dispose()


def need_titles(engine, title):
    with engine.connect() as connection:
        return connection.scalars(select(Need.id).where(Need.title == title)).all()


@pytest.mark.skipif(not POSTGRES, reason="kills a PostgreSQL server process; set MARKETPLACE_TEST_DATABASE_URL")
def test_connection_killed_mid_request_is_a_503_and_leaves_nothing(fault_app, fault_database_url, caplog):
    engine = fault_app.extensions["marketplace"].engine
    _, token = verified_member(engine, "api-killed@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    client = fault_app.test_client()
    title = "Tea urn for the lunch club in Shepshed"
    before = row_counts(engine)
    killer = ConnectionKiller(engine, fault_database_url)
    try:
        killer.arm()
        with caplog.at_level(logging.INFO):
            response = client.post("/api/v1/needs", json=need_fields(title=title), headers=headers)
    finally:
        killer.close()

    assert killer.killed_pid is not None, "the connection was never killed"
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 30
    error = response.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "Try again in a few minutes" in error["message"]
    # The need's INSERT had run when the connection died: none of it was kept.
    assert need_titles(engine, title) == []
    assert row_counts(engine) == before
    (record,) = [r for r in caplog.records if r.getMessage() == "database unavailable"]
    assert record.connection_invalidated is True and record.path == "/api/v1/needs"
    # What the person typed never reaches the log (statement parameters are hidden).
    assert title not in caplog.text

    # The pool dropped the dead connection: the very next request works.
    retry = client.post("/api/v1/needs", json=need_fields(title=title), headers=headers)
    assert retry.status_code == 201
    assert need_titles(engine, title) == [retry.get_json()["id"]]
    assert client.get(f"/api/v1/needs/{retry.get_json()['id']}").get_json()["title"] == title


@pytest.mark.skipif(not POSTGRES, reason="kills a PostgreSQL server process; set MARKETPLACE_TEST_DATABASE_URL")
def test_a_database_restart_between_requests_is_invisible(fault_app, fault_database_url):
    """Every pooled connection killed while idle (as a server restart does): the pool's
    pre-ping notices and reconnects, so reads and writes simply work."""
    from sqlalchemy import create_engine, text

    engine = fault_app.extensions["marketplace"].engine
    _, token = verified_member(engine, "api-restart@example.org")
    client = fault_app.test_client()
    assert client.get("/api/v1/needs").status_code == 200
    database = engine.url.database
    admin = create_engine(fault_database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        killed = connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        )
    admin.dispose()
    assert killed >= 1
    assert client.get("/api/v1/needs").status_code == 200
    response = client.post(
        "/api/v1/needs",
        json=need_fields(title="Chairs after the restart"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201


@pytest.mark.skipif(POSTGRES, reason="SQLite's write lock; PostgreSQL is covered by killing the connection")
def test_sqlite_locked_past_the_busy_timeout_is_a_503_not_a_500(fault_app, fault_database_url):
    engine = fault_app.extensions["marketplace"].engine
    _, token = verified_member(engine, "api-locked@example.org")
    headers = {"Authorization": f"Bearer {token}"}
    client = fault_app.test_client()
    title = "Folding tables for the harvest supper"
    short_sqlite_busy_timeout(engine, 200)
    before = row_counts(engine)
    with sqlite_write_lock(fault_database_url):
        response = client.post("/api/v1/needs", json=need_fields(title=title), headers=headers)
        # Reading still works while another connection writes (WAL).
        assert client.get("/api/v1/needs").status_code == 200

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 30
    assert response.get_json()["error"]["code"] == "unavailable"
    assert row_counts(engine) == before

    retry = client.post("/api/v1/needs", json=need_fields(title=title), headers=headers)
    assert retry.status_code == 201
    assert need_titles(engine, title) == [retry.get_json()["id"]]


def test_a_query_error_that_is_not_about_availability_stays_a_500(fault_app):
    """Only "the database is away" is a 503: a broken query is a bug, and says so."""
    from sqlalchemy import text

    from marketplace.request_scope import db_session

    @fault_app.get("/api/v1/broken-query-for-test")
    def broken() -> object:
        db_session().execute(text("SELECT no_such_column FROM need"))
        return {}

    response = fault_app.test_client().get("/api/v1/broken-query-for-test")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "Retry-After" not in response.headers
