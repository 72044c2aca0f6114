"""Shared fixtures: a real database (SQLite file, or PostgreSQL when
MARKETPLACE_TEST_DATABASE_URL is set), each test inside a rolled-back transaction, the app
bound to that transaction, and factories that create data through the services."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from marketplace.clock import council_today
from marketplace.config import Config, normalise_database_url
from marketplace.db import make_engine
from marketplace.logging_setup import JsonFormatter
from marketplace.models import Need, Notification, Offer, User
from marketplace.schema import upgrade
from marketplace.services import accounts, needs, offers, organisations
from marketplace.services.reference import seed_reference_data

PASSWORD = "correct horse battery"

# Databases of a test's own, for tests that must commit for real.
pytest_plugins = ("tests.committing",)

# Real argon2id, with cheap parameters so hundreds of test accounts take seconds, not minutes.
accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
POSTGRES_ENV = "MARKETPLACE_TEST_DATABASE_URL"


class _StrictJsonHandler(logging.Handler):
    """Formats every record as production does and lets any failure raise in the test.

    A production handler swallows its own errors (``Handler.handleError``); here a record the
    JSON formatter cannot write fails the test that logged it.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.formatter = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        json.loads(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def _strict_logging() -> Iterator[None]:
    """Every test logs at INFO through the JSON formatter, as the app does in production."""
    handler = _StrictJsonHandler()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield
    root.removeHandler(handler)
    root.setLevel(level)


def _create_postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """Create a fresh PostgreSQL database for this run; fail loudly if the server is unreachable."""
    url = make_url(normalise_database_url(base_url))
    name = f"svm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        pytest.exit(f"PostgreSQL at {url.render_as_string(hide_password=True)} is unreachable: {error}", returncode=3)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A new, empty database for this test run."""
    base = os.environ.get(POSTGRES_ENV)
    if base:
        url, drop = _create_postgres_database(base)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def migrated_engine(url: str) -> Engine:
    """An engine on the database at ``url``, migrated and holding the council's reference data."""
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as session:
        seed_reference_data(session)
        session.commit()
    return engine


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The migrated database with the council's reference data."""
    engine = migrated_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator:
    """One connection whose outer transaction is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def session_factory(connection) -> sessionmaker:
    """Sessions that commit to SAVEPOINTs inside the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker) -> Iterator[Session]:
    """The session tests use to arrange and check data."""
    with session_factory() as session:
        yield session


@pytest.fixture
def today() -> date:
    """The council's today."""
    return council_today()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    """Settings for a test app."""
    return Config(
        database_url=database_url,
        secret_key="test-secret-key",
        instance_dir=tmp_path,
        index_dir=tmp_path / "index",
        check_schema=False,
        testing=True,
        # As in production: INFO with the JSON formatter, so a log call that would raise
        # there (an ``extra`` key the logging module reserves, say) raises in tests too.
        log_level="INFO",
    )


@pytest.fixture
def app(config: Config, session_factory: sessionmaker):
    """The app, its requests sharing the test's transaction."""
    from marketplace.app import create_app

    return create_app(config, session_factory=session_factory)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    """Create a user (and organisation) through the service; verified unless told otherwise."""
    counter = iter(range(1, 10_000))

    def make(role: str = "community", *, organisation: str | None = None, verified: bool = True) -> User:
        n = next(counter)
        organisation = organisation or f"{role.capitalize()} organisation {n}"
        user = accounts.create_user(
            session,
            email=f"{role}{n}-{uuid.uuid4().hex[:6]}@example.org",
            role=role,
            organisation_name=organisation,
            password=PASSWORD,
            name=f"Test {role} {n}",
        )
        if verified and not user.organisation.verified:
            officer = _officer(session)
            organisations.verify_organisation(session, officer, user.organisation_id)
            # Arranging a user who was verified long ago: the "verified" e-mail is not what tests count.
            session.execute(delete(Notification).where(Notification.to_email == user.email))
        session.flush()
        return user

    return make


def _officer(session: Session) -> User:
    from sqlalchemy import select

    existing = session.scalar(select(User).where(User.email == "fixture-officer@example.gov.uk"))
    return existing or accounts.create_user(
        session,
        email="fixture-officer@example.gov.uk",
        role="officer",
        organisation_name="Test County Council",
        password=PASSWORD,
    )


def need_fields(**overrides: object) -> dict[str, object]:
    """Valid need fields, with overrides."""
    fields: dict[str, object] = {
        "title": "Room for our carers' group",
        "description": "We meet monthly and need a warm, accessible room with a kettle for 15 people.",
        "category": "premises",
        "district": "Charnwood",
        "outcomes": ["wellbeing-and-opportunity"],
        "quantity": "one evening a month",
        "needed_by": (council_today() + timedelta(days=60)).isoformat(),
    }
    fields.update(overrides)
    return fields


def offer_fields(**overrides: object) -> dict[str, object]:
    """Valid offer fields, with overrides."""
    fields: dict[str, object] = {
        "title": "Meeting room in Loughborough",
        "description": "Our ground-floor meeting room seats 20, has step-free access and a kitchenette.",
        "category": "premises",
        "districts": ["Charnwood"],
        "outcomes": ["great-communities"],
        "measure": "premises-provided",
        "capacity": 1200,
    }
    fields.update(overrides)
    return fields


@pytest.fixture
def make_need(session: Session, make_user: Callable[..., User], today: date) -> Callable[..., Need]:
    """Post a need through the service (by a new verified group unless ``by`` is given)."""

    def make(by: User | None = None, **overrides: object) -> Need:
        return needs.post_need(session, by or make_user("community"), need_fields(**overrides), today)

    return make


@pytest.fixture
def make_offer(session: Session, make_user: Callable[..., User], today: date) -> Callable[..., Offer]:
    """Post an offer through the service (by a new verified supplier unless ``by`` is given)."""

    def make(by: User | None = None, **overrides: object) -> Offer:
        return offers.post_offer(session, by or make_user("supplier"), offer_fields(**overrides), today)

    return make


@pytest.fixture
def officer(session: Session) -> User:
    """A council officer."""
    return _officer(session)
