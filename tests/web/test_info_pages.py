"""The pages a council must publish, linked from every footer; feedback; officers changing the wording."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.models import Feedback
from tests.web.conftest import csrf_token

FOOTER_LINKS = {
    "Help and contact": "/help",
    "Accessibility statement": "/accessibility-statement",
    "Privacy": "/privacy",
    "Cookies": "/cookies",
    "API": "/api-documentation",
}


def _footer(html: str) -> str:
    return html[html.index('<footer class="govuk-footer') :]


@pytest.mark.parametrize("path", ["/", "/needs", "/sign-in", "/no-such-page", "/privacy"])
def test_every_page_footer_links_the_required_pages(client, path):
    footer = _footer(client.get(path).get_data(as_text=True))
    for text, href in FOOTER_LINKS.items():
        assert f'href="{href}">{text}</a>' in footer, f"{path}: no footer link {text}"


def test_the_phase_banner_asks_for_feedback(client):
    html = client.get("/needs").get_data(as_text=True)
    banner = html[html.index("govuk-phase-banner") : html.index("</div>", html.index("govuk-phase-banner"))]
    assert 'href="/feedback">feedback</a>' in banner


def test_the_accessibility_statement_follows_the_gov_uk_model(client):
    html = client.get("/accessibility-statement").get_data(as_text=True)
    for heading in (
        "How accessible this service is",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ):
        assert heading in html
    assert "axe-core" in html and "manual audit is still needed" in html
    assert "This statement was prepared on" in html and "last reviewed on" in html


def test_the_privacy_notice_says_who_why_how_long_and_links_the_rights(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert "Leicestershire County Council is the data controller" in html
    assert "Article 6(1)(e)" in html
    assert "only once the group has accepted" in html
    assert 'href="/account/data"' in html and 'href="/account/close"' in html
    assert "deleted 90 days after they were sent" in html


def test_the_cookies_page_names_each_cookie_with_its_purpose_and_lifetime(client):
    html = client.get("/cookies").get_data(as_text=True)
    assert "<h3" in html and ">session</h3>" in html
    assert "expires: when you close your browser" in html
    assert "essential" in html


def test_the_api_page_links_the_openapi_document(client):
    html = client.get("/api-documentation").get_data(as_text=True)
    assert 'href="/api/v1/openapi.json"' in html
    assert "Authorization: Bearer" in html


def test_feedback_is_stored_without_who_sent_it_and_read_by_officers(client, browser, session, officer):
    response = browser.submit(
        "/feedback",
        {"satisfaction": "dissatisfied", "comments": "I could not find the filters on my phone", "page": "/needs?q=x"},
    )
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.get_data(as_text=True)
    stored = session.scalars(select(Feedback)).all()
    assert [(f.satisfaction, f.comments, f.page) for f in stored] == [
        ("dissatisfied", "I could not find the filters on my phone", "/needs")
    ]

    browser.sign_in(officer)
    html = client.get("/officer/feedback").get_data(as_text=True)
    assert "I could not find the filters on my phone" in html
    assert "Dissatisfied" in html


def test_empty_feedback_is_refused_with_a_message(client, browser, session):
    response = browser.submit("/feedback", {})
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Select how you feel about the service, or tell us how we could improve it" in html
    assert session.scalars(select(Feedback)).all() == []


def test_an_officer_rewords_a_page_safely_and_can_put_the_shipped_wording_back(client, browser, officer):
    browser.sign_in(officer)
    response = browser.submit(
        "/officer/pages/help",
        {
            "body": "## Call us\n\nRing {council} on 0116 305 0000 <script>alert(1)</script>\n\n- [Email us](mailto:sv@example.gov.uk)"
        },
    )
    assert "Help and contact is changed." in response.get_data(as_text=True)
    html = client.get("/help").get_data(as_text=True)
    assert '<h2 class="govuk-heading-m">Call us</h2>' in html
    assert "Ring Leicestershire County Council on 0116 305 0000 &lt;script&gt;" in html
    assert '<a class="govuk-link" href="mailto:sv@example.gov.uk">Email us</a>' in html
    assert re.search(r"Last updated \d+ \w+ \d{4}", html)

    response = browser.submit("/officer/pages/help", {"body": ""})
    assert "Help and contact shows the wording the service ships with." in response.get_data(as_text=True)
    assert "Common questions" in client.get("/help").get_data(as_text=True)


def test_a_page_too_long_is_refused_and_the_wording_kept(client, browser, officer):
    browser.sign_in(officer)
    response = browser.submit("/officer/pages/cookies", {"body": "x" * 30_001})
    html = response.get_data(as_text=True)
    assert "The page must be 30,000 characters or fewer" in html
    assert ">session</h3>" in client.get("/cookies").get_data(as_text=True)


def test_only_officers_change_pages(client, browser, make_user):
    browser.sign_in(make_user("community"))
    page = client.get("/needs").get_data(as_text=True)
    response = client.post("/officer/pages/help", data={"csrf_token": csrf_token(page), "body": "Defaced"})
    assert response.status_code == 403
    assert "Defaced" not in client.get("/help").get_data(as_text=True)
