"""What people read when something goes wrong, and lists on a phone, in a real browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import EMAIL_BY_ROLE

pytestmark = pytest.mark.browser


def test_a_failed_sign_in_says_so_once_without_saying_which_part(page: Page) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(EMAIL_BY_ROLE["community"])
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link")).to_have_text(["Email address or password is not correct"])
    expect(page.locator(".govuk-error-message")).to_have_count(1)
    summary.get_by_role("link").click()
    expect(page.get_by_label("Email address")).to_be_focused()


def test_an_empty_sign_in_names_each_missing_field(page: Page) -> None:
    page.goto("/sign-in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        ["Enter your email address", "Enter your password"]
    )


def test_a_date_without_a_year_is_named_as_the_boxes_are(page_as: Callable[[str | None], Page]) -> None:
    page = page_as("community")
    page.goto("/needs/new")
    page.get_by_label("Day").fill("27")
    page.get_by_label("Month").fill("3")
    page.get_by_role("button", name="Save need").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Needed by must include a year")
    expect(summary).not_to_contain_text("2027-03-31")
    # What was typed is still there, to correct.
    expect(page.get_by_label("Day")).to_have_value("27")


def test_on_a_phone_the_results_come_before_the_filters(page: Page) -> None:
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/needs")
    category = page.get_by_label("Category")
    expect(category).to_be_hidden()
    first_result = page.locator(".app-card").first
    toggle = page.locator("summary").get_by_text("Filter and sort", exact=True)
    assert toggle.bounding_box()["y"] < first_result.bounding_box()["y"] < 1.5 * 640
    toggle.click()  # a <details>: works without JavaScript
    expect(category).to_be_visible()


def test_on_a_wide_screen_the_filters_are_always_shown(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/needs")
    expect(page.get_by_label("Category")).to_be_visible()
    expect(page.locator("summary").get_by_text("Filter and sort", exact=True)).to_be_hidden()
