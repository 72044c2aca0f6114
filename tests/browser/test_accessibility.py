"""Every page the service has, scanned with axe-core for WCAG 2.2 AA failures, as the right person.

Each page is its own test, so a report names the page that fails. Some states of a page
(a form with errors, a new token, a flash message) are scanned separately because they
add components to it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.support import EMAIL_BY_ROLE, DemoIds, PledgeIds, confirmation_link, register

pytestmark = pytest.mark.browser

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    "resultTypes": ["violations"],
}
SCREENSHOTS = {
    "start",
    "needs",
    "need-detail-owner",
    "need-form-errors",
    "offer-form",
    "register-errors",
    "account-unverified",
    "tokens-created",
    "officer-organisations",
    "forbidden",
    "search-results",
}
# Pages of pledges, contracts, measures and the officer's new tools, kept apart from the older set.
NEW_SCREENS_DIR = Path("/tmp/screens2")
NEW_SCREENSHOTS = {
    "pledge-form-valued",
    "pledge-form-errors",
    "pledge-detail-supplier-proposed",
    "pledge-detail-supplier-approved",
    "pledge-detail-group-delivered",
    "pledge-detail-officer-accepted",
    "pledge-deliver-errors",
    "officer-dashboard-unhelped-needs",
    "officer-queue",
    "saved-search-new",
    "saved-search-new-errors",
    "saved-searches",
    "register-confirmed",
    "officer-audit-filtered",
    "officer-contracts",
    "officer-contract-new-errors",
    "officer-measures",
    "officer-measure-new-errors",
    "officer-assisted-need-errors",
    "account-pledges-supplier",
    "supplier-contracts",
    "officer-reports",
    "impact",
}

Action = Callable[[Page, DemoIds], None]


@dataclass(frozen=True)
class Visit:
    """How to reach one page (in one state) and what its main heading says."""

    id: str
    role: str | None
    path: str  # formatted with the demo ids and the pledges, like "/needs/{d.own_need}" or "/pledges/{p.proposed}"
    heading: str | re.Pattern[str]
    then: Action | None = None  # what to do once there, like submitting the form empty
    status: int = 200
    fresh: bool = False  # True when ``then`` changes who is signed in: use a new browser context


def _click(name: str) -> Action:
    def act(page: Page, _: DemoIds) -> None:
        page.get_by_role("button", name=name, exact=True).click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()

    return act


def _clear_title_and_save(button: str) -> Action:
    def act(page: Page, _: DemoIds) -> None:
        page.get_by_label("Title").fill("")
        page.get_by_role("button", name=button).click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a title")

    return act


def _clear_and_save(label: str, button: str) -> Action:
    def act(page: Page, _: DemoIds) -> None:
        page.get_by_label(label, exact=True).fill("")
        page.get_by_role("button", name=button, exact=True).click()
        expect(page.locator(".govuk-error-summary")).to_be_visible()

    return act


def _see(role: str, name: str | re.Pattern[str]) -> Action:
    """Check the page shows what the state is about (a table with rows, a button), so the scan covers it."""

    def act(page: Page, _: DemoIds) -> None:
        expect(page.get_by_role(role, name=name, exact=True)).to_be_visible()  # type: ignore[arg-type]
        if role == "table":
            expect(page.get_by_role(role, name=name, exact=True).locator("tbody tr").first).to_be_visible()

    return act


def _value_a_pledge(page: Page, _: DemoIds) -> None:
    page.get_by_label("How is it measured?").select_option("volunteering-hours")
    page.get_by_label("How much, in that unit?").fill("12")
    expect(page.locator("#valuation")).to_have_text(re.compile(r"^Value if approved: £203\.16 "))


def _pledge_from_an_offer(page: Page, _: DemoIds) -> None:
    # The state with the measure question replaced by the offer's measure.
    offer = page.get_by_label("From which of your offers? (optional)")
    offer.select_option(label=offer.locator("option", has_text=", counted in ").first.inner_text())
    expect(page.locator("[data-pledge-offer-measure]")).to_be_visible()


def _create_token(page: Page, _: DemoIds) -> None:
    page.get_by_label("Token name").fill(f"CRM sync {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Your new token")).to_be_visible()


def _opened_weaker_matches(page: Page, _: DemoIds) -> None:
    # Weaker suggestions sit behind "Show weaker matches": open it so they are checked too.
    summary = page.get_by_text(re.compile(r"^Show weaker matches \(\d+\)$"))
    expect(summary).to_have_count(1)
    summary.click()
    expect(page.locator("details.govuk-details[open] .app-card").first).to_be_visible()


def _wrong_password(page: Page, _: DemoIds) -> None:
    page.get_by_label("Email address").fill("community@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _register_new_group(page: Page, _: DemoIds) -> None:
    register(page, role="community")
    expect(page.get_by_role("region", name="Not yet public")).to_be_visible()


def _registered_not_confirmed(page: Page, _: DemoIds) -> None:
    page.get_by_label("A community group").check()
    page.get_by_label("Organisation name").fill("Axe Check Group")
    page.get_by_label("Your full name").fill("Sam Tester")
    page.get_by_label("Email address").fill("axe-check@example.org")
    page.get_by_label("Create a password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Register").click()


def _asked_for_reset(page: Page, _: DemoIds) -> None:
    page.get_by_label("Email address").fill(EMAIL_BY_ROLE["supplier"])
    page.get_by_role("button", name="Send the link").click()


def _opened_reset_link(page: Page, demo: DemoIds) -> None:
    _asked_for_reset(page, demo)
    page.goto(confirmation_link(EMAIL_BY_ROLE["supplier"], "reset-password"))


def _reset_with_a_short_password(page: Page, demo: DemoIds) -> None:
    _opened_reset_link(page, demo)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm your new password").fill("short")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _save_a_search(page: Page, _: DemoIds) -> None:
    # A new search each time: the same search saved twice is refused.
    page.goto(f"/account/saved-searches/new?q=hall+{uuid.uuid4().hex[:6]}&category=premises")
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Save this search").click()
    expect(page.get_by_role("table", name="Your saved searches").locator("tbody tr").first).to_be_visible()


def _registered_and_confirmed(page: Page, _: DemoIds) -> None:
    email = f"axe-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("A community group").check()
    page.get_by_label("Organisation name").fill(f"Axe Confirmed Group {email[4:12]}")
    page.get_by_label("Your full name").fill("Sam Tester")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    page.goto(confirmation_link(email))


def _confirmed_twice(page: Page, demo: DemoIds) -> None:
    _registered_and_confirmed(page, demo)
    page.goto(page.url)  # the link opened again


def _send_feedback(page: Page, _: DemoIds) -> None:
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("How could we improve this service?").fill("Show the closing date on the list")
    page.get_by_role("button", name="Send feedback").click()


def _redirected_to_sign_in(page: Page, _: DemoIds) -> None:
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_text("Sign in to continue.")).to_be_visible()


def _invite_and_open_the_link(page: Page, _: DemoIds) -> None:
    email = f"colleague-{uuid.uuid4().hex[:8]}@example.org"
    page.get_by_label("Their email address").fill(email)
    page.get_by_role("button", name="Send invitation").click()
    page.context.clear_cookies()
    page.goto(confirmation_link(email, "join"))


VISITS = [
    # Public pages
    Visit("start", None, "/", "Give and get help in your community"),
    Visit("start-signed-in", "community", "/", "Give and get help in your community"),
    Visit("needs", None, "/needs", "What community groups need"),
    Visit(
        "needs-filtered",
        None,
        "/needs?category=premises&district=Charnwood&outcome=wellbeing-and-opportunity&status=open",
        "What community groups need",
    ),
    Visit("needs-filter-errors", None, "/needs?category=no-such-category&page=none", "What community groups need"),
    Visit("needs-page-2", None, "/needs?page=2", "What community groups need"),
    Visit("needs-any-status-officer", "officer", "/needs?status=any", "What community groups need"),
    Visit("need-detail", None, "/needs/{d.public_need}", re.compile(".")),
    Visit("need-detail-owner", "community", "/needs/{d.own_need}", re.compile(".")),
    Visit("need-detail-unverified-officer", "officer", "/needs/{d.unverified_need}", re.compile(".")),
    Visit("offers", None, "/offers", re.compile("offer", re.IGNORECASE)),
    Visit("offers-filtered", None, "/offers?category=premises&district=Charnwood", re.compile("offer", re.I)),
    Visit("offers-page-2", None, "/offers?page=2", re.compile("offer", re.IGNORECASE)),
    Visit("offer-detail", None, "/offers/{d.public_offer}", re.compile(".")),
    Visit("offer-detail-owner", "supplier", "/offers/{d.own_offer}", re.compile(".")),
    Visit("search", None, "/search", "Search needs and offers"),
    Visit("search-results", None, "/search?q=room", "Search needs and offers"),
    Visit("search-results-filtered", "supplier", "/search?q=room&kind=need", "Search needs and offers"),
    Visit("supplier-suggested-needs", "supplier", "/supplier/suggested-needs", re.compile(".")),
    Visit(
        "supplier-suggested-needs-weaker",
        "supplier",
        "/supplier/suggested-needs",
        re.compile("."),
        then=_opened_weaker_matches,
    ),
    Visit(
        "need-detail-weaker-matches", "community", "/needs/{d.own_need}", re.compile("."), then=_opened_weaker_matches
    ),
    # Signing in and registering
    Visit("sign-in", None, "/sign-in", "Sign in"),
    Visit("sign-in-errors", None, "/sign-in", "Sign in", then=_click("Sign in")),
    Visit("sign-in-wrong-password", None, "/sign-in", "Sign in", then=_wrong_password),
    Visit("sign-in-after-redirect", None, "/needs/new", "Sign in", then=_redirected_to_sign_in),
    Visit("register", None, "/register", "Register your organisation"),
    Visit("register-errors", None, "/register", "Register your organisation", then=_click("Register")),
    Visit("register-check-email", None, "/register", "Check your email", then=_registered_not_confirmed, fresh=True),
    Visit("forgot-password", None, "/forgot-password", "Reset your password"),
    Visit("forgot-password-errors", None, "/forgot-password", "Reset your password", then=_click("Send the link")),
    Visit("forgot-password-sent", None, "/forgot-password", "Check your email", then=_asked_for_reset),
    Visit("reset-password", None, "/forgot-password", "Choose a new password", then=_opened_reset_link),
    Visit(
        "reset-password-errors", None, "/forgot-password", "Choose a new password", then=_reset_with_a_short_password
    ),
    Visit("reset-link-not-valid", None, "/reset-password/not-a-real-link", "This link does not work", status=400),
    # Needs
    Visit("need-form", "community", "/needs/new", "Post a need"),
    Visit("need-form-errors", "community", "/needs/new", "Post a need", then=_click("Save need")),
    Visit("need-edit", "community", "/needs/{d.own_need}/edit", "Change your need"),
    Visit(
        "need-edit-errors",
        "community",
        "/needs/{d.own_need}/edit",
        "Change your need",
        then=_clear_title_and_save("Save need"),
    ),
    Visit("need-withdraw-confirm", "community", "/needs/{d.own_need}/withdraw", re.compile(r"^Withdraw “")),
    # Offers
    Visit("offer-form", "supplier", "/offers/new", "Post an offer"),
    Visit("offer-form-errors", "supplier", "/offers/new", "Post an offer", then=_click("Save offer")),
    Visit("offer-edit", "supplier", "/offers/{d.own_offer}/edit", "Change your offer"),
    Visit(
        "offer-edit-errors",
        "supplier",
        "/offers/{d.own_offer}/edit",
        "Change your offer",
        then=_clear_title_and_save("Save offer"),
    ),
    Visit("offer-pause-confirm", "supplier", "/offers/{d.own_offer}/pause", re.compile(r"^Pause “")),
    Visit("offer-resume-confirm", "supplier", "/offers/{d.own_offer}/resume", re.compile(r"^Resume “")),
    Visit("offer-withdraw-confirm", "supplier", "/offers/{d.own_offer}/withdraw", re.compile(r"^Withdraw “")),
    # The signed-in area
    Visit("account-community", "community", "/account", "Your account"),
    Visit("account-supplier", "supplier", "/account", "Your account"),
    Visit("account-officer", "officer", "/account", "Your account"),
    Visit("account-unverified", None, "/", "Your account", then=_register_new_group, fresh=True),
    Visit("account-needs", "community", "/account/needs", "Your group's needs"),
    Visit("account-offers", "supplier", "/account/offers", "Your offers"),
    Visit("account-close", "community", "/account/close", "Close your account"),
    Visit("account-close-errors", "community", "/account/close", "Close your account", then=_click("Close my account")),
    Visit("tokens", "supplier", "/account/tokens", "API tokens"),
    Visit("tokens-errors", "supplier", "/account/tokens", "API tokens", then=_click("Create token")),
    Visit("tokens-created", "community", "/account/tokens", "API tokens", then=_create_token),
    # The officer's area
    Visit("officer-dashboard", "officer", "/officer", "Officer dashboard"),
    Visit("officer-organisations", "officer", "/officer/organisations", "Organisations to check"),
    Visit(
        "officer-reject", "officer", "/officer/organisations/{d.waiting_organisation}/reject", re.compile(r"^Reject ")
    ),
    Visit("officer-pledges-all", "officer", "/officer/pledges/all?status=proposed", "All pledges"),
    Visit("officer-pledges-errors", "officer", "/officer/pledges/all?status=nothing", "All pledges"),
    Visit("officer-organisation", "officer", "/officer/organisations/{d.waiting_organisation}", re.compile(".")),
    Visit(
        "officer-verify", "officer", "/officer/organisations/{d.waiting_organisation}/verify", re.compile(r"^Verify ")
    ),
    Visit(
        "officer-dashboard-unhelped-needs",
        "officer",
        "/officer",
        "Officer dashboard",
        then=_see("table", "Open needs with no pledge, waiting longest first"),
    ),
    Visit(
        "officer-queue",
        "officer",
        "/officer/pledges",
        "Pledges to approve",
        then=_see("table", "Accepted pledges waiting for approval"),
    ),
    Visit(
        "officer-audit", "officer", "/officer/audit", "Audit log", then=_see("table", re.compile(r"^\d+ entr(y|ies)"))
    ),
    Visit(
        "officer-audit-filtered",
        "officer",
        "/officer/audit?action=pledge.reject&entity_type=pledge",
        "Audit log",
        then=_see("table", re.compile(r"^[1-9]\d* entr(y|ies)")),
    ),
    Visit("officer-audit-filter-errors", "officer", "/officer/audit?action=no.such&entity_type=nothing", "Audit log"),
    Visit("officer-contracts", "officer", "/officer/contracts", "Contracts"),
    Visit("officer-contract-new", "officer", "/officer/contracts/new", "Register a contract"),
    Visit(
        "officer-contract-new-errors",
        "officer",
        "/officer/contracts/new",
        "Register a contract",
        then=_click("Save contract"),
    ),
    Visit("officer-contract-edit", "officer", "/officer/contracts/{p.contract}/edit", re.compile(r"^Change contract ")),
    Visit(
        "officer-contract-edit-errors",
        "officer",
        "/officer/contracts/{p.contract}/edit",
        re.compile(r"^Change contract "),
        then=_clear_and_save("Title", "Save contract"),
    ),
    Visit("officer-measures", "officer", "/officer/measures", "Social value measures"),
    Visit("officer-measure-new", "officer", "/officer/measures/new", "Add a measure"),
    Visit(
        "officer-measure-new-errors", "officer", "/officer/measures/new", "Add a measure", then=_click("Save measure")
    ),
    Visit("officer-measure-edit", "officer", "/officer/measures/volunteering-hours/edit", re.compile(r"^Change “")),
    Visit(
        "officer-measure-edit-errors",
        "officer",
        "/officer/measures/volunteering-hours/edit",
        re.compile(r"^Change “"),
        then=_clear_and_save("Name", "Save measure"),
    ),
    Visit("officer-assisted-need", "officer", "/officer/needs/new", "Post a need for a group"),
    Visit(
        "officer-assisted-need-errors",
        "officer",
        "/officer/needs/new",
        "Post a need for a group",
        then=_click("Save need"),
    ),
    # Pledges (the need and its pledges are made by the ``pledges`` fixture)
    Visit("need-detail-supplier", "supplier", "/needs/{p.need}", re.compile("^Volunteers to paint")),
    Visit("need-detail-with-pledges-group", "community", "/needs/{p.need}", re.compile("^Volunteers to paint")),
    Visit("pledge-form", "supplier", "/needs/{p.need}/pledge", re.compile(r"^Pledge to “")),
    Visit(
        "pledge-form-valued", "supplier", "/needs/{p.need}/pledge", re.compile(r"^Pledge to “"), then=_value_a_pledge
    ),
    Visit(
        "pledge-form-from-offer",
        "supplier",
        "/needs/{p.need}/pledge",
        re.compile(r"^Pledge to “"),
        then=_pledge_from_an_offer,
    ),
    Visit(
        "pledge-form-errors",
        "supplier",
        "/needs/{p.need}/pledge",
        re.compile(r"^Pledge to “"),
        then=_click("Make pledge"),
    ),
    Visit("pledge-form-officer", "officer", "/needs/{p.need}/pledge", re.compile(r"^Pledge to “")),
    Visit(
        "pledge-form-officer-errors",
        "officer",
        "/needs/{p.need}/pledge",
        re.compile(r"^Pledge to “"),
        then=_click("Make pledge"),
    ),
    Visit("pledge-detail-supplier-proposed", "supplier", "/pledges/{p.proposed}", re.compile(r"^Pledge to “")),
    Visit("pledge-detail-supplier-approved", "supplier", "/pledges/{p.approved}", re.compile(r"^Pledge to “")),
    Visit("pledge-detail-supplier-rejected", "supplier", "/pledges/{p.rejected}", re.compile(r"^Pledge to “")),
    Visit(
        "pledge-detail-group-proposed",
        "community",
        "/pledges/{p.proposed}",
        re.compile(r"^Pledge to “"),
        then=_see("button", "Accept pledge"),
    ),
    Visit(
        "pledge-detail-group-delivered",
        "community",
        "/pledges/{p.checked}",
        re.compile(r"^Pledge to “"),
        then=_see("button", "Confirm it was delivered"),
    ),
    Visit(
        "pledge-detail-group-delivered-unchecked",
        "community",
        "/pledges/{p.delivered}",
        re.compile(r"^Pledge to “"),
        then=_see("link", "It did not happen, or there is a problem"),
    ),
    Visit(
        "pledge-detail-officer-delivered",
        "officer",
        "/pledges/{p.delivered}",
        re.compile(r"^Pledge to “"),
        then=_see("button", "Accept evidence"),
    ),
    Visit("pledge-approve", "officer", "/pledges/{p.accepted}/approve", "Approve this pledge"),
    Visit("pledge-evidence-supplier", "supplier", "/pledges/{p.approved}/evidence", "Evidence of delivery"),
    Visit(
        "pledge-evidence-errors",
        "supplier",
        "/pledges/{p.approved}/evidence",
        "Evidence of delivery",
        then=_click("Add files"),
    ),
    Visit("pledge-evidence-officer", "officer", "/pledges/{p.delivered}/evidence", "Evidence of delivery"),
    Visit("pledge-request-evidence", "officer", "/pledges/{p.delivered}/request-evidence", "Ask for more evidence"),
    Visit(
        "pledge-dispute",
        "community",
        "/pledges/{p.delivered}/dispute",
        "Tell the council about a problem with this delivery",
    ),
    Visit("pledge-detail-group-confirmed", "community", "/pledges/{p.confirmed}", re.compile(r"^Pledge to “")),
    Visit(
        "pledge-detail-officer-accepted",
        "officer",
        "/pledges/{p.accepted}",
        re.compile(r"^Pledge to “"),
        then=_see("button", "Approve pledge"),
    ),
    Visit("pledge-detail-officer-confirmed", "officer", "/pledges/{p.confirmed}", re.compile(r"^Pledge to “")),
    Visit("pledge-deliver", "supplier", "/pledges/{p.approved}/deliver", "Mark your pledge as delivered"),
    Visit(
        "pledge-deliver-errors",
        "supplier",
        "/pledges/{p.approved}/deliver",
        "Mark your pledge as delivered",
        then=_click("Mark as delivered"),
    ),
    Visit("pledge-decline", "community", "/pledges/{p.proposed}/decline", "Decline this pledge?"),
    Visit("pledge-cancel", "supplier", "/pledges/{p.approved}/cancel", "Cancel your pledge?"),
    Visit("pledge-reject", "officer", "/pledges/{p.accepted}/reject", "Reject this pledge?"),
    Visit(
        "pledge-reject-errors",
        "officer",
        "/pledges/{p.accepted}/reject",
        "Reject this pledge?",
        then=_click("Reject pledge"),
    ),
    Visit("account-pledges-supplier", "supplier", "/account/pledges", "Pledges you made"),
    Visit("account-pledges-group", "community", "/account/pledges", "Pledges to your group"),
    Visit("supplier-contracts", "supplier", "/supplier/contracts", "Your contracts"),
    # Requests for offers, messages and teams
    Visit("offer-ask", "community", "/offers/{d.own_offer}/ask", re.compile(r"^Ask for “")),
    Visit(
        "offer-ask-errors",
        "community",
        "/offers/{d.own_offer}/ask",
        re.compile(r"^Ask for “"),
        then=_click("Send request"),
    ),
    Visit("request-supplier", "supplier", "/requests/{p.request}", re.compile(r"^Request for “")),
    Visit("request-group", "community", "/requests/{p.request}", re.compile(r"^Request for “")),
    Visit(
        "request-message-errors",
        "supplier",
        "/requests/{p.request}",
        re.compile(r"^Request for “"),
        then=_click("Send message"),
    ),
    Visit("request-decline", "supplier", "/requests/{p.request}/decline", "Decline this request?"),
    Visit(
        "request-decline-errors",
        "supplier",
        "/requests/{p.request}/decline",
        "Decline this request?",
        then=_click("Decline request"),
    ),
    Visit("requests-supplier", "supplier", "/account/requests", "Requests for your offers"),
    Visit("requests-group", "community", "/account/requests", "Your requests for offers"),
    Visit(
        "pledge-message-errors",
        "community",
        "/pledges/{p.proposed}",
        re.compile(r"^Pledge to “"),
        then=_click("Send message"),
    ),
    Visit("team", "community", "/account/team", "Your team"),
    Visit("team-errors", "supplier", "/account/team", "Your team", then=_click("Send invitation")),
    Visit("join", "supplier", "/account/team", re.compile(r"^Join "), then=_invite_and_open_the_link, fresh=True),
    Visit("join-link-not-valid", None, "/join/not-a-real-link", "This link does not work", status=400),
    # Saved searches, and the page after confirming an address
    Visit("saved-search-new", "community", "/account/saved-searches/new?q=room&category=premises", "Save this search"),
    Visit(
        "saved-search-new-errors",
        "supplier",
        "/account/saved-searches/new?q=room",
        "Save this search",
        then=_click("Save this search"),
    ),
    Visit("saved-searches", "community", "/account/saved-searches", "Your saved searches", then=_save_a_search),
    Visit(
        "register-confirmed",
        None,
        "/register?next=/offers",
        "Your email address is confirmed",
        then=_registered_and_confirmed,
        fresh=True,
    ),
    Visit(
        "register-confirmed-again",
        None,
        "/register?next=/offers",
        "You have already used this link",
        then=_confirmed_twice,
        fresh=True,
    ),
    # Reports and the public impact page
    Visit("officer-reports", "officer", "/officer/reports", "Social value reports"),
    Visit("officer-reports-by-outcome", "officer", "/officer/reports?group_by=outcome", "Social value reports"),
    Visit(
        "officer-reports-errors",
        "officer",
        "/officer/reports?group_by=nothing&from-day=31&from-month=2&from-year=2026",
        "Social value reports",
        then=_see("heading", "There is a problem"),
    ),
    Visit("impact", None, "/impact", "Social value delivered"),
    # The pages about the service, the feedback form and the officer's pages for them
    Visit("accessibility-statement", None, "/accessibility-statement", "Accessibility statement"),
    Visit("privacy", None, "/privacy", "Privacy notice"),
    Visit("cookies", None, "/cookies", "Cookies"),
    Visit("help", None, "/help", "Help and contact"),
    Visit("api-documentation", None, "/api-documentation", re.compile(r"API$")),
    Visit("feedback", None, "/feedback", re.compile(r"^Give feedback")),
    Visit("feedback-errors", None, "/feedback", re.compile(r"^Give feedback"), then=_click("Send feedback")),
    Visit("feedback-sent", "community", "/feedback", "Thank you for your feedback", then=_send_feedback),
    Visit("officer-feedback", "officer", "/officer/feedback", "Feedback on the service"),
    Visit("officer-pages", "officer", "/officer/pages", "Information pages"),
    Visit("officer-page-edit", "officer", "/officer/pages/privacy", "Change the privacy notice"),
    # Error pages
    Visit("not-found", None, "/no-such-page", "Page not found", status=404),
    Visit("need-not-found", "community", "/needs/999999", "Page not found", status=404),
    Visit("forbidden", "supplier", "/needs/new", "You cannot do that", status=403),
    Visit("forbidden-officer-area", "community", "/officer", "You cannot do that", status=403),
]

FORM_PAGES = [
    visit
    for visit in VISITS
    if visit.id
    in {
        "register",
        "need-form",
        "offer-form",
        "officer-reject",
        "pledge-form",
        "pledge-form-officer",
        "pledge-deliver",
        "pledge-reject",
        "pledge-approve",
        "pledge-evidence-supplier",
        "officer-contract-new",
        "officer-measure-new",
        "officer-assisted-need",
        "offer-ask",
        "saved-search-new",
        "team",
        "account-community",
        "feedback",
    }
]


def _report(violations: list[dict]) -> str:
    lines = [f"{len(violations)} accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:300]}")
            summary = " ".join(node.get("failureSummary", "").split())
            if summary:
                lines.append(f"      {summary[:400]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def axe() -> Axe:
    """The axe-core runner (its script is injected into each page)."""
    return Axe()


@pytest.fixture
def open_visit(
    warm_server: None,
    page_as: Callable[[str | None], Page],
    kept_page_as: Callable[[str | None], Page],
    demo: DemoIds,
    pledges: PledgeIds,
) -> Callable[[Visit], Page]:
    """Go to a visit's page as its role and check it is the page meant."""

    def open_visit(visit: Visit) -> Page:
        return _open(visit, (page_as if visit.fresh else kept_page_as)(visit.role), demo, pledges)

    return open_visit


def _open(visit: Visit, page: Page, demo: DemoIds, pledges: PledgeIds) -> Page:
    response = page.goto(visit.path.format(d=demo, p=pledges))
    assert response is not None
    if visit.then is None:
        assert response.status == visit.status, f"{visit.path} answered {response.status}"
    else:
        visit.then(page, demo)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_count(1)
    expect(heading).to_have_text(visit.heading)
    return page


@pytest.mark.parametrize("visit", VISITS, ids=[visit.id for visit in VISITS])
def test_page_has_no_axe_violations(
    visit: Visit, open_visit: Callable[[Visit], Page], axe: Axe, screens_dir: Path
) -> None:
    page = open_visit(visit)
    if visit.id in SCREENSHOTS:
        page.screenshot(path=str(screens_dir / f"{visit.id}.png"), full_page=True)
    if visit.id in NEW_SCREENSHOTS:
        NEW_SCREENS_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(NEW_SCREENS_DIR / f"{visit.id}.png"), full_page=True)
    results = axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    assert not violations, f"{visit.id} ({page.url})\n{_report(violations)}"


@pytest.mark.parametrize("visit", FORM_PAGES, ids=[visit.id for visit in FORM_PAGES])
def test_every_group_of_inputs_says_what_it_asks(visit: Visit, open_visit: Callable[[Visit], Page]) -> None:
    """A fieldset without a legend leaves checkboxes, radios and dates without their question.

    axe does not treat this as a failure, but it is one (WCAG 1.3.1 and 3.3.2): sighted users
    see options with no question, and screen readers announce the group without a name.
    """
    page = open_visit(visit)
    missing = page.locator("main fieldset").evaluate_all(
        """sets => sets
            .filter(set => !set.querySelector(':scope > legend')?.textContent.trim())
            .map(set => set.querySelector('input, select, textarea')?.name ?? set.outerHTML.slice(0, 80))"""
    )
    assert not missing, f"{visit.id}: these groups have no legend (no question shown): {missing}"
