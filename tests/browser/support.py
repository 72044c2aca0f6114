"""What the browser tests share besides fixtures: demo ids, pledges in each status, signing in and registering."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from marketplace.models import Contract, Notification, Offer, OfferStatus, User
from marketplace.services import needs, offer_requests, pledges

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


_server: LiveServer | None = None


def use_live_server(server: LiveServer) -> None:
    """Let ``register`` read the confirmation e-mail from the running app's outbox."""
    global _server
    _server = server


def confirmation_link(email: str, kind: str = "confirm-email") -> str:
    """The link in the latest e-mail to ``email`` of ``kind`` (confirm-email or reset-password).

    The outbox is where our system ends; reading it stands in for the person's mailbox.
    """
    assert _server is not None, "the live_server fixture has not started"
    with _server.session() as session:
        body = session.scalar(
            select(Notification.body).where(Notification.to_email == email).order_by(Notification.id.desc()).limit(1)
        )
    assert body, f"no email to {email}"
    match = re.search(rf"https?://\S+/{kind}/\S+", body)
    assert match, body
    return match.group(0)


def register(page: Page, *, role: str = "community", organisation: str | None = None) -> str:
    """Register a new person and organisation through the form, then open the link e-mailed to
    confirm the address; returns the organisation name."""
    organisation = organisation or f"Test Group {uuid.uuid4().hex[:8]}"
    email = f"sam-{uuid.uuid4().hex[:10]}@example.org"
    page.goto("/register")
    kind = "A community group" if role == "community" else "A supplier"
    page.get_by_label(kind).check()
    page.get_by_label("Organisation name").fill(organisation)
    page.get_by_label("Your full name").fill("Sam Tester")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Create a password", exact=True).fill("a long enough password")
    page.get_by_label("Confirm your password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your email", level=1)).to_be_visible()
    page.goto(confirmation_link(email))
    expect(page.get_by_role("heading", name="Your email address is confirmed", level=1)).to_be_visible()
    page.locator("main").get_by_role("link", name="Sign in", exact=True).click()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    return organisation


@dataclass(frozen=True)
class PledgeIds:
    """A need of the demo community group with a pledge from the demo supplier in each status."""

    need: int
    need_title: str
    proposed: int
    accepted: int
    approved: int
    delivered: int
    checked: int  # delivered, its evidence accepted by an officer: the group can confirm it
    confirmed: int
    rejected: int
    contract: int  # a contract of the demo supplier (the approved pledge counts towards it)
    request: int = 0  # the demo group's open request for an offer of the demo supplier, for this need


def create_pledges(session: Session, today: date) -> PledgeIds:
    """Post a need and take a pledge to each status through the services, as the demo people would."""
    user = {role: session.scalar(select(User).where(User.email == email)) for role, email in EMAIL_BY_ROLE.items()}
    community, supplier, officer = user["community"], user["supplier"], user["officer"]
    title = f"Volunteers to paint our scout hut {uuid.uuid4().hex[:6]}"
    need = needs.post_need(
        session,
        community,
        {
            "title": title,
            "description": "Our scout hut needs its walls and window frames painting before the spring term starts.",
            "category": "volunteering",
            "district": "Charnwood",
            "outcomes": ["wellbeing-and-opportunity"],
        },
        today,
    )
    contract = session.scalar(select(Contract.id).where(Contract.supplier_id == supplier.organisation_id))
    assert contract is not None, "the demo data has no contract for the demo supplier"
    steps = {
        "accepted": lambda p: pledges.accept_pledge(session, community, p),
        "approved": lambda p: pledges.approve_pledge(session, officer, p, today.replace(year=today.year + 1)),
        "delivered": lambda p: pledges.deliver_pledge(
            session, supplier, p, "Six volunteers painted it on 3 May.", declaration=True
        ),
        "checked": lambda p: pledges.accept_evidence(session, officer, p),
        "confirmed": lambda p: pledges.confirm_pledge(session, community, p),
    }
    path = {
        "proposed": [],
        "accepted": ["accepted"],
        "approved": ["accepted", "approved"],
        "delivered": ["accepted", "approved", "delivered"],
        "checked": ["accepted", "approved", "delivered", "checked"],
        "confirmed": ["accepted", "approved", "delivered", "checked", "confirmed"],
    }
    ids: dict[str, int] = {}
    for status, walk in path.items():
        pledge = pledges.propose_pledge(
            session,
            supplier,
            {
                "need_id": need.id,
                "measure": "volunteering-hours",
                "quantity": "6",
                "contract_id": contract,
                "message": f"We can send a team of volunteers ({status}).",
            },
        )
        for step in walk:
            steps[step](pledge.id)
        ids[status] = pledge.id
    rejected = pledges.propose_pledge(
        session, supplier, {"need_id": need.id, "measure": "volunteering-hours", "quantity": "2"}
    )
    pledges.accept_pledge(session, community, rejected.id)
    pledges.reject_pledge(session, officer, rejected.id, "The contract does not cover volunteering in Charnwood.")
    own_offer = session.scalar(
        select(Offer.id).where(Offer.organisation_id == supplier.organisation_id, Offer.status == OfferStatus.OPEN)
    )
    assert own_offer is not None, "the demo data has no open offer of the demo supplier"
    asked = offer_requests.ask_for_offer(
        session, community, own_offer, {"need_id": need.id, "message": "Could your team help us in May?"}
    )
    session.commit()
    return PledgeIds(need=need.id, need_title=title, rejected=rejected.id, contract=contract, request=asked.id, **ids)
