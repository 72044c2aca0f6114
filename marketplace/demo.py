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

from marketplace.models import Need, NeedStatus, Offer, OfferStatus, Organisation, User
from marketplace.services import accounts, contracts, needs, offers, organisations, pledges

DEMO_PASSWORD = "demo-marketplace-2026"

# Which measure an offer of each category is usually counted in, and a typical amount.
MEASURE_FOR_CATEGORY = {
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
            measure = MEASURE_FOR_CATEGORY.get(item["category"])
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
    _load_contracts_and_pledges(session, officer, members, today)
    return True


# (supplier, reference, title, value, target, years): contracts over £50,000 with the social
# value targets a county would agree; the demo supplier's first two are the ones its pages show.
_CONTRACTS = [
    ("Soar Valley Facilities Ltd", "LCC-2026-0142", "Facilities management, county offices", 1_250_000, 60_000, 3),
    ("Soar Valley Facilities Ltd", "LCC-2026-0177", "Grounds maintenance, country parks", 340_000, None, 2),
    ("Mercia Build Group plc", "LCC-2025-0931", "Highways minor works framework", 4_800_000, 240_000, 4),
    ("Brackenridge Logistics Ltd", "LCC-2025-0712", "Deliveries to county schools", 620_000, 30_000, 3),
    ("Datasure IT Services Ltd", "LCC-2026-0058", "Library computer support", 410_000, 20_000, 3),
    ("Vale Foods Ltd", "LCC-2025-0604", "School meals, Melton and Harborough", 2_100_000, 105_000, 5),
]
# How far each demo pledge gets, in order: every step of the lifecycle appears, and the
# officer, the groups and the suppliers all have something to do. The demo group's first
# needs take the first stages, so its pages show a pledge waiting for it and one delivered.
_PLEDGE_STAGES = [
    "confirmed",
    "proposed",
    "delivered",
    "approved",
    "accepted",
    "accepted",
    "confirmed",
    "confirmed",
    "approved",
    "proposed",
    "declined",
    "confirmed",
    "delivered",
    "rejected",
    "confirmed",
    "approved",
    "cancelled",
    "accepted",
    "confirmed",
    "proposed",
]
_STEPS = ["proposed", "accepted", "approved", "delivered", "confirmed"]
# A typical amount of each measure for one pledge (cycled), so totals look like a county's.
_TYPICAL = {
    "volunteering-hours": (24, 40, 16, 60),
    "expert-hours": (6, 12, 20, 8),
    "goods-donated": (450, 1200, 800, 2500),
    "premises-provided": (600, 1800, 2400, 900),
    "advertising-provided": (750, 1500, 500),
    "transport-provided": (320, 900, 480),
    "funding-donated": (500, 1000, 2000),
    "work-placement-weeks": (2, 4, 6),
    "carbon-saved": (2, 5, 3),
}
_DELIVERY_NOTES = [
    "Done on the agreed day; the group has photos for its newsletter.",
    "Delivered and set up with the group's volunteers.",
    "Sessions finished; attendance sheets sent to the group.",
]


def _load_contracts_and_pledges(session: Session, officer: User, members: dict[str, User], today: date) -> None:
    group = members[DEMO_ACCOUNTS[0].organisation]
    contract_of: dict[int, int] = {}  # supplier organisation → its first contract
    for supplier_name, reference, title, value, target, years in _CONTRACTS:
        supplier = members[supplier_name]
        contract = contracts.create_contract(
            session,
            officer,
            {
                "reference": reference,
                "title": title,
                "supplier_id": supplier.organisation_id,
                "value": value,
                "start_date": today.replace(day=1).isoformat(),
                "end_date": today.replace(year=today.year + years, day=1).isoformat(),
                "social_value_target": target,
            },
        )
        contract_of.setdefault(supplier.organisation_id, contract.id)
    open_offers = list(
        session.scalars(
            select(Offer).where(Offer.status == OfferStatus.OPEN, Offer.measure_code.is_not(None)).order_by(Offer.id)
        )
    )
    offers_by_category: dict[str, list[Offer]] = {}
    for offer in open_offers:
        if offer.organisation.verified:
            offers_by_category.setdefault(offer.category_code, []).append(offer)
    open_needs = list(session.scalars(select(Need).where(Need.status == NeedStatus.OPEN).order_by(Need.id)))
    group_needs = [n for n in open_needs if n.organisation_id == group.organisation_id]
    others = [n for n in open_needs if n.organisation_id != group.organisation_id and n.organisation.verified]
    # The demo group keeps open needs nobody has pledged to, so its member can try pledging pages.
    candidates = group_needs[:2] + others
    stages = iter(_PLEDGE_STAGES)
    for index, need in enumerate(candidates):
        # A pledge counts in a measure that fits what was asked: an offer of the same category.
        choices = offers_by_category.get(need.category_code)
        if not choices:
            continue
        stage = next(stages, None)
        if stage is None:
            break
        offer = choices[index % len(choices)]
        pledger = next(m for m in members.values() if m.organisation_id == offer.organisation_id)
        owner = next(m for m in members.values() if m.organisation_id == need.organisation_id)
        typical = _TYPICAL.get(offer.measure_code or "", (1,))
        pledge = pledges.propose_pledge(
            session,
            pledger,
            {
                "need_id": need.id,
                "offer_id": offer.id,
                "contract_id": contract_of.get(offer.organisation_id),
                "quantity": typical[index % len(typical)],
                "message": "We would be glad to help with this. Tell us the dates that suit you.",
            },
        )
        if stage == "declined":
            pledges.decline_pledge(session, owner, pledge.id, "Another supplier is already helping us with this.")
            continue
        if stage == "cancelled":
            pledges.accept_pledge(session, owner, pledge.id)
            pledges.approve_pledge(session, officer, pledge.id)
            pledges.cancel_pledge(session, pledger, pledge.id, "Our van is off the road until next month.")
            continue
        if stage == "rejected":
            pledges.accept_pledge(session, owner, pledge.id)
            pledges.reject_pledge(session, officer, pledge.id, "This work is already part of the contract itself.")
            continue
        for step in _STEPS[1 : _STEPS.index(stage) + 1]:
            if step == "accepted":
                pledges.accept_pledge(session, owner, pledge.id)
            elif step == "approved":
                pledges.approve_pledge(session, officer, pledge.id, (today + timedelta(days=90)).isoformat())
            elif step == "delivered":
                pledges.deliver_pledge(
                    session, pledger, pledge.id, _DELIVERY_NOTES[index % len(_DELIVERY_NOTES)], declaration=True
                )
            else:
                pledges.accept_evidence(session, officer, pledge.id)
                pledges.confirm_pledge(session, owner, pledge.id)
        if stage == "confirmed" and index % 2 == 0 and need.status is NeedStatus.OPEN:
            # Some groups say their need is met once help arrived.
            needs.mark_need_met(session, owner, need.id)
    session.flush()
