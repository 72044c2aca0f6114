"""A list's total is counted once per state of the database and follows every change.

The need and offer lists keep their totals per connection until something is written
(``services.paging``); these tests change what a list shows in each way the database can
and check that the total shown changes with it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from marketplace.db import database_unavailable, make_engine
from marketplace.models import Organisation, OrganisationKind, Verification
from marketplace.services import needs, offers, organisations
from marketplace.services.listings import Filters
from tests.conftest import POSTGRES_ENV, _create_postgres_database, migrated_engine


def total(session: Session, viewer=None, **filters: str) -> int:
    return needs.list_needs(session, viewer, Filters(**filters), 1, 5).total


def test_the_total_follows_the_sessions_own_changes(session, make_user, make_need):
    member = make_user("community")
    before, before_member = total(session), total(session, member)
    need = make_need(by=member)
    assert total(session) == before + 1 and total(session, member) == before_member + 1
    assert total(session, category="premises") >= 1
    needs.withdraw_need(session, member, need.id)
    assert total(session) == before and total(session, member) == before_member
    # The group still sees its withdrawn need among its own.
    assert need.id in {n.id for n in needs.list_needs(session, member, Filters(status="withdrawn"), 1, 100).items}


def test_the_total_follows_a_rolled_back_savepoint(session, make_user, make_offer):
    supplier = make_user("supplier")
    before = offers.list_offers(session, None, Filters(), 1, 5).total
    savepoint = session.begin_nested()
    make_offer(by=supplier)
    assert offers.list_offers(session, None, Filters(), 1, 5).total == before + 1
    savepoint.rollback()
    assert offers.list_offers(session, None, Filters(), 1, 5).total == before


def test_the_total_follows_verification_of_an_organisation(session, make_user, make_need, officer):
    group = make_user("community", verified=False)
    make_need(by=group)
    before = total(session)
    assert total(session, group) == total(session, make_user("community")) + 1
    organisations.verify_organisation(session, officer, group.organisation_id)
    assert total(session) == before + 1


@pytest.fixture
def own_database(tmp_path) -> Iterator[Engine]:
    """A database of this test's own, so that another connection may commit to it."""
    base = os.environ.get(POSTGRES_ENV)
    url, drop = _create_postgres_database(base) if base else (f"sqlite:///{tmp_path / 'totals.sqlite3'}", None)
    engine = migrated_engine(url)
    yield engine
    engine.dispose()
    if drop is not None:
        drop()


def test_the_total_follows_what_another_connection_commits(own_database):
    # Another app server (or worker) is another engine: its commits reach this one's
    # connections only through the database.
    other = make_engine(str(own_database.url.render_as_string(hide_password=False)))
    try:
        with Session(own_database) as reader:
            assert total(reader) == 0
        with Session(other) as writer:
            group = Organisation(
                name="Another server's group", kind=OrganisationKind.COMMUNITY, verification=Verification.VERIFIED
            )
            writer.add(group)
            writer.flush()
            writer.add(
                needs.Need(
                    title="A need posted elsewhere",
                    description="Posted through another app server, committed there.",
                    category_code="premises",
                    district_code="Charnwood",
                    quantity="",
                    assisted=False,
                    organisation_id=group.id,
                )
            )
            group_id = group.id
            writer.commit()
        for _ in range(3):  # whichever pooled connection answers
            with Session(own_database) as reader:
                assert total(reader) == 1
        with Session(other) as writer:
            writer.get(Organisation, group_id).verification = Verification.PENDING
            writer.commit()
        for _ in range(3):
            with Session(own_database) as reader:
                assert total(reader) == 0
    finally:
        other.dispose()


def test_a_connection_lost_before_a_kept_total_is_asked_for_says_the_database_is_unavailable(own_database):
    # The state of the database is asked on the driver's own cursor: its failure must read as
    # any statement's does (a page answers 503 and the pool replaces the connection), not as a bug.
    with Session(own_database) as reader:
        assert total(reader) == 0
        reader.connection().connection.dbapi_connection.close()
        with pytest.raises(DBAPIError) as lost:
            total(reader)
    assert database_unavailable(lost.value)
