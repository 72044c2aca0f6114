"""The suppliers' daily digest: one e-mail of new needs that fit their open offers well,
with the real embedding model, and the ``send-digests`` command end to end over SMTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.models import Notification, User
from marketplace.services.digest import send_digests, set_digest
from marketplace.services.errors import Forbidden, NotSignedIn
from marketplace.suggestions.engine import SuggestionEngine

BASE_URL = "https://svm.example.gov.uk"
MINIBUS_OFFER = {
    "title": "Accessible minibus and driver one day a week",
    "description": "Our 16-seat minibus with a wheelchair lift and a trained driver is free every Thursday.",
    "category": "transport",
    "districts": ["Melton"],
    "measure": "transport-provided",
}
LUNCH_CLUB = {
    "title": "Minibus to take older people to the lunch club",
    "description": "We need a driver and a wheelchair accessible minibus on Thursdays to bring members to lunch.",
    "category": "transport",
    "district": "Melton",
}
FOOTBALL = {
    "title": "Transport for the youth football team to away games",
    "description": "Our under-12s need a minibus and driver to reach away matches on Saturday mornings around Melton.",
    "category": "transport",
    "district": "Melton",
}
PAINT = {
    "title": "Paint and brushes for the scout hut",
    "description": "The scout hut needs repainting inside; we need paint, rollers and brushes.",
    "category": "goods",
    "district": "Melton",
}


@pytest.fixture
def matcher(session_factory):
    return SuggestionEngine(session_factory)


@pytest.fixture
def supplier(make_user, make_offer):
    user = make_user("supplier", organisation="Melton Coaches Ltd")
    make_offer(by=user, **MINIBUS_OFFER)
    return user


@pytest.fixture
def group(make_user):
    return make_user("community", organisation="Melton Lunch Club")


def run_digest(session, matcher, today, now=None):
    session.commit()
    report = send_digests(session, matcher, base_url=BASE_URL, now=now or utcnow(), today=today)
    session.commit()
    return report


def digests_to(session, user):
    return list(session.scalars(select(Notification).where(Notification.to_email == user.email)))


def test_a_fitting_new_need_is_sent_in_one_email(session, matcher, supplier, group, make_need, today):
    need = make_need(by=group, **LUNCH_CLUB)
    now = utcnow()
    report = run_digest(session, matcher, today, now)

    (digest,) = digests_to(session, supplier)
    assert digest.subject == "A new need fits your offers: “Minibus to take older people to the lunch club”"
    assert "Minibus to take older people to the lunch club" in digest.body
    assert "Melton Lunch Club · Melton" in digest.body
    assert f"{BASE_URL}/needs/{need.id}" in digest.body
    assert "- fits your offer “Accessible minibus and driver one day a week”" in digest.body
    assert "- the offer covers Melton, where the need is" in digest.body
    assert f"{BASE_URL}/account" in digest.body  # how to switch it off
    assert (report.emails, report.needs_listed) == (1, 1)
    session.refresh(supplier)
    assert supplier.last_digest_at == now


def test_two_fitting_needs_make_one_email_listing_both(session, matcher, supplier, group, make_need, today):
    lunch = make_need(by=group, **LUNCH_CLUB)
    football = make_need(by=group, **FOOTBALL)
    run_digest(session, matcher, today)

    (digest,) = digests_to(session, supplier)
    assert digest.subject == "2 new needs fit your offers"
    assert f"{BASE_URL}/needs/{lunch.id}" in digest.body
    assert f"{BASE_URL}/needs/{football.id}" in digest.body
    # The better fit comes first.
    assert digest.body.index(LUNCH_CLUB["title"]) < digest.body.index(FOOTBALL["title"])


def test_a_supplier_who_switched_it_off_gets_nothing(session, matcher, supplier, group, make_need, today):
    set_digest(session, supplier, False)
    make_need(by=group, **LUNCH_CLUB)
    report = run_digest(session, matcher, today)
    assert digests_to(session, supplier) == []
    assert report.suppliers == 0


def test_needs_already_sent_are_not_repeated_the_next_day(session, matcher, supplier, group, make_need, today):
    make_need(by=group, **LUNCH_CLUB)
    first = utcnow()
    run_digest(session, matcher, today, first)
    assert len(digests_to(session, supplier)) == 1

    # The next day, nothing new: no e-mail at all.
    run_digest(session, matcher, today, first + timedelta(days=1))
    assert len(digests_to(session, supplier)) == 1

    # A need posted during the following day is in the next digest, alone.
    football = make_need(by=group, **FOOTBALL)
    football.created_at = first + timedelta(days=1, hours=2)
    run_digest(session, matcher, today, first + timedelta(days=2))
    digests = digests_to(session, supplier)
    assert len(digests) == 2
    latest = max(digests, key=lambda n: n.id)
    assert f"/needs/{football.id}" in latest.body
    assert LUNCH_CLUB["title"] not in latest.body


def test_a_need_that_fits_poorly_is_left_out(session, matcher, supplier, group, make_need, today):
    make_need(by=group, **PAINT)
    run_digest(session, matcher, today)
    assert digests_to(session, supplier) == []

    lunch = make_need(by=group, **LUNCH_CLUB)
    run_digest(session, matcher, today)
    (digest,) = digests_to(session, supplier)
    assert f"/needs/{lunch.id}" in digest.body
    assert PAINT["title"] not in digest.body


def test_needs_older_than_the_window_are_not_sent(session, matcher, supplier, group, make_need, today):
    make_need(by=group, **LUNCH_CLUB)
    # A supplier that never had a digest looks back one day.
    run_digest(session, matcher, today, utcnow() + timedelta(days=2))
    assert digests_to(session, supplier) == []


def test_needs_the_public_cannot_see_are_not_sent(session, matcher, supplier, make_user, make_need, today):
    unverified = make_user("community", verified=False)
    make_need(by=unverified, **LUNCH_CLUB)
    run_digest(session, matcher, today)
    assert digests_to(session, supplier) == []


def test_each_member_of_the_supplier_gets_their_own_and_others_get_none(
    session, matcher, supplier, group, make_user, make_need, today
):
    colleague = make_user("supplier", organisation="Melton Coaches Ltd")
    other_supplier = make_user("supplier")  # no open offers
    make_need(by=group, **LUNCH_CLUB)
    report = run_digest(session, matcher, today)
    assert len(digests_to(session, supplier)) == 1
    assert len(digests_to(session, colleague)) == 1
    assert digests_to(session, other_supplier) == []
    assert digests_to(session, group) == []
    assert report.emails == 2


def test_only_suppliers_switch_the_digest(session, make_user):
    with pytest.raises(Forbidden):
        set_digest(session, make_user("community"), False)
    with pytest.raises(NotSignedIn):
        set_digest(session, None, False)
    supplier = make_user("supplier")
    assert set_digest(session, supplier, False).digest_enabled is False
    assert set_digest(session, supplier, True).digest_enabled is True


def test_send_digests_command_emails_through_smtp(tmp_path, monkeypatch):
    """The cron command end to end: its own database, real model, real SMTP server."""
    from sqlalchemy.orm import Session

    from marketplace.cli import main
    from marketplace.db import make_engine
    from marketplace.services import accounts, needs, offers, organisations
    from tests.conftest import PASSWORD, need_fields, offer_fields
    from tests.services.test_mail import SmtpServer

    server = SmtpServer()
    server.start()
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", database)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", server.url)
    monkeypatch.setenv("MARKETPLACE_MAIL_SENDER", "digest@svm.example.gov.uk")
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["init"]).exit_code == 0
        engine = make_engine(database)
        with Session(engine) as session:
            officer = accounts.create_user(
                session, email="o@example.gov.uk", role="officer", organisation_name="Council", password=PASSWORD
            )
            people = {}
            for role, organisation in (("supplier", "Melton Coaches Ltd"), ("community", "Melton Lunch Club")):
                person = accounts.create_user(
                    session,
                    email=f"{role}@example.org",
                    role=role,
                    organisation_name=organisation,
                    password=PASSWORD,
                )
                organisations.verify_organisation(session, officer, person.organisation_id)
                people[role] = person
            from marketplace.clock import council_today

            offers.post_offer(session, people["supplier"], offer_fields(**MINIBUS_OFFER), council_today())
            needs.post_need(session, people["community"], need_fields(**LUNCH_CLUB), council_today())
            session.commit()
        engine.dispose()

        result = runner.invoke(main, ["send-digests", "--base-url", BASE_URL])
        assert result.exit_code == 0, result.output
        assert "1 digests queued for 1 suppliers (1 needs listed)." in result.output
        assert "emails sent, 0 failed" in result.output
        (digest,) = server.inbox.to("supplier@example.org")
        assert digest["From"] == "digest@svm.example.gov.uk"
        assert digest["Subject"] == "A new need fits your offers: “Minibus to take older people to the lunch club”"
        assert f"{BASE_URL}/needs/" in digest.get_content()

        # Run again the same day: nothing new, nothing sent.
        before = len(server.inbox.messages)
        result = runner.invoke(main, ["send-digests", "--base-url", BASE_URL])
        assert "0 digests queued" in result.output
        result = runner.invoke(main, ["send-notifications"])
        assert result.exit_code == 0 and "0 emails sent, 0 failed" in result.output
        assert len(server.inbox.messages) == before
    finally:
        server.stop()


def test_send_notifications_reports_failures_and_keeps_them(tmp_path, monkeypatch):
    from sqlalchemy.orm import Session

    from marketplace.cli import main
    from marketplace.db import make_engine
    from marketplace.services.notifications import queue_email
    from tests.services.test_mail import free_port

    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", database)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", f"smtp://mailer:hunter2@127.0.0.1:{free_port()}")
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    engine = make_engine(database)
    with Session(engine) as session:
        queue_email(session, ["a@example.org"], "Hello", "Body")
        session.commit()
    result = runner.invoke(main, ["send-notifications"])
    assert result.exit_code == 1
    assert "0 emails sent, 1 failed (kept to retry later)." in result.output
    assert "hunter2" not in result.output
    with Session(engine) as session:
        row = session.scalar(select(Notification))
        assert row.sent_at is None and row.attempts == 1
    engine.dispose()


def test_users_have_the_digest_on_by_default(make_user):
    assert make_user("supplier").digest_enabled is True
    assert isinstance(make_user("supplier"), User)
