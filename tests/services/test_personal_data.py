"""A person's data: the download holds what we keep about them; closing erases it and keeps
their organisation's records."""

import pytest
from sqlalchemy import func, select

from marketplace.models import ApiToken, AuditEntry, Need, Notification, User
from marketplace.services import accounts, needs, personal_data
from marketplace.services.errors import ValidationFailed
from marketplace.services.notifications import queue_email
from tests.conftest import PASSWORD, need_fields


def test_the_download_holds_the_account_tokens_posts_and_emails(session, make_user, today):
    user = make_user("community")
    need = needs.post_need(session, user, need_fields(title="Paint for the community hall"), today)
    accounts.create_token(session, user, "spreadsheet sync")
    queue_email(session, [user.email], "Welcome", "Hello there")
    session.flush()

    data = personal_data.personal_data(session, user)
    assert data["account"]["email"] == user.email and data["account"]["name"] == user.name
    assert data["organisation"]["name"] == user.organisation.name
    assert [token["name"] for token in data["api_tokens"]] == ["spreadsheet sync"]
    assert "token_hash" not in str(data["api_tokens"])
    assert [(item["id"], item["title"]) for item in data["needs_posted"]] == [(need.id, "Paint for the community hall")]
    assert [email["subject"] for email in data["emails_sent_to_you"]] == ["Welcome"]


def test_closing_erases_the_person_and_keeps_the_organisations_records(session, make_user, today):
    user = make_user("community")
    email = user.email
    need = needs.post_need(session, user, need_fields(), today)
    accounts.create_token(session, user, "script")
    queue_email(session, [email], "Queued", "Not sent yet")
    sent = queue_email(session, [email], "Sent before", "Already delivered")[0]
    session.flush()
    sent.sent_at = sent.created_at
    session.flush()

    personal_data.close_account(session, user, PASSWORD)

    session.expire_all()
    closed = session.get(User, user.id)
    assert closed.name == "Former member" and closed.email == f"closed-{user.id}@closed.invalid"
    assert not closed.active and closed.closed_at is not None and not closed.digest_enabled
    assert accounts.authenticate(session, email, PASSWORD) is None
    assert accounts.authenticate(session, closed.email, PASSWORD) is None
    assert session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == user.id)) == 0
    assert session.scalars(select(Notification).where(Notification.to_email == email)).all() == []
    kept = session.scalars(select(Notification).where(Notification.to_email == closed.email)).all()
    assert [(n.subject, n.sent_at is not None) for n in kept] == [("(erased)", True)]
    assert session.get(Need, need.id).created_by_id == user.id, "the group's need stays"
    assert session.scalar(
        select(AuditEntry.action).where(AuditEntry.actor_id == user.id, AuditEntry.action == "account.close")
    )
    # The address is free again for someone new.
    assert accounts.create_user(
        session, email=email, role="community", organisation_name="Another Group", password=PASSWORD
    )


def test_closing_needs_the_current_password_and_changes_nothing_without_it(session, make_user):
    user = make_user("supplier")
    with pytest.raises(ValidationFailed) as refused:
        personal_data.close_account(session, user, "not my password")
    assert refused.value.fields == {"password": "Enter your current password to close your account"}
    assert user.active and user.closed_at is None and accounts.authenticate(session, user.email, PASSWORD) == user
