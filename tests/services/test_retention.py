"""``marketplace purge`` deletes what the privacy notice says is kept no longer, and nothing else.

Runs against the real database of the run (SQLite, or PostgreSQL with
MARKETPLACE_TEST_DATABASE_URL), with records dated just inside and just outside each period.
"""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from marketplace.db import utcnow
from marketplace.models import ApiToken, Feedback, Notification, Organisation, User
from marketplace.services import accounts, personal_data
from marketplace.services.retention import RETENTION, purge
from tests.conftest import PASSWORD

DAY = timedelta(days=1)


def _email(session, to: str, *, created_days: float, sent_days: float | None) -> int:
    now = utcnow()
    email = Notification(
        to_email=to,
        subject="Your pledge was accepted",
        body="Hello",
        created_at=now - created_days * DAY,
        sent_at=None if sent_days is None else now - sent_days * DAY,
        next_attempt_at=now,
    )
    session.add(email)
    session.flush()
    return email.id


def _exists(session, model, key) -> bool:
    session.expire_all()
    return session.get(model, key) is not None


def test_emails_are_kept_for_the_stated_periods_and_then_deleted(session, make_user):
    person = make_user("community")
    old_sent = _email(session, person.email, created_days=100, sent_days=RETENTION.sent_email_days + 1)
    recent_sent = _email(session, person.email, created_days=100, sent_days=RETENTION.sent_email_days - 1)
    never_sent = _email(session, person.email, created_days=RETENTION.unsent_email_days + 1, sent_days=None)
    still_trying = _email(session, person.email, created_days=RETENTION.unsent_email_days - 1, sent_days=None)

    counts = purge(session, utcnow())

    assert not _exists(session, Notification, old_sent)
    assert not _exists(session, Notification, never_sent)
    assert _exists(session, Notification, recent_sent)
    assert _exists(session, Notification, still_trying)
    assert (counts.sent_emails, counts.unsent_emails) == (1, 1)


def test_what_a_closed_account_leaves_is_deleted_after_the_stated_period(session, make_user):
    long_closed, just_closed = make_user("community"), make_user("community")
    for person in (long_closed, just_closed):
        _email(session, person.email, created_days=5, sent_days=5)
        personal_data.close_account(session, person, PASSWORD)
    long_closed.closed_at = utcnow() - (RETENTION.closed_account_days + 1) * DAY
    session.flush()

    counts = purge(session, utcnow())

    left = dict(
        session.execute(
            select(Notification.to_email, func.count())
            .group_by(Notification.to_email)
            .where(Notification.to_email.in_([long_closed.email, just_closed.email]))
        ).all()
    )
    assert left == {just_closed.email: 1}
    assert counts.closed_account_emails == 1
    # The person stays, as a former member, so their organisation's records stay whole.
    assert _exists(session, User, long_closed.id)


def test_a_registration_never_confirmed_is_deleted_with_its_empty_organisation(session, make_user):
    def register(email: str, organisation: str) -> User:
        form = accounts.Registration(
            name="Never Confirmed",
            email=email,
            password=PASSWORD,
            password_confirmation=PASSWORD,
            role="community",
            organisation_name=organisation,
        )
        return accounts.register(session, form, confirmed=False)

    stale = register("stale@example.org", "Stale Registration Club")
    fresh = register("fresh@example.org", "Fresh Registration Club")
    confirmed = make_user("community", verified=False)
    stale.created_at = utcnow() - (RETENTION.unconfirmed_account_days + 1) * DAY
    confirmed.created_at = stale.created_at
    _email(session, stale.email, created_days=31, sent_days=31)
    stale_id, stale_organisation = stale.id, stale.organisation_id
    session.flush()

    counts = purge(session, utcnow())

    assert counts.unconfirmed_accounts == 1
    assert not _exists(session, User, stale_id)
    assert not _exists(session, Organisation, stale_organisation)
    assert _exists(session, User, fresh.id)
    assert _exists(session, User, confirmed.id)
    assert session.scalar(select(func.count()).where(Notification.to_email == "stale@example.org")) == 0


def test_revoked_tokens_and_old_feedback_go_after_their_periods(session, make_user):
    person = make_user("supplier")
    old_token, _ = accounts.create_token(session, person, "Old CRM")
    new_token, _ = accounts.create_token(session, person, "New CRM")
    live_token, _ = accounts.create_token(session, person, "Live CRM")
    accounts.revoke_token(session, person, old_token.id)
    accounts.revoke_token(session, person, new_token.id)
    old_token.revoked_at = utcnow() - (RETENTION.revoked_token_days + 1) * DAY
    old_feedback = Feedback(comments="Old", created_at=utcnow() - (RETENTION.feedback_days + 1) * DAY)
    new_feedback = Feedback(comments="New")
    session.add_all([old_feedback, new_feedback])
    session.flush()
    old_token, new_token, live_token = old_token.id, new_token.id, live_token.id
    old_feedback, new_feedback = old_feedback.id, new_feedback.id

    counts = purge(session, utcnow())

    assert (counts.revoked_tokens, counts.feedback) == (1, 1)
    assert not _exists(session, ApiToken, old_token)
    assert _exists(session, ApiToken, new_token)
    assert _exists(session, ApiToken, live_token)
    assert not _exists(session, Feedback, old_feedback)
    assert _exists(session, Feedback, new_feedback)


def test_the_privacy_notice_states_the_periods_the_purge_uses(session):
    from marketplace.services.site_pages import get_page

    text = get_page(session, "privacy", council="Test Council", service="Marketplace").html
    assert f"deleted {RETENTION.sent_email_days} days after they were sent" in text
    assert f"deleted after {RETENTION.unconfirmed_account_days} days" in text
    assert f"deleted after {RETENTION.feedback_days} days" in text
    assert "{" not in text


def test_the_purge_command_says_what_it_deleted(tmp_path, monkeypatch, engine, database_url):
    """The command on its own database: a committed old e-mail is gone afterwards."""
    from sqlalchemy.orm import Session

    from marketplace.cli import Context, main

    with Session(engine) as setup:
        setup.add(
            Notification(
                to_email="purge-command@example.org",
                subject="Old",
                body="Old",
                created_at=utcnow() - 200 * DAY,
                sent_at=utcnow() - 199 * DAY,
                next_attempt_at=utcnow(),
            )
        )
        setup.commit()
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", database_url)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    context = Context()
    try:
        result = CliRunner().invoke(main, ["purge"], obj=context)
    finally:
        context.engine.dispose()
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Deleted 1 sent emails"), result.output
    with Session(engine) as check:
        assert check.scalar(select(func.count()).where(Notification.to_email == "purge-command@example.org")) == 0
