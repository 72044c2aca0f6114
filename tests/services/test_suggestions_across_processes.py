"""What a process keeps for suggestions (the suppliers' pledge lists, the reasons per pair) is
renewed when another process commits a change: the next call answers as a fresh worker would.

These tests commit for real (a database of their own, SQLite or PostgreSQL as the suite runs),
because the change must come from another connection or another process.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy.orm import sessionmaker

from marketplace.clock import council_today
from marketplace.db import write_intent
from marketplace.models import User
from marketplace.services import needs, offers, pledges, suggestions
from marketplace.suggestions.engine import SuggestionEngine
from tests.committing import verified_user
from tests.conftest import _officer, need_fields, offer_fields

TWIN = {
    "title": "Minibus to take older people to the lunch club",
    "description": "We need a driver and a wheelchair accessible minibus on Thursdays to bring members to lunch.",
    "category": "transport",
    "district": "Melton",
    "outcomes": ["wellbeing-and-opportunity"],
}


@pytest.fixture
def database_url(own_database_url: str) -> str:
    return own_database_url


@pytest.fixture
def factory(own_factory: sessionmaker) -> sessionmaker:
    return own_factory


@pytest.fixture
def another_session(another_worker_sessions: sessionmaker) -> sessionmaker:
    return another_worker_sessions


@pytest.fixture
def market(factory: sessionmaker) -> dict[str, int]:
    """A supplier's minibus offer, two needs it fits equally well, another supplier, an officer."""
    today = council_today()
    with factory() as session:
        supplier, other = verified_user(session, "supplier", 1), verified_user(session, "supplier", 2)
        group_a, group_b = verified_user(session, "community", 3), verified_user(session, "community", 4)
        bus = offers.post_offer(
            session,
            supplier,
            offer_fields(
                title="Minibus and driver on Thursdays",
                category="transport",
                districts=["County-wide"],
                measure="transport-provided",
            ),
            today,
        )
        first = needs.post_need(session, group_a, need_fields(**TWIN), today)
        second = needs.post_need(session, group_b, need_fields(**TWIN), today)
        officer = _officer(session)
        session.commit()
        return {
            "supplier": supplier.id,
            "other": other.id,
            "officer": officer.id,
            "bus": bus.id,
            "first": first.id,
            "second": second.id,
        }


def _needs_for_bus(factory: sessionmaker, engine: SuggestionEngine, market: dict[str, int], who: str) -> list:
    """One GET request's worth: a fresh read-only session, the service, what it answers."""
    with write_intent(False), factory() as session:
        viewer = session.get(User, market[who])
        found = suggestions.needs_for_offer(session, engine, viewer, market["bus"], 5, council_today())
        return [(s.item.id, round(s.score, 6), s.reasons) for s in found.items]


def _in_another_process(database_url: str, code: str) -> str:
    """Run service code in a Python process of its own (``session``, ``User``, ``pledges`` and
    ``offers`` at hand); what it prints comes back."""
    script = (
        "from marketplace.db import make_engine, make_session_factory\n"
        "from marketplace.models import User\n"
        "from marketplace.services import offers, pledges\n"
        "from marketplace.clock import council_today\n"
        f"factory = make_session_factory(make_engine({database_url!r}))\n"
        "with factory() as session:\n"
        + "".join(f"    {line}\n" for line in code.strip().splitlines())
        + "    session.commit()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _propose(supplier_id: int, need_id: int, offer_id: int | None = None) -> str:
    offer = f", 'offer_id': {offer_id}" if offer_id else ""
    return (
        f"pledge = pledges.propose_pledge(session, session.get(User, {supplier_id}), "
        f"{{'need_id': {need_id}, 'quantity': 1, 'measure': 'transport-provided'{offer}}})\n"
        "session.flush()\nprint(pledge.id)"
    )


def test_a_pledge_made_and_withdrawn_in_another_process_is_seen_by_the_next_call(database_url, factory, market):
    engine = SuggestionEngine(factory)
    before = [item for item, _, _ in _needs_for_bus(factory, engine, market, "officer")]
    assert set(before[:2]) == {market["first"], market["second"]}
    top, runner_up = before[0], before[1]

    # Another supplier pledges to the top need: fair exposure now puts the other twin first.
    pledge_id = _in_another_process(database_url, _propose(market["other"], top))
    after = [item for item, _, _ in _needs_for_bus(factory, engine, market, "officer")]
    assert after.index(runner_up) < after.index(top)

    # It withdraws the pledge: the need has no live pledge again, and is back on top.
    _in_another_process(
        database_url, f"pledges.cancel_pledge(session, session.get(User, {market['other']}), {pledge_id}, 'changed')"
    )
    again = _needs_for_bus(factory, engine, market, "officer")
    assert [item for item, _, _ in again] == before
    assert again == _needs_for_bus(factory, SuggestionEngine(factory), market, "officer")


def test_a_need_the_supplier_pledged_to_in_another_session_is_no_longer_suggested_to_it(
    database_url, factory, another_session, market
):
    engine = SuggestionEngine(factory)
    shown = [item for item, _, _ in _needs_for_bus(factory, engine, market, "supplier")]
    assert market["first"] in shown
    with another_session() as session:
        supplier = session.get(User, market["supplier"])
        pledges.propose_pledge(
            session,
            supplier,
            {"need_id": market["first"], "offer_id": market["bus"], "quantity": 1, "measure": "transport-provided"},
        )
        session.commit()
    for who in ("supplier", "officer"):  # the offer's own suggestions, whoever looks at them
        shown = [item for item, _, _ in _needs_for_bus(factory, engine, market, who)]
        assert market["first"] not in shown and market["second"] in shown
    assert _needs_for_bus(factory, engine, market, "supplier") == _needs_for_bus(
        factory, SuggestionEngine(factory), market, "supplier"
    )


def test_the_reasons_follow_an_offer_edited_in_another_process(database_url, factory, market):
    engine = SuggestionEngine(factory)
    before = _needs_for_bus(factory, engine, market, "officer")
    assert any("minibus" in reason for _, _, reasons in before for reason in reasons)
    _in_another_process(
        database_url,
        f"offers.edit_offer(session, session.get(User, {market['supplier']}), {market['bus']}, "
        "{'title': 'Wheelchair accessible minibus, driver and lunch club trips', 'description': "
        "'Our wheelchair accessible minibus takes older people to lunch clubs on Thursdays.'}, council_today())",
    )
    after = _needs_for_bus(factory, engine, market, "officer")
    assert after != before
    assert after == _needs_for_bus(factory, SuggestionEngine(factory), market, "officer")
    assert [reasons for _, _, reasons in after] != [reasons for _, _, reasons in before]


def test_kept_pledge_lists_answer_as_the_query_does(factory, market):
    engine = SuggestionEngine(factory)
    with factory() as session:
        pledges.propose_pledge(
            session,
            session.get(User, market["other"]),
            {"need_id": market["first"], "quantity": 1, "measure": "transport-provided"},
        )
        session.commit()
    engine.catch_up()  # as every suggestion does first: the engine has read the newest changes
    with factory() as session:
        suppliers = [session.get(User, market[who]).organisation_id for who in ("other", "supplier")]
        for organisation_id in (None, *suppliers):
            for _ in range(2):  # read, then kept
                kept = suggestions.kept_attention(session, engine, organisation_id)
                assert kept == suggestions.attention(session, organisation_id)
        assert suggestions.attention(session, suppliers[0]).answered == {str(market["first"])}
        assert suggestions.attention(session, None).pledged == {str(market["first"])}


def test_an_offer_posted_in_another_process_is_suggested_on_the_next_call_for_a_need_asked_before(
    database_url, factory, market
):
    engine = SuggestionEngine(factory)

    def offers_for_first(engine: SuggestionEngine) -> list:
        with write_intent(False), factory() as session:
            viewer = session.get(User, market["officer"])
            found = suggestions.offers_for_need(session, engine, viewer, market["first"], 5, council_today())
            return [(s.item.id, round(s.score, 6), s.reasons) for s in found.items]

    before = offers_for_first(engine)
    assert offers_for_first(engine) == before  # asked again: the same answer
    posted = _in_another_process(
        database_url,
        f"offer = offers.post_offer(session, session.get(User, {market['other']}), {{'title': "
        "'Wheelchair accessible minibus for lunch clubs', 'description': 'Our minibus and driver take older "
        "people to lunch clubs in Melton on Thursdays.', 'category': 'transport', 'districts': ['Melton'], "
        "'outcomes': ['wellbeing-and-opportunity'], 'measure': 'transport-provided', 'capacity': 10}, "
        "council_today())\nsession.flush()\nprint(offer.id)",
    )
    after = offers_for_first(engine)
    assert int(posted) in [item for item, _, _ in after]
    assert after == offers_for_first(SuggestionEngine(factory))
