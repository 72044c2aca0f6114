"""The navigation's count of waiting tasks is what the task list holds, at most fifty of a kind."""

from datetime import timedelta

from sqlalchemy import update

from marketplace.db import utcnow
from marketplace.formatting import amount
from marketplace.models import Pledge
from marketplace.services import pledges
from marketplace.services.tasks import LIMIT, STUCK_AFTER, tasks_for, waiting_count


def test_the_count_is_what_the_list_holds_for_each_role(session, make_user, make_need, officer):
    for _ in range(LIMIT + 1):
        make_user("community", verified=False)  # more organisations to verify than a kind lists
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group)
    fresh = pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "quantity": 1, "measure": "premises-provided"}
    )
    stuck = pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "quantity": 2, "measure": "premises-provided"}
    )
    session.flush()
    long_ago = utcnow() - STUCK_AFTER - timedelta(days=1)
    session.execute(update(Pledge).where(Pledge.id == stuck.id).values(updated_at=long_ago))
    session.expire_all()

    for user in (officer, group, supplier):
        assert waiting_count(session, user) == tasks_for(session, user).total
    assert tasks_for(session, officer).counts() == {"organisation_to_verify": LIMIT, "stuck_pledge": 1}
    assert tasks_for(session, group).counts() == {"pledge_to_answer": 2}
    assert waiting_count(session, supplier) == 0 and fresh.id != stuck.id
    chase = next(t for t in tasks_for(session, officer).items if t.kind == "stuck_pledge")
    assert chase.url == f"/pledges/{stuck.id}" and chase.since == long_ago
    assert chase.title == (
        f"Chase {amount(stuck.quantity, stuck.measure.unit)} from {supplier.organisation.name} for “{need.title}”: proposed and unchanged "
        f"for over {STUCK_AFTER.days} days"
    )
    answer = [t for t in tasks_for(session, group).items if t.url == f"/pledges/{fresh.id}"]
    assert [t.title for t in answer] == [
        f"Accept or decline {amount(fresh.quantity, fresh.measure.unit)} from {supplier.organisation.name} for “{need.title}”"
    ]
