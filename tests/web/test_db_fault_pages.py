"""The database going away, caused for real, as a person sees it: a GOV.UK "service unavailable"
page (503), nothing half-saved, and the form works again straight afterwards.

The app runs on a database of its own with its own engine (as in production), so commits are
real and the rows left behind can be counted.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.clock import council_today
from marketplace.models import Need
from tests.conftest import PASSWORD, POSTGRES_ENV
from tests.faults import (
    POSTGRES,
    ConnectionKiller,
    own_database,
    row_counts,
    short_sqlite_busy_timeout,
    sqlite_write_lock,
    verified_member,
)
from tests.web.conftest import csrf_token


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


def signed_in_client(app, email):
    engine = app.extensions["marketplace"].engine
    verified_member(engine, email)
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    response = client.post("/sign-in", data={"csrf_token": csrf_token(page), "email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def need_form(client, title):
    needed_by = council_today() + timedelta(days=40)
    page = client.get("/needs/new").get_data(as_text=True)
    return {
        "csrf_token": csrf_token(page),
        "title": title,
        "description": "Our lunch club serves forty people every Tuesday and the old urn has failed.",
        "category": "goods",
        "district": "Charnwood",
        "outcomes": ["wellbeing-and-opportunity"],
        "quantity": "1 urn",
        "needed_by": [str(needed_by.day), str(needed_by.month), str(needed_by.year)],
    }


def need_ids(engine, title):
    with engine.connect() as connection:
        return connection.scalars(select(Need.id).where(Need.title == title)).all()


def assert_unavailable_page(response):
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 30
    page = response.get_data(as_text=True)
    assert "<title>Sorry, the service is unavailable" in page
    assert '<h1 class="govuk-heading-l">Sorry, the service is unavailable</h1>' in page
    assert "Nothing you sent was saved. Try again in a few minutes." in page
    assert "Traceback" not in page and "sqlalchemy" not in page.lower()


@pytest.mark.skipif(not POSTGRES, reason="kills a PostgreSQL server process; set MARKETPLACE_TEST_DATABASE_URL")
def test_connection_killed_while_posting_a_need_shows_the_unavailable_page(fault_app, fault_database_url):
    engine = fault_app.extensions["marketplace"].engine
    client = signed_in_client(fault_app, "web-killed@example.org")
    title = "Tea urn for the lunch club in Anstey"
    form = need_form(client, title)
    before = row_counts(engine)
    killer = ConnectionKiller(engine, fault_database_url)
    try:
        killer.arm()
        response = client.post("/needs/new", data=form)
    finally:
        killer.close()

    assert killer.killed_pid is not None, "the connection was never killed"
    assert_unavailable_page(response)
    assert need_ids(engine, title) == []
    assert row_counts(engine) == before

    # Still signed in, and sending the form again works.
    again = client.post("/needs/new", data=need_form(client, title))
    (need_id,) = need_ids(engine, title)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/needs/{need_id}")


@pytest.mark.skipif(POSTGRES, reason="SQLite's write lock; PostgreSQL is covered by killing the connection")
def test_sqlite_locked_past_the_busy_timeout_shows_the_unavailable_page(fault_app, fault_database_url):
    engine = fault_app.extensions["marketplace"].engine
    client = signed_in_client(fault_app, "web-locked@example.org")
    title = "Tea urn for the lunch club in Quorn"
    form = need_form(client, title)
    short_sqlite_busy_timeout(engine, 200)
    before = row_counts(engine)
    with sqlite_write_lock(fault_database_url):
        response = client.post("/needs/new", data=form)
    assert_unavailable_page(response)
    assert row_counts(engine) == before

    again = client.post("/needs/new", data=need_form(client, title))
    (need_id,) = need_ids(engine, title)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/needs/{need_id}")


@pytest.mark.skipif(not POSTGRES, reason="refuses PostgreSQL connections; set MARKETPLACE_TEST_DATABASE_URL")
def test_database_refusing_connections_is_a_503_until_it_is_back(fault_app, fault_database_url):
    """The database stops accepting connections and drops the open ones, as during a restart or
    an outage: signed-in pages (whose user cannot even be loaded) and the API answer 503; once it
    accepts connections again, everything works without restarting the app."""
    from sqlalchemy import create_engine, text

    from marketplace.config import normalise_database_url

    client = signed_in_client(fault_app, "web-outage@example.org")
    database = fault_app.extensions["marketplace"].engine.url.database
    # Connected to the server's own database: one cannot lock out the database one is in.
    admin = create_engine(normalise_database_url(os.environ[POSTGRES_ENV]), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            )
        assert_unavailable_page(client.get("/needs"))
        assert_unavailable_page(client.get("/account"))
        api = client.get("/api/v1/needs")
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true'))
        admin.dispose()

    assert client.get("/needs").status_code == 200
    account = client.get("/account")
    assert account.status_code == 200 and "web-outage@example.org" in account.get_data(as_text=True)
