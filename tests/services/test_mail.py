"""E-mail delivery against a real SMTP server (aiosmtpd on 127.0.0.1): sent after commit,
kept and retried when the server is down, written to the log when none is configured."""

from __future__ import annotations

import email
import logging
import os
import socket
import time
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from marketplace.db import make_engine, utcnow
from marketplace.logging_setup import JsonFormatter
from marketplace.mail import (
    CLAIM_LEASE,
    MailConfigError,
    MailSender,
    SmtpSettings,
    _claim,
    parse_smtp_url,
    retry_delay,
    send_due,
)
from marketplace.models import Notification, Pledge
from marketplace.request_scope import commit, db_session
from marketplace.services import pledges
from marketplace.services.notifications import queue_email

SECRET = "s3cret-Pa55"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping what it receives; refuses recipients listed in ``refuse``."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """A real SMTP server on a fixed port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(config, session_factory, smtp_server):
    from marketplace.app import create_app

    return create_app(config.with_overrides(smtp_url=smtp_server.url), session_factory=session_factory)


@pytest.fixture
def pledge_setup(session, make_user, make_need, make_offer):
    """A group with two members and a need; a supplier with an offer."""
    member = make_user("community", organisation="Syston Carers Group")
    other_member = make_user("community", organisation="Syston Carers Group")
    need = make_need(by=member, title="Room for our carers' group in Syston")
    supplier = make_user("supplier", organisation="Acme Facilities Ltd")
    offer = make_offer(by=supplier)
    session.commit()
    return member, other_member, need, supplier, offer


def propose_in_request(app, supplier, need, offer):
    """Propose a pledge the way a request does: services, then the request's one commit."""
    with app.test_request_context("/"):
        request_session = db_session()
        actor = request_session.get(type(supplier), supplier.id)
        pledge = pledges.propose_pledge(
            request_session, actor, {"need_id": need.id, "offer_id": offer.id, "quantity": 50}
        )
        commit()
        return pledge.id


def notifications_to(session, address):
    session.expire_all()
    return list(session.scalars(select(Notification).where(Notification.to_email == address)))


def test_a_pledge_reaches_every_group_member_through_smtp(session, mail_app, smtp_server, pledge_setup, config):
    member, other_member, need, _supplier, offer = pledge_setup
    pledge_id = propose_in_request(mail_app, pledge_setup[3], need, offer)

    for person in (member, other_member):
        (message,) = smtp_server.inbox.to(person.email)
        assert message["Subject"] == "New pledge for “Room for our carers' group in Syston”"
        assert message["From"] == config.mail_sender
        assert message["Auto-Submitted"] == "auto-generated"
        body = message.get_content()
        # Named as people write it, what happens next, and a link straight to the pledge.
        assert "Acme Facilities Ltd has pledged £50 of market rent" in body
        assert "What happens next: accept or decline it." in body
        assert f"http://localhost/pledges/{pledge_id}\r\n" in body
        (row,) = notifications_to(session, person.email)
        assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    assert all(mail_from == config.mail_sender for mail_from, _ in smtp_server.inbox.envelopes)


def test_smtp_down_keeps_the_change_and_retries_once_the_server_is_back(
    session, session_factory, config, smtp_server, pledge_setup
):
    from marketplace.app import create_app

    member, other_member, need, supplier, offer = pledge_setup
    smtp_server.stop()
    app = create_app(config.with_overrides(smtp_url=smtp_server.url), session_factory=session_factory)
    before = utcnow()
    pledge_id = propose_in_request(app, supplier, need, offer)

    # The change committed although nothing could be sent.
    assert session.get(Pledge, pledge_id) is not None
    rows = notifications_to(session, member.email) + notifications_to(session, other_member.email)
    assert len(rows) == 2
    for row in rows:
        assert row.sent_at is None
        assert row.attempts == 1
        assert "ConnectionRefusedError" in row.last_error
        assert before + retry_delay(1) <= row.next_attempt_at <= utcnow() + retry_delay(1)

    smtp_server.start()
    sender = app.extensions["marketplace"].mail
    # Not yet due: the back-off is respected.
    assert sender.drain(now=utcnow()).sent == 0
    assert smtp_server.inbox.messages == []

    later = max(row.next_attempt_at for row in rows) + timedelta(seconds=1)
    report = sender.drain(now=later)
    assert (report.sent, report.failed) == (2, 0)
    assert sender.drain(now=later + timedelta(hours=1)).sent == 0
    assert len(smtp_server.inbox.to(member.email)) == 1
    assert len(smtp_server.inbox.to(other_member.email)) == 1
    for row in notifications_to(session, member.email):
        assert row.sent_at == later and row.attempts == 2 and row.last_error is None


def test_repeated_failures_back_off_further(session, session_factory, config):
    queue_email(session, ["someone@example.org"], "Hello", "Body")
    session.commit()
    down = config.with_overrides(smtp_url=f"smtp://127.0.0.1:{free_port()}")
    now = utcnow()
    waits = []
    for _ in range(7):
        assert send_due(session_factory, down, now=now).failed == 1
        (row,) = notifications_to(session, "someone@example.org")
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    minutes = [wait / timedelta(minutes=1) for wait in waits]
    assert minutes == [1, 5, 15, 60, 180, 360, 360]
    assert row.attempts == 7 and row.sent_at is None


def test_a_refused_recipient_does_not_hold_up_the_others(session, session_factory, config, smtp_server):
    smtp_server.inbox.refuse = {"gone@example.org"}
    queue_email(session, ["first@example.org", "gone@example.org", "last@example.org"], "Hello", "Body")
    session.commit()
    report = send_due(session_factory, config.with_overrides(smtp_url=smtp_server.url))
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(m["To"] for m in smtp_server.inbox.messages) == ["first@example.org", "last@example.org"]
    (refused,) = notifications_to(session, "gone@example.org")
    assert refused.sent_at is None and "550" in refused.last_error


def test_the_password_never_reaches_the_log_or_the_row(session, session_factory, config, caplog):
    caplog.set_level(logging.DEBUG)
    queue_email(session, ["someone@example.org"], "Hello", "Body")
    session.commit()
    url = f"smtp://mailer:{SECRET}@127.0.0.1:{free_port()}"
    sender = MailSender(session_factory, config.with_overrides(smtp_url=url), background=False)
    sender.start()
    assert sender.drain().failed == 1
    (row,) = notifications_to(session, "someone@example.org")
    assert row.last_error and SECRET not in row.last_error
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert SECRET not in logged
    assert "mailer@127.0.0.1" in logged  # the server is named, without the password


def test_without_an_smtp_url_emails_are_written_to_the_log(session, app, config, pledge_setup, caplog):
    assert config.smtp_url is None
    member, _other, need, supplier, offer = pledge_setup
    caplog.set_level(logging.INFO, logger="marketplace.mail")
    propose_in_request(app, supplier, need, offer)

    (record,) = [r for r in caplog.records if getattr(r, "mail_to", None) == member.email]
    assert record.mail_from == config.mail_sender
    assert record.mail_subject == "New pledge for “Room for our carers' group in Syston”"
    assert "Acme Facilities Ltd has pledged £50 of market rent" in record.mail_body
    (row,) = notifications_to(session, member.email)
    assert row.sent_at is not None and row.attempts == 1


def test_a_claimed_email_is_not_claimed_again_until_its_lease_runs_out(session, session_factory):
    queue_email(session, ["someone@example.org"], "Hello", "Body")
    session.commit()
    now = utcnow()
    (first,) = _claim(session_factory, now, 10)
    assert _claim(session_factory, now, 10) == []
    assert _claim(session_factory, now + CLAIM_LEASE - timedelta(seconds=1), 10) == []
    # A drainer that died mid-send: after the lease the e-mail is due again.
    (again,) = _claim(session_factory, now + CLAIM_LEASE, 10)
    assert again.id == first.id and again.attempts == 2


def test_the_background_thread_sends_soon_after_notify(session, session_factory, config, smtp_server):
    queue_email(session, ["threaded@example.org"], "Hello", "Body")
    session.commit()
    sender = MailSender(session_factory, config.with_overrides(smtp_url=smtp_server.url), background=True)
    sender.start()
    try:
        sender.notify()
        deadline = time.monotonic() + 10
        while not smtp_server.inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sender.stop()
    assert [m["To"] for m in smtp_server.inbox.messages] == ["threaded@example.org"]


@pytest.mark.skipif(not os.environ.get("MARKETPLACE_TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_postgres_drainers_skip_rows_another_drainer_is_claiming(database_url):
    """Two real connections: rows locked by one claim are skipped by the other, not sent twice."""
    from sqlalchemy import delete
    from sqlalchemy.orm import sessionmaker

    engine = make_engine(database_url)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    marker = f"skip-locked-{time.time_ns()}@example.org"
    try:
        with factory() as setup:
            queue_email(setup, [marker], "Hello", "Body")
            setup.commit()
        now = utcnow()
        with factory() as holder:
            locked = holder.scalars(select(Notification).where(Notification.to_email == marker).with_for_update()).all()
            assert len(locked) == 1
            # Another drainer meanwhile: it does not wait for the lock and does not get the row.
            assert [c for c in _claim(factory, now, 100) if c.to_email == marker] == []
            holder.rollback()
        assert [c.to_email for c in _claim(factory, now, 100) if c.to_email == marker] == [marker]
    finally:
        with factory() as cleanup:
            cleanup.execute(delete(Notification).where(Notification.to_email == marker))
            cleanup.commit()
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpSettings("mail.example.org", 25)),
        ("smtp://mail.example.org:2525", SmtpSettings("mail.example.org", 2525)),
        ("smtps://mail.example.org", SmtpSettings("mail.example.org", 465, tls="implicit")),
        ("smtp+starttls://mail.example.org", SmtpSettings("mail.example.org", 587, tls="starttls")),
        ("smtp://mail.example.org?starttls=1", SmtpSettings("mail.example.org", 587, tls="starttls")),
        ("smtp://mail.example.org:25?starttls=true", SmtpSettings("mail.example.org", 25, tls="starttls")),
        (
            "smtp+starttls://apikey:p%40ss%3Aw%2Ford@smtp.example.org:587?timeout=5",
            SmtpSettings("smtp.example.org", 587, tls="starttls", username="apikey", password="p@ss:w/ord", timeout=5),
        ),
        ("SMTP://user@[::1]:26", SmtpSettings("::1", 26, username="user")),
    ],
)
def test_smtp_urls_are_parsed(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"http://user:{SECRET}@mail.example.org", "must start with smtp://"),
        (f"smtp://user:{SECRET}@", "no host"),
        (f"smtp://user:{SECRET}@mail.example.org:notaport", "not a valid URL"),
        (f"smtp://user:{SECRET}@mail.example.org:99999", "not a valid URL"),
        (f"smtp://user:{SECRET}@mail.example.org?tls=1", "unknown options: tls"),
        (f"smtp://user:{SECRET}@mail.example.org?starttls=maybe", "starttls must be 1 or 0"),
        (f"smtps://user:{SECRET}@mail.example.org?starttls=1", "already uses TLS"),
        (f"smtp://user:{SECRET}@mail.example.org?timeout=0", "timeout"),
        (f"smtp://user:{SECRET}@mail.example.org/path", "path"),
    ],
)
def test_bad_smtp_urls_are_refused_without_repeating_the_password(url, message):
    with pytest.raises(MailConfigError, match=message) as caught:
        parse_smtp_url(url)
    assert SECRET not in str(caught.value)


def test_settings_never_show_the_password():
    settings = parse_smtp_url(f"smtps://mailer:{SECRET}@mail.example.org")
    assert SECRET not in repr(settings)
    assert SECRET not in settings.describe()


def test_a_bad_smtp_url_stops_the_app_at_start_up(config, session_factory):
    from marketplace.app import create_app

    with pytest.raises(MailConfigError):
        create_app(config.with_overrides(smtp_url="smtp//oops"), session_factory=session_factory)


def test_nothing_is_sent_for_a_rolled_back_change(session, session_factory, config, smtp_server):
    queue_email(session, ["never@example.org"], "Hello", "Body")
    session.rollback()
    send_due(session_factory, config.with_overrides(smtp_url=smtp_server.url))
    assert smtp_server.inbox.messages == []
    assert (
        session.scalar(
            select(func.count()).select_from(Notification).where(Notification.to_email == "never@example.org")
        )
        == 0
    )
