from datetime import timedelta

import pytest

from marketplace.models import NeedStatus
from marketplace.services import needs
from marketplace.services.errors import Forbidden, InvalidTransition, NotFound, NotSignedIn, ValidationFailed
from marketplace.services.listings import Filters
from tests.conftest import need_fields


def test_community_member_posts_a_need_for_their_group(session, make_user, today):
    member = make_user("community")
    need = needs.post_need(session, member, need_fields(), today)
    assert need.id is not None
    assert need.status is NeedStatus.OPEN
    assert need.organisation_id == member.organisation_id
    assert [o.code for o in need.outcomes] == ["wellbeing-and-opportunity"]


def test_suppliers_cannot_post_needs(session, make_user, today):
    with pytest.raises(Forbidden):
        needs.post_need(session, make_user("supplier"), need_fields(), today)


def test_officer_posts_a_need_on_a_groups_behalf_marked_as_assisted(session, make_user, officer, today):
    group = make_user("community").organisation
    with pytest.raises(ValidationFailed) as caught:
        needs.post_need(session, officer, need_fields(), today)
    assert "organisation_id" in caught.value.fields
    need = needs.post_need(session, officer, need_fields(organisation_id=group.id), today)
    assert need.organisation_id == group.id and need.assisted and need.created_by_id == officer.id


def test_anonymous_visitor_cannot_post(session, today):
    with pytest.raises(NotSignedIn):
        needs.post_need(session, None, need_fields(), today)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Enter a title"),
        ("title", "Help", "Title must be 5 characters or more"),
        ("title", "x" * 121, "Title must be 120 characters or fewer"),
        ("description", "Too short to say", "Description must be 20 characters or more"),
        ("description", "x" * 5001, "Description must be 5000 characters or fewer"),
        ("category", "spaceships", "Select a category"),
        ("district", "Rutland", "Select a district"),
        ("outcomes", [], "Select at least one outcome"),
        ("outcomes", ["world-peace"], "Select at least one outcome (not known: world-peace)"),
        ("needed_by", "2020-01-01", "The needed-by date must be today or in the future"),
        ("needed_by", "31/02/2027", "The needed-by date must be a real date, like 2027-03-31"),
        ("title", 42, "Title must be text"),
    ],
)
def test_bad_fields_are_named_with_a_clear_message(session, make_user, today, field, value, message):
    with pytest.raises(ValidationFailed) as caught:
        needs.post_need(session, make_user("community"), need_fields(**{field: value}), today)
    assert caught.value.fields[field] == message


def test_every_bad_field_is_reported_at_once(session, make_user, today):
    with pytest.raises(ValidationFailed) as caught:
        needs.post_need(session, make_user("community"), {}, today)
    assert set(caught.value.fields) == {"title", "description", "category", "district", "outcomes"}


def test_unknown_fields_are_refused_not_ignored(session, make_user, today):
    with pytest.raises(ValidationFailed) as caught:
        needs.post_need(session, make_user("community"), need_fields(status="met"), today)
    assert "status" in caught.value.fields


def test_text_is_kept_exactly_apart_from_surrounding_spaces(session, make_user, today):
    text = "  <script>alert('x')</script> Café 🎉 need  "
    need = needs.post_need(session, make_user("community"), need_fields(title=text), today)
    assert need.title == "<script>alert('x')</script> Café 🎉 need"


def test_owner_group_edits_an_open_need(session, make_user, make_need, today):
    member = make_user("community")
    colleague = make_user("community", organisation=member.organisation.name)
    need = make_need(by=member)
    needs.edit_need(session, colleague, need.id, {"title": "A warmer room for carers"}, today)
    assert need.title == "A warmer room for carers"
    assert need.description == need_fields()["description"]


def test_another_group_cannot_edit_or_withdraw(session, make_user, make_need, today):
    need = make_need()
    other = make_user("community")
    with pytest.raises(Forbidden):
        needs.edit_need(session, other, need.id, {"title": "Hijacked title"}, today)
    with pytest.raises(Forbidden):
        needs.withdraw_need(session, other, need.id)
    assert need.status is NeedStatus.OPEN


def test_withdrawn_need_cannot_be_withdrawn_or_edited_again(session, make_user, make_need, today):
    member = make_user("community")
    need = make_need(by=member)
    needs.withdraw_need(session, member, need.id)
    with pytest.raises(InvalidTransition, match="withdrawn"):
        needs.withdraw_need(session, member, need.id)
    with pytest.raises(InvalidTransition):
        needs.edit_need(session, member, need.id, {"title": "Changed title"}, today)


def test_overdue_needs_expire(session, make_need, today):
    soon = make_need(needed_by=(today + timedelta(days=1)).isoformat())
    later = make_need(needed_by=(today + timedelta(days=30)).isoformat())
    assert needs.expire_overdue_needs(session, today + timedelta(days=2)) == 1
    session.refresh(soon)
    session.refresh(later)
    assert soon.status is NeedStatus.EXPIRED
    assert later.status is NeedStatus.OPEN


def test_unverified_groups_needs_are_seen_only_by_members_and_officers(session, make_user, make_need, officer):
    member = make_user("community", verified=False)
    need = make_need(by=member)
    assert needs.get_need(session, member, need.id) is need
    assert needs.get_need(session, officer, need.id) is need
    for viewer in (None, make_user("supplier"), make_user("community")):
        with pytest.raises(NotFound):
            needs.get_need(session, viewer, need.id)
        assert need.id not in [n.id for n in needs.list_needs(session, viewer, Filters(), 1, 100).items]


def test_withdrawn_needs_are_hidden_from_the_public(session, make_user, make_need):
    member = make_user("community")
    need = make_need(by=member)
    needs.withdraw_need(session, member, need.id)
    with pytest.raises(NotFound):
        needs.get_need(session, None, need.id)
    assert needs.get_need(session, member, need.id).status is NeedStatus.WITHDRAWN


def test_browse_filters_by_category_district_outcome_and_status(session, make_user, make_need):
    member = make_user("community")
    room = make_need(by=member, category="premises", district="Melton", outcomes=["great-communities"])
    van = make_need(by=member, category="transport", district="Blaby", outcomes=["keeping-people-safe"])
    gone = make_need(by=member, category="transport", district="Blaby")
    needs.withdraw_need(session, member, gone.id)

    def ids(**filters):
        return {n.id for n in needs.list_needs(session, member, Filters(**filters), 1, 100).items}

    assert room.id in ids(category="premises") and van.id not in ids(category="premises")
    assert ids(district="Blaby") >= {van.id} and room.id not in ids(district="Blaby")
    assert van.id in ids(outcome="keeping-people-safe") and room.id not in ids(outcome="keeping-people-safe")
    assert gone.id not in ids() and gone.id in ids(status="withdrawn")
    assert {room.id, van.id, gone.id} <= ids(status="any")


def test_browse_pages_newest_first_and_past_the_end_is_empty(session, make_user, make_need):
    member = make_user("community", organisation="Paging test group")
    posted = [make_need(by=member, title=f"Paged need number {i}") for i in range(5)]
    first = needs.list_needs(session, member, Filters(), 1, 2)
    assert first.total >= 5
    assert first.items[0].id == posted[-1].id
    beyond = needs.list_needs(session, member, Filters(), 10_000, 2)
    assert beyond.items == [] and beyond.total == first.total
