"""What the browser tests share besides fixtures: demo ids, signing in and registering through the forms."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

EMAIL_BY_ROLE = {account.role: account.email for account in DEMO_ACCOUNTS}


@dataclass(frozen=True)
class LiveServer:
    """The running app."""

    url: str
    session: Callable[[], Session]


@dataclass(frozen=True)
class DemoIds:
    """Ids of demo records the tests visit."""

    public_need: int  # an open need of a verified group other than the demo community's
    own_need: int  # an open need of the demo community group
    unverified_need: int  # a need of the group left waiting for verification
    public_offer: int  # an open offer of a verified supplier other than the demo supplier
    own_offer: int  # an open offer of the demo supplier
    waiting_organisation: int  # an organisation left waiting for verification


def sign_in(page: Page, role: str) -> None:
    """Sign in as the demo account of ``role`` through the sign-in form."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(EMAIL_BY_ROLE[role])
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()


def register(page: Page, *, role: str = "community", organisation: str | None = None) -> str:
    """Register a new person and organisation through the form; returns the organisation name."""
    organisation = organisation or f"Test Group {uuid.uuid4().hex[:8]}"
    page.goto("/register")
    kind = "A community group" if role == "community" else "A supplier"
    page.get_by_label(kind).check()
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Your full name").fill("Sam Tester")
    page.get_by_label("Email address").fill(f"sam-{uuid.uuid4().hex[:10]}@example.org")
    page.get_by_label("Create a password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    return organisation
