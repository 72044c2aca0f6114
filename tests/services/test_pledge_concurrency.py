"""Two suppliers pledging the last of an offer at the same moment cannot both succeed.

This uses real concurrent transactions on separate connections (threads), committed to
the database, so it proves the row locks (PostgreSQL) or the writer lock (SQLite).
"""

import threading
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketplace.db import make_session_factory
from marketplace.models import (
    AuditEntry,
    ListingChange,
    Need,
    Notification,
    Offer,
    Organisation,
    Pledge,
    PledgeEvent,
    PledgeStatus,
    User,
)
from marketplace.services import accounts, needs, offers, organisations, pledges
from marketplace.services.errors import InvalidTransition
from tests.conftest import PASSWORD, need_fields, offer_fields


def test_the_last_hours_of_an_offer_go_to_one_pledge_only(engine, today):
    factory = make_session_factory(engine)
    with factory() as session:
        officer = accounts.create_user(
            session,
            email="race-officer@example.gov.uk",
            role="officer",
            organisation_name="Race Council",
            password=PASSWORD,
        )
        supplier = accounts.create_user(
            session,
            email="race-supplier@example.com",
            role="supplier",
            organisation_name="Race Supplier Ltd",
            password=PASSWORD,
        )
        groups = [
            accounts.create_user(
                session,
                email=f"race-group{i}@example.org",
                role="community",
                organisation_name=f"Race Group {i}",
                password=PASSWORD,
            )
            for i in range(2)
        ]
        for user in (supplier, *groups):
            organisations.verify_organisation(session, officer, user.organisation_id)
        offer = offers.post_offer(
            session,
            supplier,
            offer_fields(category="volunteering", measure="volunteering-hours", capacity=10, districts=["County-wide"]),
            today,
        )
        need_ids = [needs.post_need(session, g, need_fields(category="volunteering"), today).id for g in groups]
        session.commit()
        supplier_id, offer_id = supplier.id, offer.id
        org_ids = [supplier.organisation_id, officer.organisation_id, *(g.organisation_id for g in groups)]
        user_ids = [officer.id, supplier.id, *(g.id for g in groups)]

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def pledge_all(need_id: int) -> None:
        # Both start together; on SQLite the first transaction's writer lock makes the second wait.
        barrier.wait()
        with factory() as session:
            actor = session.get(User, supplier_id)
            try:
                pledges.propose_pledge(session, actor, {"need_id": need_id, "offer_id": offer_id, "quantity": 10})
                session.commit()
                outcomes.append("pledged")
            except InvalidTransition:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=pledge_all, args=(need_id,)) for need_id in need_ids]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(outcomes) == ["pledged", "refused"]
        with Session(engine) as session:
            held = session.scalars(
                select(Pledge.quantity).where(Pledge.offer_id == offer_id, Pledge.status == PledgeStatus.PROPOSED)
            ).all()
            assert sum(held, Decimal(0)) == Decimal(10)
    finally:
        with Session(engine) as session:
            pledge_ids = session.scalars(select(Pledge.id).where(Pledge.offer_id == offer_id)).all()
            session.execute(delete(PledgeEvent).where(PledgeEvent.pledge_id.in_(pledge_ids)))
            session.execute(delete(Pledge).where(Pledge.id.in_(pledge_ids)))
            session.execute(delete(Notification))
            session.execute(delete(AuditEntry))
            session.execute(delete(ListingChange))
            session.execute(delete(Need).where(Need.id.in_(need_ids)))
            session.execute(delete(Offer).where(Offer.id == offer_id))
            session.execute(delete(User).where(User.id.in_(user_ids)))
            session.execute(delete(Organisation).where(Organisation.id.in_(org_ids)))
            session.commit()
