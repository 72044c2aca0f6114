"""Pages that lead people to their next step: asking for an offer, requests, messages, tasks,
teams, joining by invitation (with the e-mail taken from a real SMTP server) and registering
with an organisation that exists."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.models import JoinRequest, Message, OfferRequest, Pledge, User
from tests.conftest import PASSWORD
from tests.services.test_mail import SmtpServer
from tests.web.conftest import Browser, csrf_token, emails_to, link_in_email


def browser_for(app) -> Browser:
    return Browser(app.test_client())


def tasks_on_home(browser: Browser) -> list[str]:
    page = browser.client.get("/account").get_data(as_text=True)
    return re.findall(r'class="app-task" data-kind="([a-z_]+)"', page)


def test_a_group_asks_the_supplier_pledges_and_they_talk(app, session, make_user, make_need, make_offer):
    member, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=member, title="Paint our village hall")
    offer = make_offer(by=supplier, title="Staff volunteering days", category="volunteering",
                       measure="volunteering-hours", capacity=40)  # fmt: skip
    session.commit()
    group, firm = browser_for(app), browser_for(app)
    group.sign_in(member)
    firm.sign_in(supplier)

    offer_page = group.client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "Ask for this offer" in offer_page and "Still available: <strong>40 hours</strong> of 40 hours" in offer_page
    refused = group.submit(f"/offers/{offer.id}/ask", {"need_id": str(need.id), "message": ""})
    assert refused.status_code == 422 and 'href="#message"' in refused.get_data(as_text=True)
    page = group.submit(f"/offers/{offer.id}/ask", {"need_id": str(need.id), "message": "Four of you in May?"})
    assert "Your request has been sent" in page.get_data(as_text=True)
    item = session.scalar(select(OfferRequest))
    assert tasks_on_home(firm) == ["request_to_answer"] and tasks_on_home(group) == []
    nav = firm.client.get("/needs").get_data(as_text=True)
    assert "Your account (1 waiting)" in nav

    form = firm.client.get(f"/requests/{item.id}").get_data(as_text=True)
    assert "Your turn: answer" in form and "Turn into a pledge" in form
    pledge_form = firm.client.get(f"/needs/{need.id}/pledge?request_id={item.id}").get_data(as_text=True)
    assert f'<option selected value="{offer.id}">' in pledge_form or f'value="{offer.id}" selected' in pledge_form
    page = firm.submit(
        f"/needs/{need.id}/pledge",
        {
            "request_id": str(item.id),
            "offer_id": str(offer.id),
            "quantity": "16",
            "measure": "",
            "measure_checked": "yes",
        },
        form_url=f"/needs/{need.id}/pledge?request_id={item.id}",
    )
    assert page.status_code == 200, page.get_data(as_text=True)
    pledge = session.scalar(select(Pledge))
    session.refresh(item)
    assert item.status.value == "pledged" and item.pledge_id == pledge.id, (
        pledge and pledge.id,
        re.findall(r"govuk-error-message[^>]*>(?:<[^>]*>)*([^<]*)", page.get_data(as_text=True)),
    )
    assert tasks_on_home(firm) == [] and tasks_on_home(group) == ["pledge_to_answer"]

    markup = firm.submit(f"/pledges/{pledge.id}/messages", {"body": "<b>Hi</b>"}, form_url=f"/pledges/{pledge.id}")
    assert markup.status_code == 422 and "plain text" in markup.get_data(as_text=True)
    firm.submit(
        f"/pledges/{pledge.id}/messages", {"body": "Is 10 May ok? 5 > 4 & all"}, form_url=f"/pledges/{pledge.id}"
    )
    shown = group.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "Is 10 May ok? 5 &gt; 4 &amp; all" in shown
    assert tasks_on_home(group) == ["message", "pledge_to_answer"]
    group.submit(f"/pledges/{pledge.id}/messages", {"body": "Yes, thank you"}, form_url=f"/pledges/{pledge.id}")
    assert tasks_on_home(group) == ["pledge_to_answer"] and tasks_on_home(firm) == ["message"]
    assert len(session.scalars(select(Message.id)).all()) == 2
    # The other side is e-mailed a link straight to the conversation.
    (mail,) = [m for m in emails_to(session, member.email) if m.subject.startswith("New message")]
    assert f"http://localhost/pledges/{pledge.id}#messages" in mail.body


def test_visitors_are_told_how_to_start_and_come_back(client, session, make_need, make_offer):
    need, offer = make_need(), make_offer()
    session.commit()
    need_page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f'href="/sign-in?next=/needs/{need.id}">Sign in to pledge' in need_page
    assert "register your organisation to pledge" in need_page
    offer_page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert f'href="/sign-in?next=/offers/{offer.id}">Sign in to ask for this' in offer_page
    assert "register your organisation to ask for this" in offer_page


@pytest.mark.parametrize("kind", ["need", "offer"])
def test_a_visitor_who_registers_from_a_page_comes_back_to_it(app, session, make_need, make_offer, kind):
    listing = make_need() if kind == "need" else make_offer()
    session.commit()
    path = f"/{kind}s/{listing.id}"
    visitor = browser_for(app)
    page = visitor.client.get(path).get_data(as_text=True)
    register = f"/register?next={path}"
    assert f'href="{register}"' in page
    form = {"role": "community", "organisation_name": "Countesthorpe Youth Club", "name": "Jo Bell",
            "email": "jo@example.org", "password": "a long password", "password_confirmation": "a long password"}  # fmt: skip
    checking = visitor.submit(register, form).get_data(as_text=True)
    assert "Check your email" in checking and f'href="/sign-in?next={path}"' in checking
    link = link_in_email(session, "jo@example.org")
    assert link.endswith(f"?next={path.replace('/', '%2F')}")
    confirmed = visitor.client.get(link).get_data(as_text=True)
    assert "Sign in and go back to the page you were on" in confirmed
    sign_in = re.search(r'href="(/sign-in\?next=[^"]+)"', confirmed).group(1)
    answer = visitor.submit(sign_in.replace("&amp;", "&"), {"email": "jo@example.org", "password": "a long password"},
                            follow=False)  # fmt: skip
    assert answer.status_code == 302 and answer.headers["Location"] == path


def test_a_confirmation_link_opened_again_still_leads_back_to_the_page(app, session, make_need):
    """Opened a second time (from the e-mail, or the browser's history), the link still knows where the person was going."""
    need = make_need()
    session.commit()
    path = f"/needs/{need.id}"
    visitor = browser_for(app)
    form = {"role": "community", "organisation_name": "Enderby Walking Group", "name": "Ali Shah",
            "email": "ali@example.org", "password": "a long password", "password_confirmation": "a long password"}  # fmt: skip
    visitor.submit(f"/register?next={path}", form)
    link = link_in_email(session, "ali@example.org")
    assert visitor.client.get(link).status_code == 200
    again = visitor.client.get(link)
    page = again.get_data(as_text=True)
    assert again.status_code == 200
    assert "already confirmed" in page and "not valid" not in page
    assert "Sign in and go back to the page you were on" in page
    sign_in = re.search(r'href="(/sign-in\?next=[^"]+)"', page).group(1)
    answer = visitor.submit(sign_in.replace("&amp;", "&"), {"email": "ali@example.org", "password": "a long password"},
                            follow=False)  # fmt: skip
    assert answer.status_code == 302 and answer.headers["Location"] == path
    # Signed in now, the same link goes straight on.
    page = visitor.client.get(link).get_data(as_text=True)
    assert f'href="{path}">Go back to the page you were on' in page
    # Only ever onward to a page of this site, whatever is put on the link.
    page = visitor.client.get(link.split("?")[0] + "?next=https://evil.example/").get_data(as_text=True)
    assert "evil.example" not in page


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]
)
def test_sign_in_never_leads_to_another_site(app, make_user, session, target):
    user = make_user("community")
    session.commit()
    visitor = browser_for(app)
    answer = visitor.submit(f"/sign-in?next={target}", {"email": user.email, "password": PASSWORD}, follow=False)
    assert answer.headers["Location"] == "/account"


def test_registration_answers_the_same_for_an_existing_and_a_new_organisation(app, session, make_user):
    """Issue 12, finding 9c: the page must not say whether an organisation of that name exists."""
    existing = make_user("community", organisation="Syston Carers Group")
    session.commit()
    answers = []
    for name, email in (("Syston Carers Group", "sam@example.org"), ("Brand New Group", "kim@example.org")):
        browser = browser_for(app)
        form = {"role": "community", "organisation_name": name, "name": "Someone", "email": email,
                "password": "a long password", "password_confirmation": "a long password"}  # fmt: skip
        response = browser.submit("/register", form)
        page = response.get_data(as_text=True).replace(email, "EMAIL")
        answers.append((response.status_code, re.sub(r'value="[^"]+"', "", page)))
        (mail,) = emails_to(session, email)
        answers.append(mail.subject)
    assert answers[0] == answers[2] and answers[1] == answers[3]
    assert "already registered" not in answers[0][1]
    assert session.scalar(select(User).where(User.email == "sam@example.org")) is None

    # Both confirm their address: the page reads the same (nobody is signed in by it either).
    confirmed = []
    for email, name in (("sam@example.org", "Syston Carers Group"), ("kim@example.org", "Brand New Group")):
        response = browser_for(app).client.get(link_in_email(session, email))
        page = response.get_data(as_text=True).replace(email, "EMAIL").replace(name, "ORGANISATION")
        confirmed.append((response.status_code, re.sub(r'value="[^"]+"', "", page)))
    assert confirmed[0] == confirmed[1]
    assert confirmed[0][0] == 200 and "already registered on the marketplace" not in confirmed[0][1]
    assert "Sign out" not in confirmed[0][1]

    # The group's members are asked; a member admits Sam, who can then sign in.
    sam = browser_for(app)
    member = browser_for(app)
    member.sign_in(existing)
    assert tasks_on_home(member) == ["join_request"]
    join = session.scalar(select(JoinRequest))
    member.submit(f"/account/team/requests/{join.id}/admit", form_url="/account/team")
    assert "Syston Carers Group" in sam.submit("/sign-in", {"email": "sam@example.org",
                                                            "password": "a long password"}).get_data(as_text=True)  # fmt: skip
    assert (
        session.scalar(select(User).where(User.email == "sam@example.org")).organisation_id == existing.organisation_id
    )


def test_a_joiner_waiting_for_the_organisation_is_told_so_at_sign_in_and_only_with_the_right_password(
    app, session, make_user
):
    make_user("community", organisation="Syston Carers Group")
    session.commit()
    sam = browser_for(app)
    form = {"role": "community", "organisation_name": "Syston Carers Group", "name": "Sam Patel",
            "email": "sam@example.org", "password": "a long password", "password_confirmation": "a long password"}  # fmt: skip
    sam.submit("/register", form)
    right = {"email": "Sam@Example.org", "password": "a long password"}
    # Not confirmed yet: the link is sent again, as for anyone who has not confirmed.
    page = sam.submit("/sign-in", right).get_data(as_text=True)
    assert "You need to confirm your email address" in page
    assert len(emails_to(session, "sam@example.org")) == 2
    sam.client.get(link_in_email(session, "sam@example.org"))

    page = sam.submit("/sign-in", right).get_data(as_text=True)
    assert "Your request to join Syston Carers Group is waiting for the organisation&#39;s approval" in page
    assert "not correct" not in page and "Sign out" not in page
    # A wrong password learns nothing: the same answer as for an address nobody registered.
    wrong = sam.submit("/sign-in", {"email": "sam@example.org", "password": "not the password"}).get_data(as_text=True)
    nobody = sam.submit("/sign-in", {"email": "nobody@example.org", "password": "not the password"})
    assert "Email address or password is not correct" in wrong and "Syston" not in wrong
    assert re.sub(r'value="[^"]+"', "", wrong) == re.sub(r'value="[^"]+"', "", nobody.get_data(as_text=True))


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_a_second_member_joins_by_the_e_mailed_invitation(config, session_factory, session, make_user, smtp_server):
    from marketplace.app import create_app

    app = create_app(
        config.with_overrides(
            smtp_url=smtp_server.url, base_url="https://market.example.gov.uk", allowed_hosts=("localhost",)
        ),
        session_factory=session_factory,
    )
    first = make_user("supplier", organisation="Midshires Build")
    outsider = make_user("community")
    session.commit()
    browser = browser_for(app)
    browser.sign_in(first)
    taken = browser.submit("/account/team", {"email": outsider.email})
    assert taken.status_code == 422 and "another organisation" in taken.get_data(as_text=True)
    browser.submit("/account/team", {"email": "sam.patel@example.org"})

    (mail,) = smtp_server.inbox.to("sam.patel@example.org")
    assert mail["Subject"].endswith("invites you to join Midshires Build on the Social Value Marketplace")
    link = re.search(r"https://market\.example\.gov\.uk(/join/\S+)", mail.get_content()).group(1)
    newcomer = browser_for(app)
    page = newcomer.client.get(link).get_data(as_text=True)
    assert "Join Midshires Build" in page
    weak = newcomer.client.post(link, data={"csrf_token": csrf_token(page), "name": "Sam Patel", "password": "short",
                                            "password_confirmation": "short"})  # fmt: skip
    assert weak.status_code == 422
    joined = newcomer.submit(link, {"name": "Sam Patel", "password": PASSWORD, "password_confirmation": PASSWORD})
    assert "Welcome to Midshires Build" in joined.get_data(as_text=True)
    # The link works once.
    assert browser_for(app).client.get(link).status_code == 400
    team = browser.client.get("/account/team").get_data(as_text=True)
    assert "Sam Patel" in team and first.name in team
    sam = session.scalar(select(User).where(User.email == "sam.patel@example.org"))
    assert sam.organisation_id == first.organisation_id and sam.role.value == "supplier"


def test_officers_see_the_organisation_before_they_verify_it(app, session, make_user, make_need, officer):
    waiting = make_user("community", organisation="Anstey Allotment Society", verified=False)
    waiting.organisation.charity_number = "1234567"
    make_need(by=waiting, title="Tools for our allotment")
    session.commit()
    browser = browser_for(app)
    browser.sign_in(officer)
    assert "organisation_to_verify" in tasks_on_home(browser)
    page = browser.client.get(f"/officer/organisations/{waiting.organisation_id}").get_data(as_text=True)
    assert f"{waiting.name} ({waiting.email})" in page and "Tools for our allotment" in page
    assert "https://register-of-charities.charitycommission.gov.uk/charity-search/-/charity-details/1234567" in page
    confirm = browser.client.get(f"/officer/organisations/{waiting.organisation_id}/verify").get_data(as_text=True)
    assert "Verify Anstey Allotment Society?" in confirm
    browser.submit(f"/officer/organisations/{waiting.organisation_id}/verify",
                   form_url=f"/officer/organisations/{waiting.organisation_id}/verify")  # fmt: skip
    session.expire_all()
    assert session.get(type(waiting.organisation), waiting.organisation_id).verified
    # Opened again (a second tab, the back button): nothing left to confirm, it says so.
    again = browser.client.get(f"/officer/organisations/{waiting.organisation_id}/verify", follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "Anstey Allotment Society is already verified." in text and "Verify Anstey Allotment Society?" not in text


def test_the_audit_log_reads_as_sentences_with_the_raw_change_behind_details(
    app, session, make_user, make_need, make_offer, officer
):
    from marketplace.services import pledges

    group = make_user("community", organisation="Hathern Village Hall")
    supplier = make_user("supplier", organisation="Midshires Build")
    need = make_need(by=group, title="Volunteers to paint our village hall")
    offer = make_offer(by=supplier, category="volunteering", measure="volunteering-hours", capacity=40)
    made = pledges.propose_pledge(session, supplier, {"need_id": need.id, "offer_id": offer.id, "quantity": 16})
    session.commit()
    browser = browser_for(app)
    browser.sign_in(officer)
    page = browser.client.get("/officer/audit?entity_type=pledge").get_data(as_text=True)
    sentence = (
        f"{supplier.name} (Midshires Build) proposed a pledge of 16 hours to ‘Volunteers to paint our village hall’"
    )
    assert f'<a class="govuk-link" href="/pledges/{made.id}">{sentence}</a>' in page
    assert 'govuk-details__summary-text">Details' in page and "pledge.propose pledge" in page


def test_officers_list_pledges_by_status_and_find_the_stuck_ones(app, session, make_user, make_need, officer):
    from datetime import timedelta

    from marketplace.db import utcnow
    from marketplace.services import pledges

    supplier = make_user("supplier", organisation="Slow Builders Ltd")
    need = make_need(title="Ramp for the community centre")
    fresh = pledges.propose_pledge(session, supplier, {"need_id": need.id, "measure": "goods-donated", "quantity": 1})
    old = pledges.propose_pledge(session, supplier, {"need_id": need.id, "measure": "goods-donated", "quantity": 2})
    session.flush()
    old.updated_at = utcnow() - timedelta(days=20)
    session.commit()
    browser = browser_for(app)
    browser.sign_in(officer)
    stuck = browser.client.get("/officer/pledges/all?status=stuck").get_data(as_text=True)
    assert f"pledge {old.id}<" in stuck and f"pledge {fresh.id}<" not in stuck
    proposed = browser.client.get(f"/officer/pledges/all?status=proposed&supplier_id={supplier.organisation_id}")
    assert "2 pledges" in proposed.get_data(as_text=True)
    assert "stuck_pledge" in tasks_on_home(browser)
    wrong = browser.client.get("/officer/pledges/all?status=nothing").get_data(as_text=True)
    assert "There is a problem" in wrong and "Unknown status: nothing" in wrong


def test_e_mails_of_a_request_a_pledge_and_a_message_lead_to_their_pages(
    config, session_factory, session, make_user, make_need, make_offer, smtp_server
):
    """Each e-mail, taken from a real SMTP server, links to the page where its step is taken."""
    from marketplace.app import create_app

    app = create_app(
        config.with_overrides(
            smtp_url=smtp_server.url, base_url="https://market.example.gov.uk", allowed_hosts=("localhost",)
        ),
        session_factory=session_factory,
    )
    member, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=member, title="Paint our village hall")
    offer = make_offer(by=supplier, title="Staff volunteering days", category="volunteering",
                       measure="volunteering-hours", capacity=40)  # fmt: skip
    session.commit()
    group, firm = browser_for(app), browser_for(app)
    group.sign_in(member)
    firm.sign_in(supplier)

    def followed(browser: Browser, address: str, subject: str) -> str:
        (mail,) = [m for m in smtp_server.inbox.to(address) if m["Subject"].startswith(subject)]
        path = re.search(r"https://market\.example\.gov\.uk(/\S+)", mail.get_content()).group(1)
        page = browser.client.get(path)
        assert page.status_code == 200, path
        return page.get_data(as_text=True)

    group.submit(f"/offers/{offer.id}/ask", {"need_id": str(need.id), "message": "Four of you in May?"})
    page = followed(firm, supplier.email, f"{member.organisation.name} asks for your offer “Staff volunteering days”")
    assert "Four of you in May?" in page and "Turn into a pledge" in page

    item = session.scalar(select(OfferRequest))
    firm.submit(f"/needs/{need.id}/pledge",
                {"request_id": str(item.id), "offer_id": str(offer.id), "quantity": "16", "measure": "",
                 "measure_checked": "yes"},
                form_url=f"/needs/{need.id}/pledge?request_id={item.id}")  # fmt: skip
    pledge = session.scalar(select(Pledge))
    (proposed,) = [m for m in smtp_server.inbox.to(member.email) if "Paint our village hall" in m["Subject"]]
    page = followed(group, member.email, proposed["Subject"])
    assert "Accept pledge" in page and "16 hours" in page

    group.submit(
        f"/pledges/{pledge.id}/messages", {"body": "Saturday at 10 suits us."}, form_url=f"/pledges/{pledge.id}"
    )
    page = followed(firm, supplier.email, "New message about")
    assert "Saturday at 10 suits us." in page
