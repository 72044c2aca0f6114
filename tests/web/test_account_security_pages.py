"""Forgotten passwords, confirming an address, sessions ending at a password change, and
rate limits — through the pages and the API as people and scripts meet them."""

import random
import re

import pytest
import redis

from marketplace.app import create_app
from marketplace.config import Config
from marketplace.services import accounts
from tests.conftest import PASSWORD
from tests.web.conftest import Browser, emails_to, link_in_email


def _main_text(response) -> str:
    html = response.get_data(as_text=True)
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r'name="csrf_token"[^>]*>', "", main)


def test_forgot_password_looks_the_same_for_known_and_unknown_addresses(browser, make_user, session):
    user = make_user("community")
    known = browser.submit("/forgot-password", {"email": user.email})
    unknown = browser.submit("/forgot-password", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert _main_text(known).replace(user.email, "ADDRESS") == _main_text(unknown).replace(
        "nobody@example.org", "ADDRESS"
    )
    assert "If <strong>ADDRESS</strong> has an account" in _main_text(unknown).replace("nobody@example.org", "ADDRESS")
    assert len(emails_to(session, user.email)) == 1
    assert emails_to(session, "nobody@example.org") == []


def test_reset_password_from_the_emailed_link_then_the_link_is_spent(browser, make_user, session):
    user = make_user("supplier")
    browser.submit("/forgot-password", {"email": user.email})
    link = link_in_email(session, user.email)
    page = browser.submit(link, {"password": "a brand new password", "password_confirmation": "a brand new password"})
    assert "Your password has been changed and you are signed in." in page.get_data(as_text=True)
    browser.sign_out()

    assert "Email address or password is not correct" in browser.sign_in(user).get_data(as_text=True)
    assert "Your account" in browser.sign_in(user, password="a brand new password").get_data(as_text=True)
    again = browser.client.get(link)
    assert again.status_code == 400
    assert "This link has already been used" in again.get_data(as_text=True)
    assert 'href="/forgot-password"' in again.get_data(as_text=True)


def test_reset_form_errors_are_summarised_and_the_password_is_unchanged(browser, make_user, session):
    user = make_user("community")
    browser.submit("/forgot-password", {"email": user.email})
    link = link_in_email(session, user.email)
    page = browser.submit(link, {"password": "short", "password_confirmation": "short"}).get_data(as_text=True)
    assert "There is a problem" in page and 'href="#password"' in page
    assert accounts.authenticate(session, user.email, PASSWORD) == user


def test_forgot_password_with_a_malformed_address_says_so(browser):
    page = browser.submit("/forgot-password", {"email": "not an address"}).get_data(as_text=True)
    assert "There is a problem" in page and "Enter an email address in the correct format" in page


def test_changing_the_password_ends_other_sessions(app, make_user, session):
    user = make_user("community")
    elsewhere = Browser(app.test_client())
    elsewhere.sign_in(user)
    assert elsewhere.client.get("/account").status_code == 200

    here = Browser(app.test_client())
    here.submit("/forgot-password", {"email": user.email})
    here.submit(
        link_in_email(session, user.email),
        {"password": "a brand new password", "password_confirmation": "a brand new password"},
    )
    assert here.client.get("/account").status_code == 200
    assert elsewhere.client.get("/account").status_code == 302, "the other session was not ended"


def test_registering_with_an_address_in_use_shows_the_same_page(browser, make_user, session):
    owner = make_user("supplier")
    fields = {
        "role": "community",
        "name": "Sam Lee",
        "password": "fix it do not bin it",
        "password_confirmation": "fix it do not bin it",
    }
    taken = browser.submit("/register", {**fields, "organisation_name": "Group One", "email": owner.email})
    fresh = browser.submit("/register", {**fields, "organisation_name": "Group Two", "email": "new@example.org"})
    assert _main_text(taken).replace(owner.email, "ADDRESS") == _main_text(fresh).replace("new@example.org", "ADDRESS")
    assert emails_to(session, owner.email)[-1].subject == "Someone tried to register with your email address"
    assert emails_to(session, "new@example.org")[-1].subject == "Confirm your email address"


def test_signing_in_before_confirming_sends_a_new_link(browser, session):
    browser.submit(
        "/register",
        {
            "role": "supplier",
            "organisation_name": "Hinckley Haulage Ltd",
            "name": "Jo Bloggs",
            "email": "jo@haulage.example",
            "password": "lorries all day long",
            "password_confirmation": "lorries all day long",
        },
    )
    page = browser.submit("/sign-in", {"email": "jo@haulage.example", "password": "lorries all day long"})
    assert "You need to confirm your email address before you can sign in" in page.get_data(as_text=True)
    assert browser.client.get("/account").status_code == 302
    assert len(emails_to(session, "jo@haulage.example")) == 2
    wrong = browser.submit("/sign-in", {"email": "jo@haulage.example", "password": "not the password"})
    assert "You need to confirm" not in wrong.get_data(as_text=True), "only the password holder learns this"


def test_sign_in_is_rate_limited_with_retry_after(app, make_user):
    user = make_user("community")
    browser = Browser(app.test_client())
    for _ in range(10):
        assert browser.sign_in(user, password="wrong guess").status_code == 200
    refused = browser.sign_in(user, password=PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60, refused.headers
    page = refused.get_data(as_text=True)
    assert "Too many attempts" in page and "Wait a minute and try again" in page, page[page.find("<h1") :][:400]

    # Someone at another address is not affected.
    neighbour = Browser(app.test_client())
    neighbour.client.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert neighbour.sign_in(user).status_code == 200


def test_forwarded_addresses_count_only_behind_a_configured_proxy(config, session_factory, make_user):
    user = make_user("community")
    behind_proxy = create_app(config.with_overrides(proxy_hops=1), session_factory=session_factory)
    for visitor in range(12):
        browser = Browser(behind_proxy.test_client())
        browser.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{visitor}"
        assert browser.sign_in(user, password="wrong guess").status_code == 200

    direct = create_app(config, session_factory=session_factory)
    statuses = set()
    for visitor in range(12):
        browser = Browser(direct.test_client())
        browser.client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{visitor}"
        statuses.add(browser.sign_in(user, password="wrong guess").status_code)
    assert 429 in statuses, "a spoofed X-Forwarded-For must not dodge the limit"


def test_the_api_is_rate_limited_per_token_with_the_json_error_shape(config, session_factory, make_user, session):
    client = create_app(
        config.with_overrides(api_rate_limit="20 per minute"), session_factory=session_factory
    ).test_client()
    user = make_user("supplier")
    _, plain = accounts.create_token(session, user, "script")
    headers = {"Authorization": f"Bearer {plain}"}
    for _ in range(20):
        allowed = client.get("/api/v1/measures", headers=headers)
        assert allowed.status_code == 200 and "Retry-After" not in allowed.headers
    refused = client.get("/api/v1/measures", headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "Wait" in refused.get_json()["error"]["message"]
    _, other = accounts.create_token(session, make_user("community"), "another script")
    assert client.get("/api/v1/measures", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_limits_are_shared_between_processes_through_redis(config, session_factory, make_user):
    """Two app instances stand for two gunicorn workers: with Redis they share one count."""
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not running at {url}: {error}")
    shared = config.with_overrides(ratelimit_url=url)
    workers = [create_app(shared, session_factory=session_factory) for _ in range(2)]
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    user = make_user("community")
    statuses = []
    for attempt in range(11):
        browser = Browser(workers[attempt % 2].test_client())
        browser.client.environ_base["REMOTE_ADDR"] = address
        statuses.append(browser.sign_in(user, password="wrong guess").status_code)
    assert statuses == [200] * 10 + [429]


def test_a_mistyped_api_limit_stops_the_start_up_with_a_message():
    with pytest.raises(ValueError, match="MARKETPLACE_API_RATE_LIMIT must read like"):
        Config.from_env({"MARKETPLACE_SECRET_KEY": "k", "MARKETPLACE_API_RATE_LIMIT": "lots"})
