"""The pledge journey through the pages, as three people."""

import html as html_lib
import io
import re

from sqlalchemy import func, select

from marketplace.models import Pledge
from tests.conftest import PASSWORD
from tests.evidence_files import photo_with_gps, plain_pdf
from tests.web.conftest import csrf_token


def test_pledge_journey_through_the_pages(app, make_user, make_need, make_offer, officer):
    from tests.web.conftest import Browser

    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group, category="volunteering", title="Litter pick along the canal")
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=50,
                       title="Staff volunteering days")  # fmt: skip
    as_supplier, as_group, as_officer = (Browser(app.test_client()) for _ in range(3))
    as_supplier.sign_in(supplier)
    form = as_supplier.client.get(f"/needs/{need.id}/pledge?offer_id={offer.id}").get_data(as_text=True)
    assert "£16.93" in form and "selected" in form
    page = as_supplier.submit(
        f"/needs/{need.id}/pledge", {"offer_id": str(offer.id), "measure": "volunteering-hours", "quantity": "20",
                                     "message": "A team of ten for two hours"})  # fmt: skip
    text = page.get_data(as_text=True)
    assert "Your pledge has been sent" in text and "20 hours" in text
    assert "You will see how to contact" in text
    pledge_url = page.request.path

    as_group.sign_in(group)
    text = as_group.submit(f"{pledge_url}/accept", form_url=pledge_url).get_data(as_text=True)
    assert "You accepted the pledge" in text

    text = as_supplier.client.get(pledge_url).get_data(as_text=True)
    assert group.email in text  # contact details now shown to the supplier

    as_officer.sign_in(officer)
    queue = as_officer.client.get("/officer/pledges").get_data(as_text=True)
    assert "Litter pick along the canal" in queue and "£338.60" in queue
    # The queue links to a confirmation page; nothing there approves in one click.
    assert f'action="{pledge_url}/approve"' not in queue and f'href="{pledge_url}/approve"' in queue
    confirm = as_officer.client.get(f"{pledge_url}/approve").get_data(as_text=True)
    assert "counts as a social value commitment" in confirm and "told by email" in confirm
    text = as_officer.submit(f"{pledge_url}/approve").get_data(as_text=True)
    assert "approved and counts as a commitment" in text and "£338.60" in text

    page = as_supplier.client.get(f"{pledge_url}/evidence")
    token = csrf_token(page.get_data(as_text=True))
    text = as_supplier.client.post(
        f"{pledge_url}/evidence",
        data={"csrf_token": token, "file": [(io.BytesIO(photo_with_gps()), "bags.jpg"),
                                            (io.BytesIO(plain_pdf()), "route.pdf")]},
        content_type="multipart/form-data", follow_redirects=True,
    ).get_data(as_text=True)  # fmt: skip
    assert "2 files added" in text and "bags.jpg" in text and "route.pdf" in text
    text = as_supplier.submit(f"{pledge_url}/deliver", {"evidence": "Picked 14 bags on 5 May"}).get_data(as_text=True)
    assert "There is a problem" in text and "another contract" in text  # the declaration is required
    text = as_supplier.submit(
        f"{pledge_url}/deliver", {"evidence": "Picked 14 bags on 5 May", "declaration": "yes"}
    ).get_data(as_text=True)
    assert "gone to the council to check" in text

    assert "Confirm it was delivered" not in as_group.client.get(pledge_url).get_data(as_text=True)
    text = as_officer.submit(f"{pledge_url}/request-evidence", {"reason": "Add a photo of the canal"}).get_data(
        as_text=True
    )
    assert "asked for more evidence" in text and "Add a photo of the canal" in text
    text = as_supplier.submit(
        f"{pledge_url}/deliver", {"evidence": "Picked 14 bags on 5 May; photo attached", "declaration": "yes"}
    ).get_data(as_text=True)
    assert "gone to the council to check" in text
    text = as_officer.submit(f"{pledge_url}/accept-evidence", form_url=pledge_url).get_data(as_text=True)
    assert "evidence is accepted" in text
    text = as_group.submit(f"{pledge_url}/confirm", {"need_met": "yes"}, form_url=pledge_url).get_data(as_text=True)
    assert "confirmed as delivered" in text and "Confirmed" in text and "shown as met" in text


def test_pledge_form_errors_are_shown_and_nothing_saved(browser, make_user, make_need):
    need = make_need()
    browser.sign_in(make_user("supplier"))
    page = browser.submit(f"/needs/{need.id}/pledge", {"measure": "", "quantity": "lots"}).get_data(as_text=True)
    assert "There is a problem" in page and "The quantity must be a number, like 40" in page


def test_reject_needs_a_reason_on_the_page(app, make_user, make_need, officer, session):
    from marketplace.services import pledges
    from tests.web.conftest import Browser

    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group)
    made = pledges.propose_pledge(session, supplier, {"need_id": need.id, "quantity": 3, "measure": "goods-donated"})
    pledges.accept_pledge(session, group, made.id)
    browser = Browser(app.test_client())
    browser.sign_in(officer, PASSWORD)
    page = browser.submit(f"/pledges/{made.id}/reject", {"reason": ""}).get_data(as_text=True)
    assert "Enter the reason for rejecting the pledge" in page
    page = browser.submit(f"/pledges/{made.id}/reject", {"reason": "Not a council contract"}).get_data(as_text=True)
    assert "The pledge was rejected" in page and "Not a council contract" in page


def test_officer_pages_for_contracts_measures_audit_and_assisted_needs(browser, make_user, officer, session):
    group = make_user("community", organisation="Phone-in Group")
    supplier = make_user("supplier", organisation="Gritting Ltd")
    browser.sign_in(officer)
    page = browser.submit("/officer/contracts/new", {
        "reference": "LCC-77", "title": "Winter gritting", "supplier_id": str(supplier.organisation_id),
        "value": "150,000", "start_date": ["1", "4", "2026"], "end_date": ["31", "3", "2029"]}).get_data(as_text=True)  # fmt: skip
    assert "Contract LCC-77 is registered" in page and "No target set" in page
    page = browser.submit("/officer/measures/volunteering-hours/edit", {
        "name": "Employee volunteering time", "unit": "hour", "proxy_value": "17.50", "source": "2027 review",
        "outcomes": ["great-communities"], "active": "yes"}).get_data(as_text=True)  # fmt: skip
    assert "£17.50" in page
    audit = browser.client.get("/officer/audit?entity_type=measure").get_data(as_text=True)
    assert "Measure changed" in audit and "16.93 → 17.50" in audit
    page = browser.submit("/officer/needs/new", {
        "organisation_id": str(group.organisation_id), "title": "Help with our accounts",
        "description": "Our treasurer has left and we need help preparing this year's accounts.",
        "category": "expertise", "district": "Melton", "outcomes": ["strong-economy"]}).get_data(as_text=True)  # fmt: skip
    assert "The need has been posted for Phone-in Group" in page
    dashboard = browser.client.get("/officer").get_data(as_text=True)
    assert "Help with our accounts" in dashboard and "Days waiting" in dashboard


def test_the_same_pledge_twice_is_refused_on_the_page_and_nothing_saved(browser, make_user, make_need, session):
    need = make_need(title="Chairs for the village hall")
    supplier = make_user("supplier")
    browser.sign_in(supplier)
    pledge = {"measure": "premises-provided", "quantity": "3", "message": "Three evenings in our hall"}
    assert "Your pledge has been sent" in browser.submit(f"/needs/{need.id}/pledge", pledge).get_data(as_text=True)

    again = browser.submit(f"/needs/{need.id}/pledge", pledge)

    assert again.status_code == 409
    text = html_lib.unescape(again.get_data(as_text=True))
    assert "There is a problem" in text and "govuk-error-summary" in text
    assert (
        f"{supplier.organisation.name} has already pledged £3 of market rent to “Chairs for the village hall”, "
        "and that pledge is waiting for the group's answer" in text
    )
    assert "Three evenings in our hall" in text  # the form keeps what was sent
    count = select(func.count()).select_from(Pledge).where(Pledge.need_id == need.id)
    assert session.scalar(count) == 1
    # A different amount is a different pledge.
    different = browser.submit(f"/needs/{need.id}/pledge", {**pledge, "quantity": "4"})
    assert "Your pledge has been sent" in different.get_data(as_text=True)
    assert session.scalar(count) == 2


def _measure_question(html: str) -> str:
    """The form group holding the measure question, as the page sends it."""
    start = html.rindex('<div class="govuk-form-group', 0, html.index('id="measure"'))
    return html[start : html.index("</select>", start)]


def test_without_an_offer_the_form_asks_for_the_measure_and_counts_the_pledge_in_it(
    browser, session, make_user, make_need
):
    need = make_need(category="volunteering")
    supplier = make_user("supplier")
    browser.sign_in(supplier)

    html = browser.client.get(f"/needs/{need.id}/pledge").get_data(as_text=True)

    question = _measure_question(html)
    assert "hidden" not in question.split(">")[0] and " disabled" not in question
    assert re.search(r"<p [^>]*data-pledge-offer-measure hidden", html)  # nothing is said about an offer's measure
    page = browser.submit(f"/needs/{need.id}/pledge", {"measure": "volunteering-hours", "quantity": "6"})
    assert "Your pledge has been sent" in page.get_data(as_text=True)
    made = session.scalar(select(Pledge).where(Pledge.need_id == need.id))
    assert made.measure_code == "volunteering-hours" and made.offer_id is None


def _signed_in_with_an_offer(browser, make_user, make_need, make_offer):
    """A volunteering need, and a signed-in supplier with an offer counted in hours of volunteering."""
    need = make_need(category="volunteering")
    supplier = make_user("supplier")
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=50,
                       title="Staff volunteering days")  # fmt: skip
    browser.sign_in(supplier)
    return need, offer


def test_from_an_offer_the_form_shows_the_offers_measure_and_sends_no_other(
    browser, session, make_user, make_need, make_offer
):
    need, offer = _signed_in_with_an_offer(browser, make_user, make_need, make_offer)

    html = html_lib.unescape(browser.client.get(f"/needs/{need.id}/pledge?offer_id={offer.id}").get_data(as_text=True))

    # With JavaScript off: the measure question is neither shown nor sent (a disabled select is not
    # part of the form's data); the page says which measure counts instead.
    question = _measure_question(html)
    assert " hidden" in question.split(">")[0] and " disabled" in question
    assert (
        "Counted in the offer’s measure: <strong data-pledge-offer-measure-label>Employee volunteering time on a community project (hour)"
        in html
    )
    assert "Staff volunteering days, counted in Employee volunteering time on a community project (hour)" in html
    page = browser.submit(f"/needs/{need.id}/pledge", {"offer_id": str(offer.id), "quantity": "6"},
                          form_url=f"/needs/{need.id}/pledge?offer_id={offer.id}")  # fmt: skip
    assert "Your pledge has been sent" in page.get_data(as_text=True)
    made = session.scalar(select(Pledge).where(Pledge.need_id == need.id))
    assert made.measure_code == "volunteering-hours" and made.offer_id == offer.id


def test_an_offer_with_a_different_measure_chosen_is_refused_not_silently_changed(
    browser, session, make_user, make_need, make_offer
):
    need, offer = _signed_in_with_an_offer(browser, make_user, make_need, make_offer)

    # Without JavaScript the measure question is on the page until an offer is chosen and sent.
    page = browser.submit(
        f"/needs/{need.id}/pledge", {"offer_id": str(offer.id), "measure": "expert-hours", "quantity": "6"}
    )

    text = html_lib.unescape(page.get_data(as_text=True))
    assert "There is a problem" in text
    assert "Pledges from “Staff volunteering days” are counted in its measure, Employee volunteering time" in text
    assert 'href="#offer_id"' in text  # the summary leads to the offer, the question on the page
    assert session.scalar(select(Pledge).where(Pledge.need_id == need.id)) is None


def test_the_groups_waiting_count_follows_a_pledge_at_once(app, make_user, make_need, session):
    # The navigation's count is kept while nothing in the database changes: a pledge made
    # (and then answered) through other requests shows on the group's very next page.
    from tests.web.conftest import Browser

    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group)
    session.commit()
    as_group, as_supplier = Browser(app.test_client()), Browser(app.test_client())
    as_group.sign_in(group)
    as_supplier.sign_in(supplier)
    need_page = f"/needs/{need.id}"
    assert "(1 waiting)" not in as_group.client.get(need_page).get_data(as_text=True)
    assert "(1 waiting)" not in as_group.client.get(need_page).get_data(as_text=True)  # kept, still right

    page = as_supplier.submit(
        f"{need_page}/pledge", {"measure": "goods-donated", "quantity": "3", "measure_checked": "yes"}
    )
    assert "Your pledge has been sent" in page.get_data(as_text=True)
    assert "Your account (1 waiting)" in as_group.client.get(need_page).get_data(as_text=True)

    pledge_url = page.request.path
    assert "You accepted the pledge" in as_group.submit(f"{pledge_url}/accept", form_url=pledge_url).get_data(
        as_text=True
    )
    assert "(1 waiting)" not in as_group.client.get(need_page).get_data(as_text=True)
