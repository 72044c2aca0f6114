"""Suggestions: who may see which suggested pairings, limited to what they may see."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

import matching
from marketplace.models import Need, NeedStatus, Offer, OfferStatus, Organisation, Pledge, PledgeStatus, Role, User
from marketplace.services.accounts import require_role
from marketplace.services.errors import Forbidden, ValidationFailed
from marketplace.services.listings import is_owner, member_visibility_clause, visibility_clause, visibility_key
from marketplace.services.needs import get_need
from marketplace.services.offers import get_offer
from marketplace.suggestions.engine import Stamps, SuggestionEngine

MAX_LIMIT = 50
# Rows read beyond those shown, in case the viewer may not see some of them.
_SPARE_ROWS = 2
_ANY_ROLE = (Role.COMMUNITY, Role.SUPPLIER, Role.OFFICER)


@dataclass(frozen=True)
class OrganisationName:
    """The organisation a suggested listing names."""

    id: int
    name: str


@dataclass(frozen=True)
class ShownListing:
    """A suggested need or offer as a page shows it: read as a plain row, not an ORM object.

    Attributes:
        id: the need's or offer's id.
        title: its title.
        organisation_id: the organisation that posted it.
        organisation: that organisation's id and name.
    """

    id: int
    title: str
    organisation_id: int
    organisation: OrganisationName


@dataclass(frozen=True)
class SuggestedItem:
    """A suggested need or offer, with the matcher's score and reasons.

    ``item`` is what a page shows of the listing (:class:`ShownListing`), or the whole
    listing for a caller that asked for it (the API shows every field).
    """

    item: ShownListing | Need | Offer
    score: float
    good: bool
    reasons: tuple[str, ...]
    via_offer: ShownListing | None = None


@dataclass(frozen=True)
class SuggestionList:
    """Suggestions, best first; ``no_good_match`` when none is a good fit yet."""

    items: list[SuggestedItem]
    no_good_match: bool


def check_limit(raw: object, default: int = 10) -> int:
    """A ``limit`` parameter as a number from 1 to 50.

    Raises:
        ValidationFailed: for anything else.
    """
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise ValidationFailed({"limit": f"limit must be a whole number from 1 to {MAX_LIMIT}"})
    return value


def _withdrawn(model: type[Need] | type[Offer]) -> str:
    return NeedStatus.WITHDRAWN.value if model is Need else OfferStatus.WITHDRAWN.value


def _visible_to(viewer: User, model: type[Need] | type[Offer]) -> ColumnElement[bool]:
    # A few rows by key: each row's organisation looked up by its key (reading the verified
    # organisations' ids first scanned all of them, 0.6 ms at 5,000, for ten rows).
    return visibility_clause(model, viewer, _withdrawn(model), per_row=True)


@functools.lru_cache(maxsize=1024)
def _shown_statement(model: type[Need] | type[Offer], officer: bool, own: int | None) -> Select:
    """The shown rows' query for one visibility rule (officers; the public or one organisation's
    members), the ids bound when it runs.

    Built once per rule: building a statement and working out its cache key cost more than
    running it (about 0.25 of 0.45 ms for ten rows).
    """
    statement = (
        select(model.id, model.title, model.organisation_id, Organisation.name)
        .join(Organisation, Organisation.id == model.organisation_id)
        .where(model.id.in_(bindparam("ids", expanding=True)))
    )
    if officer:
        return statement
    return statement.where(member_visibility_clause(model, own, _withdrawn(model), per_row=True))  # see _visible_to


def _rows(
    session: Session, viewer: User, model: type[Need] | type[Offer], ids: list[int], *, whole: bool = False
) -> dict[int, ShownListing | Need | Offer]:
    """Those of these rows the viewer may see, each with the organisation it names.

    As plain rows of the few columns a page shows, or with ``whole`` as ORM objects (building
    ten listings and their organisations cost twice reading those columns: 0.4 against 0.2 ms).
    """
    if not ids:
        return {}
    if whole:
        statement = (
            select(model).options(joinedload(model.organisation)).where(model.id.in_(ids), _visible_to(viewer, model))
        )
        return {row.id: row for row in session.scalars(statement)}
    officer = viewer.role is Role.OFFICER
    rows = session.execute(_shown_statement(model, officer, None if officer else viewer.organisation_id), {"ids": ids})
    return {
        item_id: ShownListing(item_id, title, organisation_id, OrganisationName(organisation_id, name))
        for item_id, title, organisation_id, name in rows
    }


def _sees_everything(viewer: User) -> bool:
    # The rule hides nothing from officers (asked without building the rule's clause).
    return visibility_key(viewer) == "everything"


def _shown(
    session: Session, viewer: User, model: type[Need] | type[Offer], ranked: list[int], limit: int, *, whole: bool
) -> dict[int, ShownListing | Need | Offer]:
    """The best ``limit`` of the ranked items that the viewer may see, with their organisations.

    Usually one query, building the rows shown and a couple more (none for a viewer who sees
    everything); a viewer who may not see some of them gets the next in rank order from a
    further query. (Asking which of all the ranked ids the viewer may see, then loading the
    rows shown, took two; ordering by rank in SQL cost more in building the statement than
    it saved.)
    """
    rows: dict[int, ShownListing | Need | Offer] = {}
    start = 0
    spare = 0 if _sees_everything(viewer) else _SPARE_ROWS
    while len(rows) < limit and start < len(ranked):
        take = limit - len(rows) + spare
        rows.update(_rows(session, viewer, model, ranked[start : start + take], whole=whole))
        start += take
    return rows


def _keep_visible(
    session: Session,
    engine: SuggestionEngine,
    viewer: User,
    query: Need | Offer | None,
    model: type[Need] | type[Offer],
    answer: matching.Suggestions,
    limit: int,
    whole: bool,
) -> SuggestionList:
    # The matcher knows nothing of verification: drop what this viewer may not see.
    rows = _shown(session, viewer, model, [int(s.id) for s in answer.items], limit, whole=whole)
    shown = [s for s in answer.items if int(s.id) in rows][:limit]
    offers = _rows(session, viewer, Offer, [int(s.via_offer) for s in shown if s.via_offer])

    # The matcher was asked not to explain: only the suggestions shown are explained.
    def pair(s: matching.Suggestion) -> tuple[int, int]:
        if query is None:  # supplier-wide: the need and the supplier's offer that fits it best
            return int(s.id), int(s.via_offer or 0)
        return (query.id, int(s.id)) if isinstance(query, Need) else (int(s.id), query.id)

    # The page and the API name the supplier's offer in a field of their own ("via_offer"),
    # so the reasons do not repeat it.
    reasons = engine.explain([pair(s) for s in shown])
    items = [
        SuggestedItem(
            item=rows[int(s.id)],
            score=s.score,
            good=s.good,
            reasons=reasons.get(pair(s), ()),
            via_offer=offers.get(int(s.via_offer)) if s.via_offer else None,
        )
        for s in shown
    ]
    return SuggestionList(items=items, no_good_match=not any(item.good for item in items))


LIVE_PLEDGES = (
    PledgeStatus.PROPOSED,
    PledgeStatus.ACCEPTED,
    PledgeStatus.APPROVED,
    PledgeStatus.DELIVERED,
    PledgeStatus.CONFIRMED,
)
"""Pledges that count as an answer to a need (fair exposure puts needs without one first)."""


@dataclass(frozen=True)
class Attention:
    """What fair exposure needs to know when needs are suggested to one supplier.

    Attributes:
        answered: needs this supplier has already pledged to, met or declined (any pledge,
            whatever became of it): never suggested to it again.
        pledged: open needs that already have a live pledge from anyone.
    """

    answered: frozenset[str]
    pledged: frozenset[str]


@dataclass(frozen=True)
class PledgeLists:
    """Which needs each supplier has answered, and the open needs with a live pledge.

    Attributes:
        answered: by supplier organisation, the needs it has pledged to (any pledge,
            whatever became of it).
        pledged: open needs that have a live pledge from anyone.
    """

    answered: Mapping[int, frozenset[str]]
    pledged: frozenset[str]

    def attention(self, organisation_id: int | None) -> Attention:
        """What fair exposure needs to know when needs are suggested to this supplier."""
        answered = self.answered.get(organisation_id, frozenset()) if organisation_id is not None else frozenset()
        return Attention(answered, self.pledged)


def pledge_lists(session: Session) -> PledgeLists:
    """Every supplier's answered needs and the open needs anyone has pledged to, in one query."""
    live = Pledge.status.in_(LIVE_PLEDGES) & (Need.status == NeedStatus.OPEN)
    rows = session.execute(
        select(Pledge.supplier_id, Pledge.need_id, live).join(Need, Need.id == Pledge.need_id).distinct()
    )
    answered: dict[int, set[str]] = {}
    pledged: set[str] = set()
    for supplier_id, need_id, counts in rows:
        answered.setdefault(supplier_id, set()).add(str(need_id))
        if counts:
            pledged.add(str(need_id))
    return PledgeLists({k: frozenset(v) for k, v in answered.items()}, frozenset(pledged))


def attention(session: Session, organisation_id: int | None) -> Attention:
    """The needs a supplier has answered and the open needs anyone has pledged to."""
    return pledge_lists(session).attention(organisation_id)


def kept_attention(session: Session, engine: SuggestionEngine, organisation_id: int | None) -> Attention:
    """``attention``, from pledge lists the process's engine keeps until a need, offer or pledge changes.

    Call it inside ``engine.run``, after the catch-up that read the newest changes: the
    lists are read again (every supplier's at once) whenever any process has committed a
    change since.
    """

    def read() -> tuple[Stamps, PledgeLists]:
        # The stamps first, in the same transaction: the lists are then at least as new.
        return engine.stamps(session), pledge_lists(session)

    return engine.kept("pledge lists", read).attention(organisation_id)


def _over_fetch(limit: int) -> int:
    # Ask for more than needed: some suggestions may be hidden from this viewer.
    return limit * 2 + 10


def offers_for_need(
    session: Session,
    engine: SuggestionEngine,
    actor: User | None,
    need_id: int,
    limit: int,
    today: date,
    *,
    whole: bool = False,
) -> SuggestionList:
    """Offers that could meet a need, for anyone signed in who may see the need.

    The offers as pages show them (:class:`ShownListing`), or with ``whole`` as ORM objects.
    """
    viewer = require_role(actor, *_ANY_ROLE)
    need = get_need(session, viewer, need_id)
    if need.status is not NeedStatus.OPEN:
        return SuggestionList(items=[], no_good_match=True)
    answer = engine.run(
        lambda m: engine.answer(
            ("offers for need", need.id, limit, today),
            lambda: m.suggest_offers(str(need.id), _over_fetch(limit), today, explain=False),
        ),
        session,
    )
    return _keep_visible(session, engine, viewer, need, Offer, answer, limit, whole)


def needs_for_offer(
    session: Session,
    engine: SuggestionEngine,
    actor: User | None,
    offer_id: int,
    limit: int,
    today: date,
    *,
    whole: bool = False,
) -> SuggestionList:
    """Needs an offer could meet, for the supplier that posted it and for officers (``whole``: as above)."""
    viewer = require_role(actor, *_ANY_ROLE)
    offer = get_offer(session, viewer, offer_id)
    if not (is_owner(viewer, offer) or viewer.is_officer):
        raise Forbidden("Only the supplier that posted this offer and council officers can see its suggestions")
    if offer.status is not OfferStatus.OPEN:
        return SuggestionList(items=[], no_good_match=True)

    def suggest(m: matching.Matcher) -> matching.Suggestions:
        seen = kept_attention(session, engine, offer.organisation_id)
        return engine.answer(
            ("needs for offer", offer.id, limit, today, seen),
            lambda: m.suggest_needs(
                str(offer.id), _over_fetch(limit), today, explain=False, exclude=seen.answered, pledged=seen.pledged
            ),
        )

    return _keep_visible(session, engine, viewer, offer, Need, engine.run(suggest, session), limit, whole)


def needs_for_supplier(
    session: Session, engine: SuggestionEngine, actor: User | None, limit: int, today: date, *, whole: bool = False
) -> SuggestionList:
    """Needs that best fit all of a supplier's open offers together (``whole``: as above)."""
    supplier = require_role(actor, Role.SUPPLIER)
    offer_ids = list(
        session.scalars(
            select(Offer.id).where(Offer.organisation_id == supplier.organisation_id, Offer.status == OfferStatus.OPEN)
        )
    )
    if not offer_ids:
        return SuggestionList(items=[], no_good_match=True)

    def suggest(m: matching.Matcher) -> matching.Suggestions:
        seen = kept_attention(session, engine, supplier.organisation_id)
        return engine.answer(
            ("needs for offers", tuple(offer_ids), limit, today, seen),
            lambda: m.suggest_needs_for_offers(
                [str(i) for i in offer_ids],
                _over_fetch(limit),
                today,
                explain=False,
                exclude=seen.answered,
                pledged=seen.pledged,
            ),
        )

    return _keep_visible(session, engine, supplier, None, Need, engine.run(suggest, session), limit, whole)
