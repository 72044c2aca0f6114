"""Delivering the e-mail outbox: SMTP when configured, otherwise the log.

Services queue e-mails (``marketplace.services.notifications.queue_email``) in the same
transaction as the change that causes them; this module sends them after commit. A send
happens outside any database transaction, so a slow or absent mail server never holds a
lock or loses a change: the row is *claimed* first (its ``next_attempt_at`` pushed a lease
into the future, in a short transaction that skips rows another drainer has locked), then
sent, then marked sent, or kept with its error and a backed-off retry time.

Several processes may drain at once (every app server's thread, and cron's
``marketplace send-notifications``): a claimed row is not due for anyone else until its
lease runs out, so in normal operation each e-mail is sent once. Only a crash between the
SMTP server accepting a message and the row being marked sent can send it twice, after
the lease; that is preferred to ever losing one.

In the app a background thread drains soon after each commit that queued mail and every
minute; with ``config.testing`` the drain runs inline after commit, so tests are
deterministic.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from marketplace.config import Config
from marketplace.db import utcnow
from marketplace.models import Notification

log = logging.getLogger(__name__)

DRAIN_BATCH = 50
# How long a claimed row stays reserved for the drainer that claimed it; a drainer that
# dies mid-send leaves it due again after this.
CLAIM_LEASE = timedelta(minutes=10)
# Waits before the 1st, 2nd, 3rd... retry of a failed e-mail; the last one repeats.
RETRY_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=60),
    timedelta(hours=3),
    timedelta(hours=6),
)
PERIODIC_INTERVAL_SECONDS = 60.0
SMTP_TIMEOUT_SECONDS = 20.0
ERROR_MAX = 1000

_DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


class MailConfigError(ValueError):
    """``MARKETPLACE_SMTP_URL`` cannot be understood (the message never contains the password)."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP server, parsed from ``MARKETPLACE_SMTP_URL``."""

    host: str
    port: int
    # "implicit": TLS from the first byte (smtps://); "starttls": upgrade after EHLO; "none".
    tls: str = "none"
    username: str | None = None
    # Kept out of repr() so a settings object can never print the password.
    password: str | None = field(default=None, repr=False)
    timeout: float = SMTP_TIMEOUT_SECONDS

    def describe(self) -> str:
        """The server for logs and messages, without the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{user}{self.host}:{self.port} (tls: {self.tls})"


def parse_smtp_url(url: str) -> SmtpSettings:
    """Parse ``smtp://[user:password@]host[:port][?starttls=1&timeout=20]``.

    ``smtps://`` uses implicit TLS (default port 465); ``smtp+starttls://`` or
    ``smtp://...?starttls=1`` upgrades a plain connection with STARTTLS (default port 587);
    plain ``smtp://`` defaults to port 25. The user name and password are percent-decoded, so a
    password containing ``@``, ``:`` or ``/`` is written ``%40``, ``%3A``, ``%2F``.

    Args:
        url: the value of ``MARKETPLACE_SMTP_URL``.

    Returns:
        The parsed settings.

    Raises:
        MailConfigError: for an unknown scheme, a missing host, a bad port or bad options.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        # urlsplit's messages may quote the URL; never repeat it (it may hold the password).
        raise MailConfigError("MARKETPLACE_SMTP_URL is not a valid URL (check the port)") from error
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise MailConfigError(
            f"MARKETPLACE_SMTP_URL must start with smtp://, smtps:// or smtp+starttls:// (not {scheme or 'nothing'}://)"
        )
    if not parts.hostname:
        raise MailConfigError("MARKETPLACE_SMTP_URL has no host name, e.g. smtp://mail.example.org:587")
    if parts.path not in ("", "/"):
        raise MailConfigError("MARKETPLACE_SMTP_URL must not have a path after the host and port")
    options = {key.lower(): values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - {"starttls", "timeout"}
    if unknown:
        raise MailConfigError(f"MARKETPLACE_SMTP_URL has unknown options: {', '.join(sorted(unknown))}")
    tls = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "implicit"}[scheme]
    starttls = options.get("starttls", "").lower()
    if starttls not in _TRUE + _FALSE:
        raise MailConfigError("MARKETPLACE_SMTP_URL: starttls must be 1 or 0")
    if starttls in _TRUE:
        if scheme == "smtps":
            raise MailConfigError("MARKETPLACE_SMTP_URL: smtps:// already uses TLS; drop ?starttls=1")
        tls = "starttls"
    timeout = SMTP_TIMEOUT_SECONDS
    if "timeout" in options:
        try:
            timeout = float(options["timeout"])
        except ValueError:
            timeout = 0.0
        if not 0 < timeout <= 600:
            raise MailConfigError("MARKETPLACE_SMTP_URL: timeout must be a number of seconds from 1 to 600")
    default_port = _DEFAULT_PORTS["smtp+starttls"] if tls == "starttls" else _DEFAULT_PORTS[scheme]
    return SmtpSettings(
        host=parts.hostname,
        port=port or default_port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
    )


class Transport(Protocol):
    """Something that delivers messages, one connection per drain."""

    def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise."""


class MailServerUnavailable(Exception):
    """The SMTP server could not be reached or refused to let us in: nothing can be sent now."""


class LogTransport:
    """No SMTP server configured: write each e-mail to the log (the local and demo default)."""

    def send(self, message: EmailMessage) -> None:
        """Log the e-mail as one structured record, with every link in it withheld.

        A confirmation or reset link is a key to the account: whoever reads the log could use
        it. The log says that a link was sent, never the link.
        """
        body, links = _LINK.subn(LINK_WITHHELD, message.get_content())
        log.info(
            "e-mail written to the log (no MARKETPLACE_SMTP_URL set)",
            extra={
                "mail_to": message["To"],
                "mail_from": message["From"],
                "mail_subject": message["Subject"],
                "mail_body": body,
                "mail_links_withheld": links,
            },
        )


# Any web address in an e-mail: the log transport writes a placeholder instead.
_LINK = re.compile(r"https?://\S+")
LINK_WITHHELD = "[link withheld from the log]"


class SmtpTransport:
    """One SMTP connection, opened on the first message and reused for the rest of a drain."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            if s.tls == "implicit":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            try:
                smtp.ehlo()
                if s.tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password or "")
            except BaseException:
                smtp.close()
                raise
        except (OSError, smtplib.SMTPException) as error:
            raise MailServerUnavailable(f"cannot use the SMTP server {s.host}:{s.port}: {_describe(error)}") from error
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send one message, connecting first when needed.

        Raises:
            MailServerUnavailable: the server cannot be reached or the connection broke.
            smtplib.SMTPException: the server refused this message.
        """
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected as error:
            self._smtp = None
            raise MailServerUnavailable(f"lost the connection to the SMTP server: {_describe(error)}") from error
        except smtplib.SMTPException:
            raise  # this message was refused; the connection is still good (SMTPException is an OSError)
        except OSError as error:
            self._smtp.close()
            self._smtp = None
            raise MailServerUnavailable(f"lost the connection to the SMTP server: {_describe(error)}") from error

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


@contextmanager
def open_transport(config: Config) -> Iterator[Transport]:
    """The transport the configuration asks for, closed afterwards.

    Raises:
        MailConfigError: when ``config.smtp_url`` is set but cannot be understood.
    """
    if not config.smtp_url:
        yield LogTransport()
        return
    transport = SmtpTransport(parse_smtp_url(config.smtp_url))
    try:
        yield transport
    finally:
        transport.close()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:ERROR_MAX]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1, 5, 15, 60 minutes... capped at 6 hours)."""
    return RETRY_BACKOFF[min(max(attempts, 1), len(RETRY_BACKOFF)) - 1]


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_email: str
    subject: str
    body: str
    attempts: int


def build_message(sender: str, to: str, subject: str, body: str, when: datetime) -> EmailMessage:
    """A plain-text e-mail.

    Header values are put on one line: a title with a line break in it can never add headers.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())
    message["Date"] = format_datetime(when)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def _claim(session_factory: sessionmaker, now: datetime, limit: int) -> list[_Claimed]:
    """Reserve up to ``limit`` due e-mails for this drainer and count the attempt."""
    with session_factory() as session:
        rows = list(
            session.scalars(
                select(Notification)
                .where(Notification.sent_at.is_(None), Notification.next_attempt_at <= now)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
                # PostgreSQL: rows another drainer is claiming right now are skipped, not
                # waited for. SQLite ignores this; its single write lock serialises claims.
                .with_for_update(skip_locked=True)
            )
        )
        claimed = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + CLAIM_LEASE
            claimed.append(_Claimed(row.id, row.to_email, row.subject, row.body, row.attempts))
        session.commit()
    return claimed


def _mark_sent(session: Session, item: _Claimed, now: datetime) -> None:
    session.execute(update(Notification).where(Notification.id == item.id).values(sent_at=now, last_error=None))
    session.commit()


def _mark_failed(session: Session, item: _Claimed, error: str, now: datetime) -> None:
    retry_at = now + retry_delay(item.attempts)
    session.execute(
        update(Notification)
        .where(Notification.id == item.id, Notification.sent_at.is_(None))
        .values(last_error=error[:ERROR_MAX], next_attempt_at=retry_at)
    )
    session.commit()
    level = logging.ERROR if item.attempts >= len(RETRY_BACKOFF) else logging.WARNING
    log.log(
        level,
        "e-mail not sent; will retry",
        extra={"notification_id": item.id, "attempts": item.attempts, "retry_at": retry_at.isoformat(), "error": error},
    )


@dataclass
class SendReport:
    """What one drain did."""

    sent: int = 0
    failed: int = 0


def send_due(
    session_factory: sessionmaker, config: Config, *, now: datetime | None = None, batch: int = DRAIN_BATCH
) -> SendReport:
    """Send every e-mail that is due, in batches; failures are kept for a later drain.

    Args:
        session_factory: opens the short transactions that claim and record e-mails.
        config: ``smtp_url`` (unset: the log) and ``mail_sender``.
        now: the time to judge "due" by and to record; the current time when None
            (tests pass a later time instead of sleeping through a back-off).
        batch: how many e-mails to claim at a time.

    Returns:
        How many were sent and how many failed (and wait for a retry).

    Raises:
        MailConfigError: when ``config.smtp_url`` cannot be understood.
    """
    report = SendReport()
    with open_transport(config) as transport:
        while claimed := _claim(session_factory, now or utcnow(), batch):
            _send_batch(session_factory, transport, config.mail_sender, claimed, now, report)
    if report.sent or report.failed:
        log.info("e-mails sent", extra={"sent": report.sent, "failed": report.failed})
    return report


def _send_batch(
    session_factory: sessionmaker,
    transport: Transport,
    sender: str,
    claimed: list[_Claimed],
    now: datetime | None,
    report: SendReport,
) -> None:
    server_down: str | None = None
    with session_factory() as session:
        for item in claimed:
            when = now or utcnow()
            if server_down is not None:
                # One unreachable server is enough to know: do not wait out a timeout per e-mail.
                _mark_failed(session, item, server_down, when)
                report.failed += 1
                continue
            try:
                transport.send(build_message(sender, item.to_email, item.subject, item.body, when))
            except MailServerUnavailable as error:
                server_down = str(error)
                _mark_failed(session, item, server_down, when)
                report.failed += 1
            except (smtplib.SMTPException, ValueError, UnicodeError) as error:
                # This message was refused (bad address, rejected content): the others may still go.
                _mark_failed(session, item, _describe(error), when)
                report.failed += 1
            else:
                _mark_sent(session, item, when)
                report.sent += 1


class MailSender:
    """Owns the app's mail thread: drains the outbox after commits that queued mail, and every minute."""

    def __init__(self, session_factory: sessionmaker, config: Config, *, background: bool) -> None:
        """Check the SMTP URL now, so a mistake in it stops the app at start-up rather than every send.

        Raises:
            MailConfigError: when ``config.smtp_url`` cannot be understood.
        """
        self.session_factory = session_factory
        self.config = config
        self.background = background
        self.settings = parse_smtp_url(config.smtp_url) if config.smtp_url else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the background thread (in the app); tests drain inline instead."""
        log.info(
            "e-mail delivery",
            extra={"smtp_server": self.settings.describe() if self.settings else "none: emails go to the log"},
        )
        if self.background:
            self._thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        """A transaction committed e-mails: send them (now, or soon in the background)."""
        if self.background:
            self._wake.set()
        else:
            self.drain()

    def drain(self, now: datetime | None = None) -> SendReport:
        """Send what is due now; failures are recorded on the rows and logged, never raised."""
        with self._lock:
            try:
                return send_due(self.session_factory, self.config, now=now)
            except Exception:
                log.exception("e-mail delivery failed; will retry")
                return SendReport()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.drain()
            self._wake.wait(PERIODIC_INTERVAL_SECONDS)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the background thread (tests and shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
