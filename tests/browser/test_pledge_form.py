"""The pledge form asks for a measure only when the pledge uses it, with JavaScript on."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import DemoIds

pytestmark = pytest.mark.browser


def test_choosing_an_offer_with_a_measure_replaces_the_measure_question(
    page_as: Callable[[str | None], Page], demo: DemoIds
) -> None:
    page = page_as("supplier")
    page.goto(f"/needs/{demo.public_need}/pledge")
    offer = page.get_by_label("From which of your offers? (optional)")
    measure = page.get_by_label("How is it measured?")
    counted_in = page.locator("[data-pledge-offer-measure]")
    expect(measure).to_be_visible()
    expect(counted_in).to_be_hidden()

    # Choosing a measure and then an offer with its own: the offer's measure is what counts and
    # the earlier choice is neither shown nor sent.
    measure.select_option("goods-donated")
    measured = offer.locator("option", has_text=", counted in ").first
    label = measured.inner_text()
    offer.select_option(label=label)
    expect(measure).to_be_hidden()
    expect(measure).to_be_disabled()
    unit_label = label.split(", counted in ", 1)[1]
    expect(counted_in).to_have_text(re.compile(rf"Counted in the offer’s measure:\s*{re.escape(unit_label)}"))

    # Back to no offer: the question returns, with the person's choice still in it.
    offer.select_option(label="Not from an offer")
    expect(measure).to_be_visible()
    expect(measure).to_be_enabled()
    expect(measure).to_have_value("goods-donated")
    expect(counted_in).to_be_hidden()

    offer.select_option(label=label)
    page.get_by_label("How much, in that unit?").fill("1")
    page.get_by_role("button", name="Make pledge").click()
    if page.get_by_label("I have checked: this measure is the fair way to value this help").count():
        page.get_by_label("I have checked: this measure is the fair way to value this help").check()
        page.get_by_role("button", name="Make pledge").click()
    expect(page).to_have_url(re.compile(r"/pledges/\d+$"))
    expect(page.locator(".govuk-summary-list")).to_contain_text(label.split(", counted in ", 1)[0])
