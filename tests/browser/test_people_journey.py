"""Through a real browser: a group asks for an offer, the supplier turns the request into a pledge,
they exchange messages, and each person's "waiting for you" shows the steps that are theirs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.clock import council_today
from marketplace.models import User
from marketplace.services import needs, offers
from tests.browser.support import EMAIL_BY_ROLE, DemoIds, LiveServer, confirmation_link

pytestmark = pytest.mark.browser


def _tasks(page: Page):
    page.goto("/account")
    return page.locator(".app-task")


def test_ask_pledge_talk_and_each_persons_next_step(
    page_as: Callable[[str | None], Page], live_server: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    need_title, offer_title = f"Paint our village hall {tag}", f"Staff volunteering days {tag}"
    with live_server.session() as session:
        people = {
            role: session.scalar(select(User).where(User.email == email)) for role, email in EMAIL_BY_ROLE.items()
        }
        needs.post_need(
            session,
            people["community"],
            {"title": need_title, "description": "The hall's walls and windows need painting before the summer fete.",
             "category": "volunteering", "district": "Charnwood", "outcomes": ["great-communities"]},
            council_today(),
        )  # fmt: skip
        offer = offers.post_offer(
            session,
            people["supplier"],
            {"title": offer_title, "description": "Our staff can give volunteering days to local community projects.",
             "category": "volunteering", "districts": ["Charnwood"], "outcomes": ["great-communities"],
             "measure": "volunteering-hours", "capacity": 40},
            council_today(),
        )  # fmt: skip
        session.commit()
        offer_id = offer.id
        supplier_name, group_name = people["supplier"].organisation.name, people["community"].organisation.name

    group, supplier, officer = page_as("community"), page_as("supplier"), page_as("officer")

    # The group asks for the offer.
    group.goto(f"/offers/{offer_id}")
    expect(group.get_by_text("Still available: 40 hours of 40 hours.")).to_be_visible()
    group.get_by_role("link", name="Ask for this offer").click()
    group.get_by_label("Which of your needs is this for?").select_option(label=need_title)
    group.get_by_label("What do you need from this offer?").fill("Could four of you paint the hall in May?")
    group.get_by_role("button", name="Send request").click()
    expect(group.get_by_text(f"Your request has been sent to {supplier_name}.")).to_be_visible()
    expect(group.get_by_text("Waiting for the supplier", exact=True)).to_be_visible()

    # The supplier's next step is to answer it; it leads to the request, then to a pledge.
    answer = _tasks(supplier).filter(has_text=f"request for “{offer_title}”")
    expect(answer).to_have_count(1)
    expect(supplier.get_by_role("link", name=re.compile(r"^Your account \(\d+ waiting\)$"))).to_be_visible()
    answer.get_by_role("link").click()
    expect(supplier.get_by_text("Your turn: answer")).to_be_visible()
    supplier.get_by_role("link", name="Turn into a pledge").click()
    expect(supplier.get_by_text("You are answering")).to_be_visible()
    supplier.get_by_label("How much, in that unit?").fill("16")
    supplier.get_by_role("button", name="Make pledge").click()
    expect(supplier.get_by_role("heading", name=f"Pledge to “{need_title}”", level=1)).to_be_visible()
    pledge_url = supplier.url
    expect(_tasks(supplier).filter(has_text=offer_title)).to_have_count(0)

    # They talk on the pledge.
    supplier.goto(pledge_url)
    supplier.get_by_label("Your message").fill("Which Saturday suits you? <3")
    supplier.get_by_role("button", name="Send message").click()
    expect(supplier.get_by_text("Your message has been sent.")).to_be_visible()
    expect(supplier.locator(".app-message__body")).to_have_text(["Which Saturday suits you? <3"])

    steps = _tasks(group).filter(has_text=need_title)
    expect(steps).to_have_count(1)  # accept or decline the pledge
    expect(steps).to_contain_text(f"Accept or decline 16 hours from {supplier_name}")
    reply = _tasks(group).filter(has_text="Reply to Demo supplier about a pledge")
    expect(reply).to_have_count(1)
    reply.get_by_role("link").click()
    group.get_by_label("Your message").fill("The 10th, any time after 9.")
    group.get_by_role("button", name="Send message").click()
    expect(group.locator(".app-message__body")).to_have_text(
        ["Which Saturday suits you? <3", "The 10th, any time after 9."]
    )
    expect(_tasks(group).filter(has_text="Reply to Demo supplier")).to_have_count(0)
    expect(_tasks(supplier).filter(has_text="Reply to Demo community about a pledge")).to_have_count(1)

    # The group accepts; the officer's next step is to approve.
    group.goto(pledge_url)
    group.get_by_role("button", name="Accept pledge").click()
    expect(_tasks(group).filter(has_text=need_title)).to_have_count(0)
    approve = _tasks(officer).filter(has_text=f"Approve or reject 16 hours from {supplier_name} for “{need_title}”")
    expect(approve).to_have_count(1)
    expect(_tasks(supplier).filter(has_text=need_title)).to_have_count(0)

    # The officer approves, after a confirmation page; the supplier's next step is to deliver.
    approve.get_by_role("link").click()
    officer.get_by_role("button", name="Approve pledge").click()  # a link styled as a button
    expect(officer.get_by_role("heading", name="Approve this pledge", level=1)).to_be_visible()
    due = council_today().replace(year=council_today().year + 1, day=1)
    officer.get_by_label("Day").fill(str(due.day))
    officer.get_by_label("Month").fill(str(due.month))
    officer.get_by_label("Year").fill(str(due.year))
    officer.get_by_role("button", name="Approve pledge").click()
    expect(officer.get_by_text("The pledge is approved and counts as a commitment.")).to_be_visible()
    expect(_tasks(officer).filter(has_text=need_title)).to_have_count(0)
    expect(
        _tasks(supplier).filter(has_text=re.compile(rf"^Deliver 16 hours for “{re.escape(need_title)}” by "))
    ).to_have_count(1)
    expect(_tasks(group).filter(has_text=need_title)).to_have_count(0)
    assert group_name  # the group is the demo community group


def _register_from(page: Page, link_name: str, organisation: str, email: str) -> None:
    page.get_by_role("link", name=link_name).click()
    page.get_by_label("A community group").check()
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Your full name").fill("Jo Bell")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    page.goto(confirmation_link(email))
    expect(page.get_by_role("heading", name="Your email address is confirmed", level=1)).to_be_visible()


def test_a_visitor_registers_from_an_offer_and_comes_back_to_it_and_joining_reads_the_same(
    new_page: Callable[..., Page], demo: DemoIds, live_server: LiveServer
) -> None:
    offer_path = f"/offers/{demo.public_offer}"
    tag = uuid.uuid4().hex[:8]
    with live_server.session() as session:
        existing = session.scalar(select(User).where(User.email == EMAIL_BY_ROLE["community"])).organisation.name

    # A new group: registers from the offer's page, confirms, signs in, and is back on the offer.
    newcomer = new_page()
    newcomer.goto(offer_path)
    email = f"jo-{tag}@example.org"
    _register_from(newcomer, "register your organisation to ask for this", f"Fresh Group {tag}", email)
    new_text = newcomer.locator("main").inner_text()
    newcomer.get_by_role("link", name="Sign in and go back to the page you were on").click()
    newcomer.get_by_label("Email address").fill(email)
    newcomer.get_by_label("Password", exact=True).fill("a long enough password")
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer).to_have_url(re.compile(re.escape(offer_path) + "$"))

    # Someone naming an organisation that exists sees the very same words after confirming.
    joiner = new_page()
    joiner.goto(offer_path)
    other = f"kim-{tag}@example.org"
    _register_from(joiner, "register your organisation to ask for this", existing, other)
    join_text = joiner.locator("main").inner_text()
    assert join_text.replace(other, "EMAIL").replace(existing, "ORG") == new_text.replace(email, "EMAIL").replace(
        f"Fresh Group {tag}", "ORG"
    )
    expect(joiner.get_by_role("button", name="Sign out")).to_have_count(0)


def test_a_group_saves_a_search_from_the_results_and_deletes_it(page_as: Callable[[str | None], Page]) -> None:
    tag = uuid.uuid4().hex[:6]
    page = page_as("community")
    page.goto(f"/search?q=minibus+{tag}")
    page.get_by_role("link", name="Save this search").click()
    expect(page.get_by_role("heading", name="Save this search", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"“minibus {tag}” in offers")
    page.get_by_role("button", name="Save this search").click()  # no frequency chosen
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose how often you want the email")
    page.get_by_label("Daily").check()
    page.get_by_role("button", name="Save this search").click()
    expect(page.get_by_text(f"Search saved: “minibus {tag}” in offers.")).to_be_visible()
    row = page.get_by_role("table", name="Your saved searches").get_by_role("row").filter(has_text=tag)
    expect(row).to_contain_text("Daily")
    row.get_by_role("link", name=f"“minibus {tag}” in offers").click()
    expect(page).to_have_url(re.compile(rf"/search\?q=minibus\+{tag}&kind=offer$"))
    page.go_back()
    row.get_by_role("button", name=re.compile("^Delete")).click()
    expect(page.get_by_text(f"Deleted your saved search for “minibus {tag}” in offers.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=tag)).to_have_count(0)


def test_a_second_member_joins_by_the_e_mailed_invitation(
    page_as: Callable[[str | None], Page], new_page: Callable[..., Page]
) -> None:
    email = f"colleague-{uuid.uuid4().hex[:8]}@example.org"
    member = page_as("supplier")
    member.goto("/account/team")
    member.get_by_label("Their email address").fill(email)
    member.get_by_role("button", name="Send invitation").click()
    expect(member.get_by_text(email).first).to_be_visible()

    newcomer = new_page()
    newcomer.goto(confirmation_link(email, "join"))
    expect(newcomer.get_by_role("heading", name=re.compile(r"^Join "), level=1)).to_be_visible()
    newcomer.get_by_label("Your full name").fill("Sam Patel")
    newcomer.get_by_label("Create a password", exact=True).fill("a long enough password")
    newcomer.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    newcomer.get_by_role("button", name="Join").click()
    expect(newcomer.get_by_text(re.compile(r"Welcome to .+\. You are signed in\."))).to_be_visible()

    # The link works once; the team now lists the newcomer.
    again = new_page()
    again.goto(confirmation_link(email, "join"))
    expect(again.get_by_role("heading", name="This link does not work", level=1)).to_be_visible()
    member.goto("/account/team")
    expect(member.get_by_role("row").filter(has_text="Sam Patel")).to_have_count(1)
