from tests.conftest import PASSWORD
from tests.web.conftest import link_in_email


def test_sign_in_and_out(browser, make_user):
    user = make_user("community")
    page = browser.sign_in(user)
    assert page.status_code == 200
    assert "Your account" in page.get_data(as_text=True)
    assert user.organisation.name in page.get_data(as_text=True)
    page = browser.sign_out()
    assert "You have signed out." in page.get_data(as_text=True)
    assert browser.client.get("/account").status_code == 302


def test_wrong_password_shows_an_error_summary_without_saying_which_part(browser, make_user):
    user = make_user("community")
    page = browser.sign_in(user, password="not the password").get_data(as_text=True)
    assert "There is a problem" in page
    # Said once (in the summary and once by the field), never which part was wrong.
    assert page.count("Email address or password is not correct") == 2
    assert "<title>Error: " in page


def test_empty_sign_in_says_what_is_missing_field_by_field(browser):
    page = browser.submit("/sign-in", {"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address" in page
    assert "Enter your password" in page
    assert "not correct" not in page


def test_protected_page_redirects_to_sign_in_and_back(browser, make_user):
    response = browser.client.get("/needs/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in?next=/needs/new")
    user = make_user("community")
    page = browser.submit("/sign-in?next=/needs/new", {"email": user.email, "password": PASSWORD})
    assert "Post a need" in page.get_data(as_text=True)


def test_sign_in_never_redirects_to_another_site(browser, make_user):
    user = make_user("community")
    response = browser.submit(
        "/sign-in?next=https://evil.example/", {"email": user.email, "password": PASSWORD}, follow=False
    )
    assert response.headers["Location"] == "/account"


def test_forms_without_csrf_token_are_refused(client, make_user):
    user = make_user("community")
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "The form had expired" in response.get_data(as_text=True)


def test_register_then_confirm_by_email_creates_an_unverified_group_with_a_banner(browser, session):
    page = browser.submit(
        "/register",
        {
            "role": "community",
            "organisation_name": "Wigston Repair Café",
            "name": "Sam Lee",
            "email": "Sam@Repair.example",
            "password": "fix it do not bin it",
            "password_confirmation": "fix it do not bin it",
        },
    ).get_data(as_text=True)
    assert "Check your email" in page and "sam@repair.example" in page
    assert browser.client.get("/account").status_code == 302, "not signed in before confirming"

    page = browser.client.get(link_in_email(session, "sam@repair.example"), follow_redirects=True).get_data(
        as_text=True
    )
    assert "Your email address is confirmed" in page, page[page.find("<h1") :][:600]
    assert "you can sign in now" in page
    page = browser.submit("/sign-in", {"email": "sam@repair.example", "password": "fix it do not bin it"})
    assert "Wigston Repair Café has not been verified by the council yet" in page.get_data(as_text=True)


def test_register_errors_are_listed_and_linked_to_fields(browser):
    page = browser.submit("/register", {"role": "", "email": "nope"}).get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#email"' in page and "Enter an email address in the correct format" in page
    assert 'href="#role"' in page and 'href="#organisation_name"' in page


def test_session_cookie_is_http_only_and_same_site(browser, make_user):
    response = browser.submit("/sign-in", {"email": make_user("supplier").email, "password": PASSWORD}, follow=False)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
