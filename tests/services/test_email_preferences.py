"""Each person chooses which e-mails about their work they get: each event, a daily summary, or essential only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.models import Notification
from marketplace.services import pledges
from marketplace.services.errors import ValidationFailed
from marketplace.services.notifications import send_daily_summaries, set_email_preference


def queued(session, address):
    # Only the news of pledges (not the essential e-mail saying the group was verified).
    query = select(Notification).where(Notification.to_email == address, Notification.subject.not_like("The council%"))
    return list(session.scalars(query.order_by(Notification.id)))


def test_each_daily_and_essential(session, make_user, make_need, make_offer):
    each = make_user("community", organisation="Quorn Scouts")
    daily = make_user("community", organisation="Quorn Scouts")
    essential = make_user("community", organisation="Quorn Scouts")
    set_email_preference(session, daily, "daily")
    set_email_preference(session, essential, "essential")
    with pytest.raises(ValidationFailed):
        set_email_preference(session, essential, "never")
    supplier = make_user("supplier")
    need = make_need(by=each, title="Tents for camp")
    for quantity in (2, 3):
        pledges.propose_pledge(
            session, supplier, {"need_id": need.id, "measure": "goods-donated", "quantity": quantity}
        )
    session.flush()

    assert [n.summary for n in queued(session, each.email)] == [False, False]
    assert queued(session, essential.email) == []
    held = queued(session, daily.email)
    assert [n.summary for n in held] == [True, True] and all(n.sent_at is None for n in held)

    assert send_daily_summaries(session) == 1
    (summary,) = [n for n in queued(session, daily.email) if not n.summary]
    assert summary.subject == "Your daily summary: 2 things happened on the marketplace"
    assert summary.body.count("New pledge for “Tents for camp”") == 2
    assert all(n.sent_at is not None for n in held)
    assert send_daily_summaries(session) == 0, "nothing is summarised twice"
