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


# (reference, title, value, target, years) of the demo supplier's contracts.
_CONTRACTS = [
    ("LCC-2026-0142", "Facilities management, county offices", 1_250_000, 60_000, 3),
    ("LCC-2026-0177", "Grounds maintenance, country parks", 340_000, None, 2),
]
# How far each demo pledge gets: the officer, the group and the supplier all have something to do.
_PLEDGE_STAGES = ["confirmed", "confirmed", "delivered", "approved", "accepted", "accepted", "proposed"]


def _load_contracts_and_pledges(session: Session, officer: User, members: dict[str, User], today: date) -> None:
    supplier = members[DEMO_ACCOUNTS[1].organisation]
    group = members[DEMO_ACCOUNTS[0].organisation]
    contract_ids = []
    for reference, title, value, target, years in _CONTRACTS:
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
        contract_ids.append(contract.id)
    offers_by_supplier = list(
        session.scalars(
            select(Offer).where(Offer.status == OfferStatus.OPEN, Offer.capacity.is_not(None)).order_by(Offer.id)
        )
    )
    open_needs = list(session.scalars(select(Need).where(Need.status == NeedStatus.OPEN).order_by(Need.id)))
    group_needs = [n for n in open_needs if n.organisation_id == group.organisation_id]
    others = [n for n in open_needs if n.organisation_id != group.organisation_id and n.organisation.verified]
    targets = group_needs[:3] + others[: len(_PLEDGE_STAGES) - 3]
    for index, (need, stage) in enumerate(zip(targets, _PLEDGE_STAGES, strict=False)):
        owner = next(m for m in members.values() if m.organisation_id == need.organisation_id)
        offer = next((o for o in offers_by_supplier if o.organisation_id == supplier.organisation_id), None)
        pledger = (
            supplier if offer is not None and index % 2 == 0 else members[offers_by_supplier[index].organisation.name]
        )
        source = offer if pledger is supplier else offers_by_supplier[index]
        pledge = pledges.propose_pledge(
            session,
            pledger,
            {
                "need_id": need.id,
                "offer_id": source.id,
                "contract_id": contract_ids[index % 2] if source.organisation_id == supplier.organisation_id else None,
                "quantity": max(1, int(source.capacity) // 10),
                "message": "We would be glad to help with this.",
            },
        )
        steps = ["proposed", "accepted", "approved", "delivered", "confirmed"]
        for step in steps[1 : steps.index(stage) + 1]:
            if step == "accepted":
                pledges.accept_pledge(session, owner, pledge.id)
            elif step == "approved":
                pledges.approve_pledge(session, officer, pledge.id, (today + timedelta(days=90)).isoformat())
            elif step == "delivered":
                pledges.deliver_pledge(
                    session, pledger, pledge.id, "Done as promised; photos sent to the group.", declaration=True
                )
            else:
                pledges.accept_evidence(session, officer, pledge.id)
                pledges.confirm_pledge(session, owner, pledge.id)
    session.flush()
