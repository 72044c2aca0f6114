"""The SMTP server failing for real, as the people involved notice it: the action they took
still succeeds, its e-mails wait with a retry time, and they arrive once the server is back.

``test_mail.py`` covers the sender itself against a stopped server; these go through a real
HTTP request, and through a server that hangs up in the middle of a batch.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.mail import retry_delay
from marketplace.models import Notification, Pledge
from marketplace.services import accounts
from marketplace.services.notifications import queue_email
from tests.services.test_mail import Inbox, SmtpServer, notifications_to


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_a_pledge_made_while_smtp_is_down_succeeds_and_is_mailed_once_it_is_back(
    session, session_factory, config, smtp_server, make_user, make_need, make_offer
):
    from marketplace.app import create_app

    member = make_user("community", organisation="Birstall Lunch Club")
    need = make_need(by=member, title="Tea urn for the Birstall lunch club", category="goods")
    supplier = make_user("supplier")
    offer = make_offer(by=supplier, category="goods", measure="goods-donated", capacity=10)
    _, token = accounts.create_token(session, supplier, "mail fault tests")
    headers = {"Authorization": f"Bearer {token}"}
    session.commit()
    app = create_app(config.with_overrides(smtp_url=smtp_server.url), session_factory=session_factory)
    client = app.test_client()

    smtp_server.stop()
    before = utcnow()
    response = client.post(
        "/api/v1/pledges", json={"need_id": need.id, "offer_id": offer.id, "quantity": 1}, headers=headers
    )

    # The supplier's pledge went through, whatever the mail server does.
    assert response.status_code == 201
    pledge_id = response.get_json()["id"]
    assert session.get(Pledge, pledge_id) is not None
    (row,) = notifications_to(session, member.email)
    assert row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert before + retry_delay(1) <= row.next_attempt_at <= utcnow() + retry_delay(1)

    smtp_server.start()
    sender = app.extensions["marketplace"].mail
    report = sender.drain(now=row.next_attempt_at + timedelta(seconds=1))
    assert report.sent == 1
    (message,) = smtp_server.inbox.to(member.email)
    assert "Tea urn for the Birstall lunch club" in message["Subject"]
    (row,) = notifications_to(session, member.email)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None


class HangUpAfterFirst(Inbox):
    """Accepts the first message, then drops the connection when the next one starts, without
    a word, as a server that crashes or restarts does."""

    hung_up = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if self.messages and not self.hung_up:
            self.hung_up = True
            server.transport.close()
            return "421 gone"  # written to a closed connection: the client never sees it
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


def test_a_server_hanging_up_mid_batch_keeps_the_rest_for_the_next_send(session, session_factory, config):
    from marketplace.mail import send_due

    server = SmtpServer()
    server.inbox = HangUpAfterFirst()
    server.start()
    try:
        for n in range(3):
            queue_email(session, [f"reader{n}@example.org"], f"Update {n}", "Body")
        session.commit()
        settings = config.with_overrides(smtp_url=server.url)
        now = utcnow()
        first = send_due(session_factory, settings, now=now)
        assert (first.sent, first.failed) == (1, 2)
        session.expire_all()
        waiting = list(session.scalars(select(Notification).where(Notification.sent_at.is_(None))))
        assert len(waiting) == 2
        assert all("lost the connection" in row.last_error for row in waiting)
        assert all(row.next_attempt_at == now + retry_delay(1) for row in waiting)

        second = send_due(session_factory, settings, now=now + retry_delay(1))
        assert (second.sent, second.failed) == (2, 0)
        assert sorted(m["Subject"] for m in server.inbox.messages) == ["Update 0", "Update 1", "Update 2"]
    finally:
        server.stop()
