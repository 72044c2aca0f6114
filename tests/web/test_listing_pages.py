from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.models import Need

NEED_FORM_FIELDS = {
    "title": "Laptops for our homework club",
    "description": "Ten children share two old laptops; we need six more that can run a browser.",
    "category": "goods",
    "district": "Oadby and Wigston",
    "outcomes": ["wellbeing-and-opportunity"],
}


def test_public_browses_needs_and_offers(client, make_need, make_offer):
    need = make_need(title="Tables for our youth club")
    offer = make_offer(title="Spare office desks going free")
    assert "Tables for our youth club" in client.get("/needs").get_data(as_text=True)
    assert "Spare office desks going free" in client.get("/offers").get_data(as_text=True)
    detail = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert need.description in detail and need.organisation.name in detail
    assert "Spare office desks going free" in client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert client.get("/needs/999999").status_code == 404


def test_filters_narrow_the_list_and_bad_filters_are_explained(client, make_need):
    make_need(title="Minibus to the coast", category="transport")
    make_need(title="Hall for a tea dance", category="premises")
    page = client.get("/needs?category=transport").get_data(as_text=True)
    assert "Minibus to the coast" in page and "Hall for a tea dance" not in page
    response = client.get("/needs?category=rockets&page=-1")
    assert response.status_code == 200
    assert "Unknown category: rockets" in response.get_data(as_text=True)


def test_paging_links_keep_the_filters_and_every_parameter_stays_a_parameter(client, make_user, make_need):
    group = make_user("community")
    for n in range(21):
        make_need(by=group, title=f"Paged hall booking {n}", district="Melton")
    page = client.get("/needs?district=Melton&page=1").get_data(as_text=True)
    assert 'href="/needs?district=Melton&amp;page=2"' in page
    # Names that url_for would read as its own options (an anchor, an absolute address in
    # another scheme) are only parameters of the address the visitor asked for.
    page = client.get("/needs?district=Melton&_anchor=x&_external=1&_scheme=javascript").get_data(as_text=True)
    assert 'href="/needs?district=Melton&amp;_anchor=x&amp;_external=1&amp;_scheme=javascript&amp;page=2"' in page
    assert "javascript:" not in page and "#x" not in page


def test_community_member_posts_a_need_through_the_form(browser, make_user, session, today):
    browser.sign_in(make_user("community"))
    needed_by = today + timedelta(days=40)
    page = browser.submit(
        "/needs/new",
        {
            "title": "Laptops for our homework club",
            "description": "Ten children share two old laptops; we need six more that can run a browser.",
            "category": "goods",
            "district": "Oadby and Wigston",
            "outcomes": ["wellbeing-and-opportunity", "strong-economy"],
            "quantity": "6 laptops",
            "needed_by": [str(needed_by.day), str(needed_by.month), str(needed_by.year)],
        },
    ).get_data(as_text=True)
    assert "Your need has been posted." in page
    assert "Laptops for our homework club" in page
    need = session.scalar(select(Need).where(Need.title == "Laptops for our homework club"))
    assert need.needed_by == needed_by
    assert [o.code for o in need.outcomes] == ["strong-economy", "wellbeing-and-opportunity"]


def test_need_form_errors_keep_what_was_typed_and_save_nothing(browser, make_user, session):
    browser.sign_in(make_user("community"))
    before = session.scalar(select(func.count()).select_from(Need))
    page = browser.submit(
        "/needs/new",
        {"title": "Tea", "description": "too short", "needed_by": ["31", "2", "2027"]},
    ).get_data(as_text=True)
    assert "There is a problem" in page
    assert "Title must be 5 characters or more" in page
    assert "Needed by must be a real date" in page and 'href="#needed_by-day"' in page
    assert "2027-03-31" not in page
    assert 'value="Tea"' in page
    assert session.scalar(select(func.count()).select_from(Need)) == before


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (["27", "3", ""], "Needed by must include a year"),
        (["", "", "2027"], "Needed by must include a day and month"),
        (["27", "", "2027"], "Needed by must include a month"),
        (["27", "3", "27"], "Needed by must include a year with 4 numbers, like 2027"),
        (["x", "3", "2027"], "Needed by must be a real date"),
    ],
)
def test_date_errors_follow_the_day_month_and_year_boxes(browser, make_user, parts, message):
    browser.sign_in(make_user("community"))
    page = browser.submit("/needs/new", {**NEED_FORM_FIELDS, "needed_by": parts}).get_data(as_text=True)
    assert page.count(message) == 2, message  # in the summary and by the field
    assert "like 2027-03-31" not in page


def test_supplier_cannot_post_needs(browser, make_user):
    browser.sign_in(make_user("supplier"))
    response = browser.client.get("/needs/new")
    assert response.status_code == 403
    assert "You cannot do that" in response.get_data(as_text=True)


def test_user_text_is_escaped(client, make_need):
    need = make_need(title="<script>alert(1)</script> 🎉", description="<b>bold?</b> " + "x" * 30)
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 🎉" in page
    assert "&lt;b&gt;bold?&lt;/b&gt;" in page


def test_owner_edits_and_withdraws_a_need(browser, make_user, make_need):
    member = make_user("community")
    need = make_need(by=member)
    browser.sign_in(member)
    form = browser.client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert f'value="{need.title}"' in form.replace("&#39;", "'")
    page = browser.submit(
        f"/needs/{need.id}/edit",
        {
            "title": "A bigger warm room",
            "description": need.description,
            "category": "premises",
            "district": "Charnwood",
            "outcomes": ["wellbeing-and-opportunity"],
        },
    ).get_data(as_text=True)
    assert "Your changes have been saved." in page and "A bigger warm room" in page
    page = browser.submit(f"/needs/{need.id}/withdraw").get_data(as_text=True)
    assert "Your need has been withdrawn." in page


def test_other_group_gets_a_403_page_for_edit(browser, make_user, make_need):
    need = make_need()
    browser.sign_in(make_user("community"))
    assert browser.client.get(f"/needs/{need.id}/edit").status_code == 403


def test_unverified_groups_see_their_need_with_a_banner_and_the_public_does_not(browser, client, make_user, make_need):
    member = make_user("community", verified=False)
    need = make_need(by=member)
    assert client.get(f"/needs/{need.id}").status_code == 404
    browser.sign_in(member)
    page = browser.client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "Not yet public" in page and "Only its members and council officers can see this." in page


def test_supplier_posts_pauses_and_resumes_an_offer(browser, make_user):
    browser.sign_in(make_user("supplier"))
    page = browser.submit(
        "/offers/new",
        {
            "title": "Van and driver on Fridays",
            "description": "A 3.5 tonne van with a driver for deliveries across the county on Fridays.",
            "category": "transport",
            "districts": ["County-wide"],
            "measure": "transport-provided",
            "capacity": "2,000",
        },
    )
    text = page.get_data(as_text=True)
    assert "Your offer has been posted." in text and "£2,000 of hire value" in text
    offer_path = page.request.path
    page = browser.submit(f"{offer_path}/pause").get_data(as_text=True)
    assert "Your offer has been paused." in page and "Paused" in page
    page = browser.submit(f"{offer_path}/resume").get_data(as_text=True)
    assert "Your offer has been resumed." in page


def test_offer_form_reports_capacity_without_measure(browser, make_user):
    browser.sign_in(make_user("supplier"))
    page = browser.submit(
        "/offers/new",
        {
            "title": "Hours of help",
            "description": "Our staff can help with painting and decorating community buildings.",
            "category": "volunteering",
            "districts": ["Blaby"],
            "capacity": "forty",
        },
    ).get_data(as_text=True)
    assert "Capacity must be a number, like 40" in page


def test_my_needs_lists_every_status(browser, make_user, make_need, session):
    from marketplace.services import needs

    member = make_user("community")
    kept = make_need(by=member, title="Open need of ours")
    gone = make_need(by=member, title="Withdrawn need of ours")
    needs.withdraw_need(session, member, gone.id)
    browser.sign_in(member)
    page = browser.client.get("/account/needs").get_data(as_text=True)
    assert kept.title in page and gone.title in page and "Withdrawn" in page
