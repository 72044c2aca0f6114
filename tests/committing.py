"""Fixtures for tests that commit for real, in a database of their own (SQLite or PostgreSQL
as the suite runs): what another connection, worker or process does must be seen as it is.

A plugin of the suite (``tests/conftest.py``): a test asks for ``own_database_url``,
``own_factory`` or ``another_worker_sessions`` by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from marketplace.db import make_engine, make_session_factory
from marketplace.models import User
from marketplace.services import accounts, organisations
from tests.conftest import PASSWORD, _officer
from tests.faults import own_database


@pytest.fixture
def own_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, migrated and seeded, where commits are real."""
    with own_database(tmp_path) as url:
        yield url


@pytest.fixture
def own_factory(own_database_url: str) -> Iterator[sessionmaker]:
    """Sessions on the test's own database."""
    engine = make_engine(own_database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def another_worker_sessions(own_database_url: str) -> Iterator[sessionmaker]:
    """Sessions on a pool of their own: what another worker's requests look like to the database."""
    engine = make_engine(own_database_url)
    yield make_session_factory(engine)
    engine.dispose()


def verified_user(session: Session, role: str, n: int) -> User:
    """A new user of this role in an organisation of its own, verified by the council."""
    user = accounts.create_user(
        session,
        email=f"{role}{n}@example.org",
        role=role,
        organisation_name=f"{role.capitalize()} organisation {n}",
        password=PASSWORD,
        name=f"Test {role} {n}",
    )
    if not user.organisation.verified:
        organisations.verify_organisation(session, _officer(session), user.organisation_id)
    return user
