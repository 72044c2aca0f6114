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

from tests.browser.support import DemoIds, register

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

Action = Callable[[Page, DemoIds], None]


@dataclass(frozen=True)
class Visit:
    """How to reach one page (in one state) and what its main heading says."""

    id: str
    role: str | None
    path: str  # formatted with the demo ids, like "/needs/{d.own_need}"
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


def _create_token(page: Page, _: DemoIds) -> None:
    page.get_by_label("Token name").fill(f"CRM sync {uuid.uuid4().hex[:6]}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Your new token")).to_be_visible()


def _wrong_password(page: Page, _: DemoIds) -> None:
    page.get_by_label("Email address").fill("community@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()


def _register_new_group(page: Page, _: DemoIds) -> None:
    register(page, role="community")
    expect(page.get_by_role("region", name="Not yet public")).to_be_visible()


def _redirected_to_sign_in(page: Page, _: DemoIds) -> None:
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_text("Sign in to continue.")).to_be_visible()


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
    # Signing in and registering
    Visit("sign-in", None, "/sign-in", "Sign in"),
    Visit("sign-in-errors", None, "/sign-in", "Sign in", then=_click("Sign in")),
    Visit("sign-in-wrong-password", None, "/sign-in", "Sign in", then=_wrong_password),
    Visit("sign-in-after-redirect", None, "/needs/new", "Sign in", then=_redirected_to_sign_in),
    Visit("register", None, "/register", "Register your organisation"),
    Visit("register-errors", None, "/register", "Register your organisation", then=_click("Register")),
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
    Visit("tokens", "supplier", "/account/tokens", "API tokens"),
    Visit("tokens-errors", "supplier", "/account/tokens", "API tokens", then=_click("Create token")),
    Visit("tokens-created", "community", "/account/tokens", "API tokens", then=_create_token),
    # The officer's area
    Visit("officer-dashboard", "officer", "/officer", "Officer dashboard"),
    Visit("officer-organisations", "officer", "/officer/organisations", "Organisations to check"),
    Visit(
        "officer-reject", "officer", "/officer/organisations/{d.waiting_organisation}/reject", re.compile(r"^Reject ")
    ),
    # Error pages
    Visit("not-found", None, "/no-such-page", "Page not found", status=404),
    Visit("need-not-found", "community", "/needs/999999", "Page not found", status=404),
    Visit("forbidden", "supplier", "/needs/new", "You cannot do that", status=403),
    Visit("forbidden-officer-area", "community", "/officer", "You cannot do that", status=403),
]

FORM_PAGES = [visit for visit in VISITS if visit.id in {"register", "need-form", "offer-form", "officer-reject"}]


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
    page_as: Callable[[str | None], Page], kept_page_as: Callable[[str | None], Page], demo: DemoIds
) -> Callable[[Visit], Page]:
    """Go to a visit's page as its role and check it is the page meant."""

    def open_visit(visit: Visit) -> Page:
        return _open(visit, (page_as if visit.fresh else kept_page_as)(visit.role), demo)

    return open_visit


def _open(visit: Visit, page: Page, demo: DemoIds) -> Page:
    response = page.goto(visit.path.format(d=demo))
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
