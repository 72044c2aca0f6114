"""Two officers reviewing the same delivery at the same moment: one wins, the other is told.

Real concurrent transactions on separate connections (threads), committed to a database of
the test's own, so the row lock (PostgreSQL) or the writer lock (SQLite) is what is proved.
"""

from __future__ import annotations

import threading

from marketplace.db import make_engine, make_session_factory
from marketplace.models import Pledge, User
from marketplace.services import accounts, needs, organisations, pledges
from marketplace.services.errors import InvalidTransition
from tests.conftest import PASSWORD, need_fields
from tests.faults import own_database


def test_of_two_officers_reviewing_at_once_one_wins_and_the_other_is_told(tmp_path, today):
    with own_database(tmp_path) as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:

            def person(email: str, role: str, organisation: str) -> User:
                return accounts.create_user(
                    session, email=email, role=role, organisation_name=organisation, password=PASSWORD
                )

            first = person("first-officer@example.gov.uk", "officer", "Review Council")
            second = person("second-officer@example.gov.uk", "officer", "Review Council")
            supplier = person("review-supplier@example.com", "supplier", "Review Supplier Ltd")
            group = person("review-group@example.org", "community", "Review Group")
            for user in (supplier, group):
                organisations.verify_organisation(session, first, user.organisation_id)
            need = needs.post_need(session, group, need_fields(category="volunteering"), today)
            made = pledges.propose_pledge(
                session, supplier, {"need_id": need.id, "measure": "volunteering-hours", "quantity": 4}
            )
            pledges.accept_pledge(session, group, made.id)
            pledges.approve_pledge(session, first, made.id, "2099-01-31")
            pledges.deliver_pledge(session, supplier, made.id, "Four hours on Saturday", None, True)
            session.commit()
            pledge_id, officer_ids = made.id, (first.id, second.id)

        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def review(officer_id: int, action: str) -> None:
            barrier.wait()
            with factory() as session:
                officer = session.get(User, officer_id)
                try:
                    if action == "accept":
                        pledges.accept_evidence(session, officer, pledge_id)
                    else:
                        pledges.request_evidence(session, officer, pledge_id, "Add the sign-in sheet")
                    session.commit()
                    outcomes[action] = "done"
                except InvalidTransition as error:
                    session.rollback()
                    outcomes[action] = error.message

        threads = [
            threading.Thread(target=review, args=(officer_ids[0], "accept")),
            threading.Thread(target=review, args=(officer_ids[1], "request")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        assert sorted(outcomes) == ["accept", "request"]
        winners = [action for action, outcome in outcomes.items() if outcome == "done"]
        assert len(winners) == 1, outcomes
        loser = "request" if winners == ["accept"] else "accept"
        assert "already" in outcomes[loser]  # told what the other officer did
        with factory() as session:
            review_state = session.get(Pledge, pledge_id).evidence_review
        assert review_state == ("accepted" if winners == ["accept"] else "more-needed")
        engine.dispose()
