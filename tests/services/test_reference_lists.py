"""Reference lists: categories, districts and outcomes are kept per process; measures never are."""

from __future__ import annotations

from sqlalchemy import delete, event
from sqlalchemy.orm import Session

from marketplace.models import Category
from marketplace.services import measures as measures_service
from marketplace.services.reference import forget_cached_lists, reference_lists, seed_reference_data


def _statements(session: Session) -> list[str]:
    seen: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_categories_districts_and_outcomes_are_read_once(session: Session) -> None:
    first = reference_lists(session)
    seen = _statements(session)
    again = reference_lists(session)
    assert [c.code for c in again.categories] == [c.code for c in first.categories]
    assert "County-wide" in again.district_codes and "strong-economy" in again.outcome_codes
    assert seen == []


def test_seeding_in_this_process_is_seen_at_once(session: Session) -> None:
    session.execute(delete(Category).where(Category.code == "other"))
    forget_cached_lists()
    assert "other" not in reference_lists(session).category_codes
    assert seed_reference_data(session) == 1  # what `marketplace init` does after a loss
    assert [c.code for c in reference_lists(session).categories][-1] == "other"


def test_a_measure_an_officer_changes_shows_at_once(session: Session, officer) -> None:
    code = reference_lists(session).measures[0].code
    measures_service.update_measure(session, officer, code, {"active": False})
    assert code not in reference_lists(session).measure_codes
    measures_service.update_measure(session, officer, code, {"active": True})
    assert code in reference_lists(session).measure_codes
