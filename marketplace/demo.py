"""Demo data: Leicestershire community groups, suppliers, needs and offers, and one account per role.

Loaded through the same services as real use, so what the demo shows is what the product does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session
from tqdm import tqdm

from marketplace.models import Organisation, User
from marketplace.services import accounts, needs, offers, organisations

DEMO_PASSWORD = "demo-marketplace-2026"

# Which measure an offer of each category is usually counted in, and a typical amount.
_MEASURE_FOR_CATEGORY = {
    "volunteering": ("volunteering-hours", 80),
    "expertise": ("expert-hours", 20),
    "goods": ("goods-donated", 2500),
    "premises": ("premises-provided", 6000),
    "advertising": ("advertising-provided", 3000),
    "transport": ("transport-provided", 1500),
    "funding": ("funding-donated", 5000),
    "skills-and-jobs": ("work-placement-weeks", 12),
    "environment": ("carbon-saved", 10),
}


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in to print."""

    role: str
    email: str
    organisation: str


DEMO_ACCOUNTS = [
    DemoAccount("community", "community@example.org", "Charnwood Voluntary Action"),
    DemoAccount("supplier", "supplier@example.com", "Soar Valley Facilities Ltd"),
    DemoAccount("officer", "officer@example.gov.uk", "Leicestershire County Council"),
]


def _community_group_name(district: str) -> str:
    return "County-wide Community Network" if district == "County-wide" else f"{district} Voluntary Action"


def load_demo_data(session: Session, today: date, *, progress: bool = True) -> bool:
    """Create the demo organisations, accounts, needs and offers, unless they exist already.

    Returns:
        True when data was loaded, False when the demo accounts were already there.
    """
    if session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0].email)) is not None:
        return False
    data = json.loads(resources.files("marketplace").joinpath("seed/demo.json").read_text(encoding="utf-8"))
    officer = None
    members: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = accounts.create_user(
            session,
            email=account.email,
            role=account.role,
            organisation_name=account.organisation,
            password=DEMO_PASSWORD,
            name=f"Demo {account.role}",
        )
        members[account.organisation] = user
        if account.role == "officer":
            officer = user

    def member_of(organisation: str, role: str) -> User:
        if organisation not in members:
            slug = "".join(ch for ch in organisation.lower() if ch.isalnum())[:40]
            members[organisation] = accounts.create_user(
                session,
                email=f"{slug}@example.org",
                role=role,
                organisation_name=organisation,
                password=DEMO_PASSWORD,
                name=f"{organisation} contact",
            )
        return members[organisation]

    total = len(data["needs"]) + len(data["offers"])
    with tqdm(total=total, desc="Loading demo needs and offers", unit="item", disable=not progress) as bar:
        for index, item in enumerate(data["needs"]):
            member = member_of(_community_group_name(item["district"]), "community")
            fields = {**item, "needed_by": (today + timedelta(days=30 + (index * 11) % 240)).isoformat()}
            needs.post_need(session, member, fields, today)
            bar.update()
        for index, item in enumerate(data["offers"]):
            supplier = member_of(item["supplier"], "supplier")
            fields = {k: v for k, v in item.items() if k != "supplier"}
            measure = _MEASURE_FOR_CATEGORY.get(item["category"])
            if measure:
                fields["measure"], fields["capacity"] = measure[0], measure[1] * (1 + index % 3)
            if index % 4 == 0:
                fields["available_until"] = (today + timedelta(days=365)).isoformat()
            offers.post_offer(session, supplier, fields, today)
            bar.update()
    # Most organisations are verified; two are left waiting so the officer has work to do.
    assert officer is not None
    waiting = {_community_group_name("Melton"), "Wreake Valley Coaches Ltd"}
    for organisation in session.scalars(select(Organisation).order_by(Organisation.id)):
        if not organisation.verified and organisation.name not in waiting:
            organisations.verify_organisation(session, officer, organisation.id)
    session.flush()
    return True
