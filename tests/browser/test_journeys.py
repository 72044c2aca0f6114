"""What people do with the service, through a real browser: post, pause, verify, register."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Dialog, Page, expect

from marketplace.clock import council_today
from marketplace.demo import DEMO_ACCOUNTS
from tests.browser.support import PledgeIds
from tests.evidence_files import photo_with_gps, plain_pdf

pytestmark = pytest.mark.browser


def _unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:6]}"


def _fill_need_form(page: Page, title: str, description: str, *, with_date: bool = True) -> None:
    page.get_by_label("Title").fill(title)
    page.get_by_label("Describe what you need").fill(description)
    page.get_by_label("Category").select_option(label="Premises and space")
    page.get_by_label("District").select_option(label="Charnwood")
    page.get_by_label("Wellbeing and opportunity").check()
    page.get_by_label("How much or how often (optional)").fill("one evening a month")
    if with_date:
        needed_by = council_today() + timedelta(days=90)
        page.get_by_label("Day").fill(str(needed_by.day))
        page.get_by_label("Month").fill(str(needed_by.month))
        page.get_by_label("Year").fill(str(needed_by.year))


def test_community_member_posts_a_need_that_the_public_can_see(
    page: Page, new_page: Callable[..., Page], signed_in: Callable[[Page, str], None]
) -> None:
    signed_in(page, "community")
    page.get_by_role("link", name="Post a need", exact=True).click()
    expect(page).to_have_url(re.compile(r"/needs/new$"))
    expect(page.get_by_role("heading", name="Post a need", level=1)).to_be_visible()

    title = _unique("Warm room for our carers' group")
    _fill_need_form(page, title, "We meet monthly and need a warm, accessible room with a kettle for 15 people.")
    page.get_by_role("button", name="Save need").click()

    expect(page).to_have_url(re.compile(r"/needs/\d+$"))
    need_url = page.url
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Your need has been posted.")).to_be_visible()
    expect(page.get_by_text("Need from Charnwood Voluntary Action")).to_be_visible()
    summary = page.locator(".govuk-summary-list")
    expect(summary).to_contain_text("Premises and space")
    expect(summary).to_contain_text("Charnwood")
    expect(summary).to_contain_text("Wellbeing and opportunity")
    expect(summary).to_contain_text("one evening a month")
    expect(page.get_by_role("link", name="Change this need")).to_be_visible()

    page.get_by_role("link", name="Your needs", exact=True).click()
    expect(page.get_by_role("heading", name="Your group's needs", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=title)).to_have_attribute("href", re.compile(r"/needs/\d+$"))

    # The demo community group is verified, so a visitor sees the need straight away.
    visitor = new_page()
    visitor.goto("/needs")
    expect(visitor.get_by_role("heading", name="What community groups need", level=1)).to_be_visible()
    visitor.get_by_role("link", name=title).click()
    expect(visitor).to_have_url(need_url)
    expect(visitor.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(visitor.get_by_role("link", name="Change this need")).to_have_count(0)
    expect(visitor.get_by_text("Not yet public")).to_have_count(0)


def test_empty_need_form_shows_an_error_summary_whose_links_focus_the_fields(
    page: Page, signed_in: Callable[[Page, str], None]
) -> None:
    signed_in(page, "community")
    page.goto("/needs/new")
    page.get_by_role("button", name="Save need").click()

    expect(page).to_have_title(re.compile(r"^Error: Post a need"))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    expected = {
        "Enter a title": "#title",
        "Enter a description": "#description",
        "Select a category": "#category",
        "Select a district": "#district",
        "Select at least one outcome": "#outcomes",
    }
    links = summary.get_by_role("link")
    expect(links).to_have_text(list(expected))
    for text, target in expected.items():
        link = summary.get_by_role("link", name=text)
        expect(link).to_have_attribute("href", target)
        link.click()
        expect(page.locator(target)).to_be_focused()
        # Each field shows the same message beside it.
        expect(page.locator(f".govuk-error-message:has-text('{text}')")).to_be_visible()


def test_supplier_posts_an_offer_and_pauses_it(page: Page, signed_in: Callable[[Page, str], None]) -> None:
    signed_in(page, "supplier")
    page.get_by_role("link", name="Your offers", exact=True).click()
    page.get_by_role("link", name="Post an offer").click()
    expect(page.get_by_role("heading", name="Post an offer", level=1)).to_be_visible()

    title = _unique("Meeting room in Loughborough")
    page.get_by_label("Title").fill(title)
    page.get_by_label("Describe what you can offer").fill(
        "Our ground-floor meeting room seats 20, has step-free access and a kitchenette."
    )
    page.get_by_label("Category").select_option(label="Premises and space")
    page.get_by_label("Charnwood", exact=True).check()
    page.get_by_role("button", name="Save offer").click()

    expect(page).to_have_url(re.compile(r"/offers/\d+$"))
    offer_url = page.url
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text("Your offer has been posted.")).to_be_visible()
    expect(page.locator(".govuk-tag", has_text="Open")).to_be_visible()

    page.get_by_role("link", name="Pause this offer").click()
    expect(page).to_have_url(f"{offer_url}/pause")
    expect(page.get_by_role("heading", name=f"Pause “{title}”?", level=1)).to_be_visible()
    expect(page.get_by_text("Community groups will not see this offer until you resume it.")).to_be_visible()
    page.get_by_role("button", name="Pause offer").click()

    expect(page).to_have_url(offer_url)
    expect(page.get_by_text("Your offer has been paused.")).to_be_visible()
    expect(page.locator(".govuk-tag", has_text="Paused")).to_be_visible()
    expect(page.get_by_role("link", name="Resume this offer")).to_be_visible()
    expect(page.get_by_role("link", name="Pause this offer")).to_have_count(0)


def test_visitor_registers_a_community_group_and_is_told_it_is_not_yet_public(
    page: Page, registered: Callable[..., str]
) -> None:
    organisation = registered(page, role="community")

    expect(page).to_have_url(re.compile(r"/account$"))
    banner = page.get_by_role("region", name="Not yet public")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(f"{organisation} has not been verified by the council yet.")
    expect(page.locator(".govuk-summary-list")).to_contain_text("Not yet")
    expect(page.get_by_role("link", name="Your needs")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_signing_out_ends_the_session(page: Page, signed_in: Callable[[Page, str], None]) -> None:
    signed_in(page, "supplier")
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="Give and get help in your community", level=1)).to_be_visible()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in", exact=True).first).to_be_visible()
    page.goto("/account")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=(%2F|/)account$"))
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()


def test_officer_verifies_a_waiting_organisation(
    page: Page, new_page: Callable[..., Page], signed_in: Callable[[Page, str], None], registered: Callable[..., str]
) -> None:
    organisation = registered(new_page(), role="supplier", organisation=_unique("Quorn Hire Ltd"))

    signed_in(page, "officer")
    page.get_by_role("link", name="Officer dashboard", exact=True).click()
    expect(page.get_by_role("heading", name="Officer dashboard", level=1)).to_be_visible()
    page.get_by_role("link", name="Organisations to verify").click()
    expect(page).to_have_url(re.compile(r"/officer/organisations$"))
    waiting = page.get_by_role("table", name="Organisations waiting for verification")
    row = waiting.get_by_role("row").filter(has_text=organisation)
    expect(row).to_contain_text("Supplier")
    row.get_by_role("link", name=f"Verify {organisation}").click()

    # Nothing is decided yet: the officer reads what will happen, then confirms.
    expect(page.get_by_role("heading", name=f"Verify {organisation}?", level=1)).to_be_visible()
    expect(page.get_by_text("is public")).to_be_visible()
    page.get_by_role("button", name="Verify organisation").click()
    expect(page).to_have_url(re.compile(r"/officer/organisations$"))
    expect(page.get_by_text(f"{organisation} is verified. What it posts is now public.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=organisation)).to_have_count(0)


def test_markup_and_emoji_in_a_need_are_shown_as_text(
    page: Page, new_page: Callable[..., Page], signed_in: Callable[[Page, str], None]
) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    signed_in(page, "community")
    page.goto("/needs/new")
    token = f"tok{uuid.uuid4().hex[:6]}"
    title = f"Tea & cake <script>alert(1)</script> 🎉 {token}"
    description = "Bring <b>cake</b> 🍰 and <img src=x onerror=alert(2)> for our café volunteers, please."
    _fill_need_form(page, title, description, with_date=False)
    page.get_by_role("button", name="Save need").click()

    expect(page).to_have_url(re.compile(r"/needs/\d+$"))
    need_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("p.app-pre-wrap")).to_have_text(description)
    expect(page.locator("main script, main img, main b")).to_have_count(0)
    expect(page).to_have_title(re.compile(re.escape(title)))
    expect(page.locator(".govuk-summary-list")).to_contain_text("No date given")

    visitor = new_page()
    visitor.on("dialog", on_dialog)
    visitor.goto("/needs")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()
    visitor.goto(need_url)
    expect(visitor.get_by_role("heading", level=1)).to_have_text(title)
    visitor.goto("/")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()
    # Search highlights matches in titles and snippets, so it builds HTML: it must still escape.
    visitor.goto(f"/search?q={token}")
    expect(visitor.get_by_role("link", name=title)).to_be_visible()
    expect(visitor.locator("main script, main img, main b")).to_have_count(0)
    assert dialogs == [], f"a script in user content ran: {dialogs}"


def test_a_need_is_pledged_approved_delivered_and_confirmed_by_three_people(
    new_page: Callable[..., Page], signed_in: Callable[[Page, str], None]
) -> None:
    """The issue's whole journey, each person in their own browser: group, supplier and officer."""
    group, supplier, officer = new_page(), new_page(), new_page()
    supplier_name = next(a.organisation for a in DEMO_ACCOUNTS if a.role == "supplier")
    group_name = next(a.organisation for a in DEMO_ACCOUNTS if a.role == "community")

    def status_is(page: Page, status: str) -> None:
        expect(page.locator("main p .govuk-tag").first).to_have_text(status)

    # The community member posts a need through the form.
    signed_in(group, "community")
    group.goto("/needs/new")
    title = _unique("Volunteers to tidy our community garden")
    _fill_need_form(group, title, "Our garden beds are overgrown; we need a team for a day to weed and mulch them.")
    group.get_by_role("button", name="Save need").click()
    expect(group.get_by_text("Your need has been posted.")).to_be_visible()
    need_url = group.url

    # The supplier finds it among the needs and pledges to meet it.
    signed_in(supplier, "supplier")
    supplier.get_by_role("link", name="Needs", exact=True).click()
    expect(supplier.get_by_role("heading", name="What community groups need", level=1)).to_be_visible()
    supplier.get_by_role("link", name=title).click()
    expect(supplier).to_have_url(need_url)
    supplier.get_by_role("link", name="Pledge to meet this need").click()
    expect(supplier.get_by_role("heading", name=f"Pledge to “{title}”", level=1)).to_be_visible()
    valuation = supplier.locator("#valuation")
    expect(valuation).to_have_text("The £ value is the amount × the council’s £ value of one unit of the measure.")
    supplier.get_by_label("How is it measured?").select_option(
        label="Employee volunteering time on a community project (hour)"
    )
    supplier.get_by_label("How much, in that unit?").fill("12")
    expect(valuation).to_have_text("Value if approved: £203.16 (12 × £16.93).")
    supplier.get_by_label("How much, in that unit?").fill("20")
    expect(valuation).to_have_text("Value if approved: £338.60 (20 × £16.93).")
    supplier.get_by_label("Message to the group (optional)").fill("A team of eight can come on a Saturday in June.")
    supplier.get_by_role("button", name="Make pledge").click()
    # Volunteering hours do not usually value help with premises: the supplier is asked again.
    expect(supplier.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(supplier.get_by_text("does not usually fit a premises and space need").first).to_be_visible()
    supplier.get_by_label("I have checked: this measure is the fair way to value this help").check()
    supplier.get_by_role("button", name="Make pledge").click()

    expect(supplier).to_have_url(re.compile(r"/pledges/\d+$"))
    pledge_url = supplier.url
    expect(supplier.get_by_text(f"Your pledge has been sent to {group_name}.")).to_be_visible()
    expect(supplier.get_by_role("heading", name=f"Pledge to “{title}”", level=1)).to_be_visible()
    status_is(supplier, "Proposed")
    expect(supplier.locator(".govuk-summary-list")).to_contain_text("20 hours")
    expect(supplier.locator(".govuk-summary-list")).to_contain_text("Set when the council approves it")
    # Before the group accepts, the supplier cannot see how to reach it.
    expect(
        supplier.get_by_text(f"You will see how to contact {group_name} once they accept your pledge.")
    ).to_be_visible()
    expect(supplier.get_by_role("heading", name=f"Contact {group_name}")).to_have_count(0)
    expect(supplier.locator("main a[href^='mailto:']")).to_have_count(0)

    # The community member finds the pledge under "Pledges" and accepts it.
    group.get_by_role("link", name="Pledges", exact=True).click()
    expect(group.get_by_role("heading", name="Pledges to your group", level=1)).to_be_visible()
    row = group.get_by_role("row").filter(has_text=title)
    expect(row).to_contain_text(supplier_name)
    expect(row).to_contain_text("Proposed")
    row.get_by_role("link", name=re.compile(r"^View")).click()
    expect(group).to_have_url(pledge_url)
    expect(group.locator(".govuk-summary-list")).to_contain_text("A team of eight can come on a Saturday in June.")
    group.get_by_role("button", name="Accept pledge").click()
    expect(group.get_by_text("You accepted the pledge. The council will now check it.")).to_be_visible()
    status_is(group, "Accepted")
    expect(group.get_by_role("button", name="Accept pledge")).to_have_count(0)

    # Now the supplier sees the group's contact details.
    supplier.reload()
    status_is(supplier, "Accepted")
    expect(supplier.get_by_role("heading", name=f"Contact {group_name}")).to_be_visible()
    expect(supplier.get_by_role("link", name="community@example.org")).to_have_attribute(
        "href", "mailto:community@example.org"
    )
    expect(supplier.get_by_role("link", name="Mark as delivered")).to_have_count(0)

    # The officer approves it from the queue.
    signed_in(officer, "officer")
    officer.get_by_role("link", name="Officer dashboard", exact=True).click()
    officer.get_by_role("link", name="Pledges to approve").click()
    expect(officer.get_by_role("heading", name="Pledges to approve", level=1)).to_be_visible()
    queued = (
        officer.get_by_role("table", name="Accepted pledges waiting for approval")
        .get_by_role("row")
        .filter(has_text=title)
    )
    expect(queued).to_contain_text(supplier_name)
    expect(queued).to_contain_text("£338.60")
    queued.get_by_role("link", name=f"Approve pledge from {supplier_name} for {title}").click()
    # The approval page shows the value and the date before the officer confirms.
    expect(officer.get_by_role("heading", name="Approve this pledge", level=1)).to_be_visible()
    expect(officer.get_by_text("counts as a social value commitment at the value above")).to_be_visible()
    officer.get_by_role("button", name="Approve pledge").click()
    expect(officer).to_have_url(pledge_url)
    expect(officer.get_by_text("The pledge is approved and counts as a commitment.")).to_be_visible()
    status_is(officer, "Approved")
    expect(officer.locator(".govuk-summary-list")).to_contain_text(
        "£338.60 (20 hours at £16.93 each, the council’s value when it was approved)"
    )
    officer.goto("/officer/pledges")
    expect(officer.get_by_role("row").filter(has_text=title)).to_have_count(0)

    # The supplier adds two photos and a PDF, declares, and marks it delivered.
    supplier.reload()
    status_is(supplier, "Approved")
    expect(supplier.locator(".govuk-summary-list")).to_contain_text("Deliver by")
    supplier.get_by_role("button", name="Add evidence and mark as delivered").click()
    expect(supplier.get_by_role("heading", name="Evidence of delivery", level=1)).to_be_visible()
    supplier.get_by_label("Add photos or documents").set_input_files([
        {"name": "beds-before.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps("brown")},
        {"name": "beds-after.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps("green")},
        {"name": "sign-in-sheet.pdf", "mimeType": "application/pdf", "buffer": plain_pdf()},
    ])  # fmt: skip
    supplier.get_by_role("button", name="Add files").click()
    expect(supplier.get_by_text("3 files added.")).to_be_visible()
    expect(supplier.locator("#evidence-files tbody tr")).to_have_count(3)
    supplier.get_by_role("link", name="Continue to mark as delivered").click()
    expect(supplier.get_by_role("heading", name="Mark your pledge as delivered", level=1)).to_be_visible()
    supplier.get_by_label("What did you deliver?").fill("Eight volunteers weeded and mulched all six beds on 14 June.")
    supplier.get_by_role("checkbox", name=re.compile("not reported as social value")).check()
    supplier.get_by_role("button", name="Mark as delivered").click()
    expect(supplier).to_have_url(pledge_url)
    expect(supplier.get_by_text("Your delivery and its evidence have gone to the council to check.")).to_be_visible()
    status_is(supplier, "Delivered")

    # The group cannot confirm before the council has checked the evidence.
    group.reload()
    status_is(group, "Delivered")
    expect(group.get_by_role("button", name="Confirm it was delivered")).to_have_count(0)

    # The officer finds it in the evidence queue and asks for more.
    officer.goto("/officer/pledges")
    officer.locator("#evidence ~ table").get_by_role("link", name=title).click()
    expect(officer).to_have_url(pledge_url)
    officer.get_by_role("link", name="Ask for more evidence").click()
    officer.get_by_label("Reason").fill("Please add the photo of the finished beds with the group's sign.")
    officer.get_by_role("button", name="Ask for more evidence").click()
    expect(officer.get_by_text("The supplier has been asked for more evidence.")).to_be_visible()

    # The supplier adds another photo and sends it again.
    supplier.reload()
    expect(supplier.get_by_text("Please add the photo of the finished beds").first).to_be_visible()
    supplier.get_by_role("button", name="Add more evidence").click()
    supplier.get_by_label("Add photos or documents").set_input_files(
        [{"name": "sign.jpg", "mimeType": "image/jpeg", "buffer": photo_with_gps("white")}]
    )
    supplier.get_by_role("button", name="Add files").click()
    expect(supplier.get_by_text("1 file added.")).to_be_visible()
    supplier.get_by_role("link", name="Continue to mark as delivered").click()
    supplier.get_by_role("checkbox", name=re.compile("not reported as social value")).check()
    supplier.get_by_role("button", name="Send to the council again").click()
    expect(supplier.get_by_text("Your delivery and its evidence have gone to the council to check.")).to_be_visible()

    # The officer accepts the evidence; the group confirms and says the need is met.
    officer.reload()
    officer.get_by_role("button", name="Accept evidence").click()
    expect(officer.get_by_text("The evidence is accepted.")).to_be_visible()
    group.reload()
    group.get_by_label("Yes, the need is met: take it off the marketplace").check()
    group.get_by_role("button", name="Confirm it was delivered").click()
    expect(group.get_by_text("Thank you. The pledge is confirmed as delivered.")).to_be_visible()
    status_is(group, "Confirmed")
    history = group.get_by_role("table", name="Every step of this pledge").locator("tbody tr")
    expect(history).to_have_count(8)
    expect(history.nth(4)).to_contain_text("more evidence needed")
    expect(history.nth(7)).to_contain_text("the group says the need is now met")

    # Everyone sees the same end: the supplier's list and the need's pledges say it is confirmed.
    supplier.get_by_role("link", name="Pledges", exact=True).click()
    expect(supplier.get_by_role("heading", name="Pledges you made", level=1)).to_be_visible()
    expect(supplier.get_by_role("row").filter(has_text=title)).to_contain_text("Confirmed")
    group.goto(need_url)
    expect(
        group.get_by_role("table", name="Pledges to this need").get_by_role("row").filter(has_text=supplier_name)
    ).to_contain_text("Confirmed")


def test_a_pledge_page_links_to_its_need(page_as: Callable[[str | None], Page], pledges: PledgeIds) -> None:
    """The "Need" row is a link to the need, not its HTML shown as text."""
    page = page_as("supplier")
    page.goto(f"/pledges/{pledges.proposed}")
    need_row = page.locator(".govuk-summary-list__row").filter(has=page.get_by_text("Need", exact=True))
    expect(need_row).not_to_contain_text("<a ", timeout=1_000)  # the page is static: no need to wait
    expect(need_row.get_by_role("link", name=pledges.need_title)).to_have_attribute("href", f"/needs/{pledges.need}")
    expect(need_row).to_contain_text("(Charnwood Voluntary Action)")
