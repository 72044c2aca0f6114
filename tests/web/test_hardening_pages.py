"""Findings of issue 12 ("Hardening, round two") as a person in a browser would see them."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from marketplace.app import create_app
from marketplace.logging_setup import JsonFormatter
from marketplace.models import PledgeStatus, User
from marketplace.services import accounts, offers, pledges
from marketplace.services.errors import ValidationFailed
from tests.conftest import offer_fields
from tests.services.test_reports import pledge_to
from tests.web.conftest import Browser, csrf_token, emails_to, link_in_email


def test_signing_out_ends_the_session_for_a_copied_cookie(app, make_user):
    user = make_user("community")
    browser = Browser(app.test_client())
    browser.sign_in(user)
    cookie = browser.client.get_cookie("session")
    assert cookie is not None
    assert browser.client.get("/account").status_code == 200

    copied = app.test_client()
    copied.set_cookie("session", cookie.value)
    assert copied.get("/account").status_code == 200

    browser.sign_out()
    copied.set_cookie("session", cookie.value)
    response = copied.get("/account")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_signing_in_again_after_signing_out_works(app, make_user):
    user = make_user("supplier")
    browser = Browser(app.test_client())
    browser.sign_in(user)
    browser.sign_out()
    browser.sign_in(user)
    assert browser.client.get("/account").status_code == 200


def test_signed_in_pages_are_never_stored(app, make_user, session):
    user = make_user("community")
    public = app.test_client().get("/needs")
    assert "no-store" not in public.headers.get("Cache-Control", "")
    browser = Browser(app.test_client())
    browser.sign_in(user)
    for path in ("/account", "/account/tokens", "/needs"):
        response = browser.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
    page = browser.client.get("/account/tokens")
    created = browser.submit("/account/tokens", {"name": "my script"}, form_url="/account/tokens")
    assert page.status_code == 200
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"


def test_emailed_links_never_reach_the_log(browser, make_user, session, caplog):
    user = make_user("community")
    caplog.set_level(logging.INFO)
    browser.submit("/forgot-password", {"email": user.email})
    link = link_in_email(session, user.email)
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert link.split("/")[-1] not in logged
    (record,) = [r for r in caplog.records if getattr(r, "mail_to", None) == user.email]
    assert "[link withheld from the log]" in record.mail_body
    assert record.mail_links_withheld == 1


def test_a_password_reset_revokes_every_api_token_and_says_so(browser, make_user, session):
    user = make_user("supplier")
    _, plain = accounts.create_token(session, user, "my script")
    session.flush()
    headers = {"Authorization": f"Bearer {plain}"}
    assert browser.client.get("/api/v1/me", headers=headers).status_code == 200

    browser.submit("/forgot-password", {"email": user.email})
    link = link_in_email(session, user.email)
    browser.submit(link, {"password": "a brand new password", "password_confirmation": "a brand new password"})

    assert browser.client.get("/api/v1/me", headers=headers).status_code == 401
    assert "Your 1 API token was revoked" in emails_to(session, user.email)[-1].body


@pytest.mark.parametrize("weak", ["password", "12345678", "qwertyuiop", "wigston repair cafe"])
def test_registering_with_a_guessable_password_is_refused_with_advice(browser, session, weak):
    page = browser.submit(
        "/register",
        {
            "role": "community",
            "organisation_name": "Wigston Repair Cafe",
            "name": "Sam Lee",
            "email": "sam@repair.example",
            "password": weak,
            "password_confirmation": weak,
        },
    ).get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#password"' in page
    assert "Choose a password that is harder to guess, like three or four random words together" in page
    assert session.scalar(select(User).where(User.email == "sam@repair.example")) is None


def test_a_guessable_password_is_refused_when_changing_it(make_user):
    user = make_user("supplier")
    with pytest.raises(ValidationFailed) as refused:
        accounts.set_password(user, "password1", "password1")
    assert refused.value.fields["password"] == accounts.WEAK_PASSWORD
    accounts.set_password(user, "lorries all day long", "lorries all day long")


def test_a_forged_host_gets_400_and_no_reset_link_follows_it(client, make_user, session):
    user = make_user("community")
    page = client.get("/forgot-password")
    token = csrf_token(page.get_data(as_text=True))
    response = client.post(
        "/forgot-password",
        data={"csrf_token": token, "email": user.email},
        headers={"Host": "evil.example"},
    )
    assert response.status_code == 400
    assert "MARKETPLACE_BASE_URL" in response.get_data(as_text=True)
    assert emails_to(session, user.email) == []
    api = client.get("/api/v1/needs", headers={"Host": "evil.example:5000"})
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "unknown_host"


def test_local_names_and_configured_hosts_are_answered(app, config, session_factory, make_user, session):
    assert app.test_client().get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert app.test_client().get("/", headers={"Host": "[::1]:5000"}).status_code == 200
    deployed = create_app(
        config.with_overrides(base_url="https://marketplace.example.gov.uk"), session_factory=session_factory
    ).test_client()
    assert deployed.get("/", headers={"Host": "marketplace.example.gov.uk"}).status_code == 200
    assert deployed.get("/", headers={"Host": "localhost"}).status_code == 400
    user = make_user("community")
    page = deployed.get("/forgot-password", headers={"Host": "marketplace.example.gov.uk"})
    deployed.post(
        "/forgot-password",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "email": user.email},
        headers={"Host": "marketplace.example.gov.uk"},
    )
    assert "https://marketplace.example.gov.uk/reset-password/" in emails_to(session, user.email)[-1].body


def test_impact_never_names_an_unverified_supplier(client, session, make_user, make_need, officer):
    group = make_user("community", organisation="Melton Lunch Club")
    hidden = make_user("supplier", organisation="Secret Start-up Ltd", verified=False)
    need = make_need(by=group, title="Minibus for the lunch club", district="Melton")
    pledge_to(session, PledgeStatus.CONFIRMED, need=need, group=group, supplier=hidden, officer=officer, quantity=20)

    page = client.get("/impact").get_data(as_text=True)
    open_csv = client.get("/impact.csv").get_data(as_text=True)
    open_json = client.get("/impact.json").get_data(as_text=True)
    for body in (page, open_csv, open_json):
        assert "Secret Start-up Ltd" not in body
        assert "A supplier" in body
        assert "Melton Lunch Club" in body  # the verified group is still named


def test_a_group_never_sees_the_title_of_an_unverified_suppliers_hidden_offer(
    browser, session, make_user, make_need, today
):
    group = make_user("community")
    hidden = make_user("supplier", verified=False)
    need = make_need(by=group)
    offer = offers.post_offer(session, hidden, offer_fields(title="Our confidential meeting room"), today)
    pledge = pledges.propose_pledge(session, hidden, {"need_id": need.id, "offer_id": offer.id, "quantity": 10})
    session.flush()

    browser.sign_in(group)
    page = browser.client.get(f"/pledges/{pledge.id}").get_data(as_text=True)
    assert "Our confidential meeting room" not in page
    assert "An offer that is not shown publicly" in page


def test_reports_accept_the_last_date_there_is(browser, make_user, officer):
    browser.sign_in(officer)
    page = browser.client.get("/officer/reports?from=2026-01-01&to=9999-12-31")
    assert page.status_code == 200
    early = browser.client.get("/officer/reports?from=0001-01-01&to=9999-12-31")
    assert early.status_code == 200
