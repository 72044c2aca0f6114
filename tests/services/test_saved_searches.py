"""Saved searches: anyone signed in keeps a search and is e-mailed what newly matches it,
daily or weekly, with links; nothing is sent when nothing is new."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from marketplace.db import utcnow
from marketplace.models import Notification, SavedSearch
from marketplace.search.queries import viewer_of
from marketplace.services import saved_searches
from marketplace.services.errors import NotFound, NotSignedIn, ValidationFailed
from marketplace.services.saved_searches import (
    delete_saved_search,
    list_saved_searches,
    save_search,
    send_saved_searches,
)
from search_index import SearchQuery

BASE_URL = "https://market.example.gov.uk"


def emails_to(session, address):
    return list(session.scalars(select(Notification).where(Notification.to_email == address).order_by(Notification.id)))


def test_save_list_and_delete(session, make_user):
    group, supplier, other = make_user("community"), make_user("supplier"), make_user("community")
    painted = save_search(session, group, {"q": "paint", "category": "volunteering", "frequency": "weekly"})
    assert painted.kind == "offer", "a group's search lists offers unless it says otherwise"
    assert save_search(session, supplier, {"q": "minibus", "frequency": "daily"}).kind == "need"
    both = save_search(session, group, {"q": "", "kind": "need", "frequency": "daily"})
    assert [s.id for s in list_saved_searches(session, group)] == [both.id, painted.id]
    described = saved_searches.describe(session, painted)
    assert described.words == "“paint” in offers" and described.filters == ["Category: Volunteering"]
    assert saved_searches.search_path(painted) == "/search?q=paint&kind=offer&category=volunteering"

    with pytest.raises(NotFound):
        delete_saved_search(session, other, painted.id)  # someone else's is not said to exist
    delete_saved_search(session, group, painted.id)
    assert [s.id for s in list_saved_searches(session, group)] == [both.id]
    with pytest.raises(NotSignedIn):
        list_saved_searches(session, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"q": "paint"}, "frequency", "Choose how often you want the email: daily or weekly"),
        ({"q": "paint", "frequency": "hourly"}, "frequency", "Choose how often you want the email: daily or weekly"),
        ({"category": "no-such", "frequency": "daily"}, "category", "Choose a category from the list"),
        ({"kind": "pledge", "frequency": "daily"}, "kind", "Choose needs or offers"),
        ({"district": ["a"], "frequency": "daily"}, "district", "Choose a district from the list"),
        ({"q": "x" * 300, "frequency": "daily"}, "q", "The search words must be 256 characters or fewer"),
        ({"q": "paint\x00", "frequency": "daily"}, "q", "The search words must not contain control characters"),
    ],
)
def test_bad_input_is_named_and_nothing_is_saved(session, make_user, data, field, message):
    group = make_user("community")
    with pytest.raises(ValidationFailed) as refused:
        save_search(session, group, data)
    assert refused.value.fields == {field: message}
    assert list_saved_searches(session, group) == []


def test_the_same_search_twice_and_too_many_are_refused(session, make_user):
    group = make_user("community")
    save_search(session, group, {"q": "paint", "frequency": "daily"})
    with pytest.raises(ValidationFailed) as refused:
        save_search(session, group, {"q": "paint", "kind": "offer", "frequency": "weekly"})
    assert refused.value.fields == {"frequency": "You have saved this search already"}
    for n in range(saved_searches.MAX_SAVED - 1):
        save_search(session, group, {"q": f"word{n}", "frequency": "daily"})
    with pytest.raises(ValidationFailed) as refused:
        save_search(session, group, {"q": "one more", "frequency": "daily"})
    assert "up to 20 searches" in refused.value.fields["frequency"]
    assert len(list_saved_searches(session, group)) == saved_searches.MAX_SAVED


def test_new_matches_are_e_mailed_with_links_once_a_week_and_nothing_when_nothing_is_new(
    session, make_user, make_offer, make_need
):
    group = make_user("community")
    saved = save_search(session, group, {"q": "paint", "frequency": "weekly"})
    saved.created_at = utcnow() - timedelta(days=8)
    hidden = make_user("supplier", verified=False)
    fits = make_offer(title="Paint and brushes for community rooms")
    make_offer(title="Minibus with a driver")  # no match
    make_need(title="Paint for our scout hut")  # a need: this search lists offers
    make_offer(by=hidden, title="Paint from an unchecked firm")  # not public
    session.flush()

    now = utcnow() + saved_searches.SETTLE + timedelta(seconds=1)
    assert send_saved_searches(session, base_url=BASE_URL, now=now) == 1
    (mail,) = emails_to(session, group.email)
    assert mail.subject == "New for your saved search: “Paint and brushes for community rooms”"
    assert f"{BASE_URL}/offers/{fits.id}" in mail.body
    assert f"{BASE_URL}/search?q=paint&kind=offer" in mail.body and f"{BASE_URL}/account/saved-searches" in mail.body
    assert "Minibus" not in mail.body and "scout hut" not in mail.body and "unchecked" not in mail.body

    # The same day, and a week later with nothing new: nothing is sent.
    assert send_saved_searches(session, base_url=BASE_URL, now=now + timedelta(hours=1)) == 0
    assert send_saved_searches(session, base_url=BASE_URL, now=now + timedelta(days=7, minutes=1)) == 0
    assert len(emails_to(session, group.email)) == 1


def test_a_daily_search_of_needs_for_a_supplier(session, make_user, make_need):
    supplier = make_user("supplier")
    saved = save_search(session, supplier, {"q": "", "category": "goods", "frequency": "daily"})
    saved.created_at = utcnow() - timedelta(days=1, minutes=5)
    first, second = (
        make_need(category="goods", title="Desks for a homework club"),
        make_need(category="goods", title="Chairs for a lunch club"),
    )
    make_need(category="volunteering", title="Volunteers to paint a hall")
    session.flush()
    assert send_saved_searches(session, base_url=BASE_URL, now=utcnow() + saved_searches.SETTLE) == 1
    (mail,) = emails_to(session, supplier.email)
    assert mail.subject == "2 new results for your saved search all needs"
    assert f"/needs/{first.id}" in mail.body and f"/needs/{second.id}" in mail.body and "paint" not in mail.body
    assert "Category: Goods" in mail.body


def test_items_of_the_last_minutes_wait_for_the_next_e_mail(session, make_user, make_offer):
    group = make_user("community")
    saved = save_search(session, group, {"q": "paint", "frequency": "daily"})
    saved.created_at = utcnow() - timedelta(days=2)
    offer = make_offer(title="Paint and brushes for community rooms")
    session.flush()
    # Posted moments ago: the search index may not have it yet, so it waits.
    assert send_saved_searches(session, base_url=BASE_URL, now=utcnow()) == 0
    later = utcnow() + timedelta(days=1, minutes=1)
    assert send_saved_searches(session, base_url=BASE_URL, now=later) == 1
    assert f"/offers/{offer.id}" in emails_to(session, group.email)[0].body


def test_with_the_search_index_it_finds_what_the_search_page_finds(
    session, session_factory, make_user, make_offer, tmp_path
):
    from marketplace.models import IndexReplica
    from marketplace.search.sync import rebuild
    from search_index import SearchIndex

    session.execute(delete(IndexReplica))
    group = make_user("community")
    saved = save_search(session, group, {"q": "room", "frequency": "weekly"})
    saved.created_at = utcnow() - timedelta(days=8)
    office = make_offer(
        title="Spare office for local charities",
        description="A quiet office with six desks, free to local charities on weekdays.",
    )
    make_offer(
        title="Minibus with a driver",
        description="Our minibus and a driver for day trips in the county.",
        category="volunteering",
        measure="volunteering-hours",
    )
    session.commit()
    index = SearchIndex(tmp_path / "index")
    try:
        rebuild(session_factory, index)
        now = utcnow() + saved_searches.SETTLE + timedelta(seconds=1)
        page = {(h.kind, h.id) for h in index.search(SearchQuery(q="room", kind="offer"), viewer_of(group)).hits}
        assert ("offer", office.id) in page, "the search page finds it"
        assert send_saved_searches(session, base_url=BASE_URL, now=now, index=index) == 1
        (mail,) = emails_to(session, group.email)
        assert f"/offers/{office.id}" in mail.body and "Minibus" not in mail.body
    finally:
        index.close()


def test_closing_the_account_deletes_its_saved_searches(session, make_user):
    from marketplace.services.personal_data import close_account, personal_data
    from tests.conftest import PASSWORD

    group = make_user("community")
    save_search(session, group, {"q": "paint", "frequency": "daily"})
    assert personal_data(session, group)["saved_searches"][0]["q"] == "paint"
    close_account(session, group, PASSWORD)
    session.flush()
    assert session.scalar(select(func.count()).select_from(SavedSearch)) == 0


def test_send_summaries_command_sends_saved_searches_through_smtp(tmp_path, monkeypatch):
    """The daily command end to end: its own database and a real SMTP server; the link works."""
    from sqlalchemy.orm import Session

    from marketplace.app import create_app
    from marketplace.cli import main
    from marketplace.clock import council_today
    from marketplace.config import Config
    from marketplace.db import make_engine, make_session_factory
    from marketplace.services import accounts, offers, organisations
    from tests.conftest import PASSWORD, offer_fields
    from tests.services.test_mail import SmtpServer

    server = SmtpServer()
    server.start()
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", database)
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", server.url)
    runner = CliRunner()
    try:
        assert runner.invoke(main, ["init"]).exit_code == 0
        engine = make_engine(database)
        with Session(engine) as session:
            officer = accounts.create_user(
                session, email="o@example.gov.uk", role="officer", organisation_name="Council", password=PASSWORD
            )
            people = {}
            for role, organisation in (("supplier", "Melton Paints Ltd"), ("community", "Melton Scouts")):
                person = accounts.create_user(
                    session, email=f"{role}@example.org", role=role, organisation_name=organisation, password=PASSWORD
                )
                organisations.verify_organisation(session, officer, person.organisation_id)
                people[role] = person
            saved = save_search(session, people["community"], {"q": "paint", "frequency": "daily"})
            saved.created_at = utcnow() - timedelta(days=2)
            offer = offers.post_offer(
                session, people["supplier"], offer_fields(title="Paint for community buildings"), council_today()
            )
            offer.created_at = utcnow() - timedelta(hours=1)  # posted before the day's run
            session.commit()
            offer_id = offer.id
        engine.dispose()

        result = runner.invoke(main, ["send-summaries", "--base-url", BASE_URL])
        assert result.exit_code == 0, result.output
        assert "1 emails of saved searches' new results queued." in result.output
        (mail,) = server.inbox.to("community@example.org")
        assert mail["Subject"] == "New for your saved search: “Paint for community buildings”"
        path = re.search(rf"{re.escape(BASE_URL)}(/offers/\d+)", mail.get_content()).group(1)
        assert path == f"/offers/{offer_id}"

        # The link opens the offer's page.
        app = create_app(
            Config.from_env().with_overrides(base_url=BASE_URL, allowed_hosts=("localhost",)),
            session_factory=make_session_factory(make_engine(database)),
        )
        page = app.test_client().get(path).get_data(as_text=True)
        assert "Paint for community buildings" in page

        # Run again the same day: nothing new, nothing sent.
        result = runner.invoke(main, ["send-summaries", "--base-url", BASE_URL])
        assert "0 emails of saved searches' new results queued." in result.output
        assert len(server.inbox.to("community@example.org")) == 1
    finally:
        server.stop()
