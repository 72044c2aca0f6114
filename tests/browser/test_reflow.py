"""Every page at 320 CSS pixels wide, for every role: nothing may make the page scroll sideways.

WCAG 2.2 success criterion 1.4.10 (reflow) asks that content works at 320 px without
scrolling in two directions. A table in a scrolling box would pass a width check but
still scroll two ways, so the check is on the document and on every element inside it:
nothing may be wider than the window, and nothing may scroll sideways inside itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page

from tests.browser.support import DemoIds, PledgeIds
from tests.browser.test_accessibility import VISITS, Visit, _open

pytestmark = pytest.mark.browser

PHONE = {"width": 320, "height": 640}
ROLES = (None, "community", "supplier", "officer")

# Pages every role can open: each is opened as a visitor and as each kind of signed-in person.
EVERY_ROLE = [
    ("/", "Give and get help in your community"),
    ("/needs", "What community groups need"),
    ("/offers", None),
    ("/needs/{d.public_need}", None),
    ("/offers/{d.public_offer}", None),
    ("/search?q=room", "Search needs and offers"),
    ("/search?q=zzzzqqqq", "Search needs and offers"),
    ("/impact", "Social value delivered"),
    ("/accessibility-statement", "Accessibility statement"),
    ("/privacy", "Privacy notice"),
    ("/cookies", "Cookies"),
    ("/help", "Help and contact"),
    ("/api-documentation", None),
    ("/feedback", None),
    ("/sign-in", "Sign in"),
]
CROSS_ROLE = [
    Visit(f"{role or 'visitor'}:{path}", role, path, heading or re.compile("."))
    for path, heading in EVERY_ROLE
    for role in ROLES
]
ALL = [visit for visit in VISITS] + CROSS_ROLE

WIDER_THAN_WINDOW = """() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) {
        problems.push(`the page is ${document.documentElement.scrollWidth} px wide in a ${width} px window`);
    }
    // Visually hidden text (for screen readers) is clipped to a pixel: what is inside it is never seen.
    const hidden = [...document.body.querySelectorAll('*')].filter(element => {
        const style = getComputedStyle(element);
        return style.position === 'absolute' && (style.clip !== 'auto' || style.clipPath !== 'none');
    });
    for (const element of document.body.querySelectorAll('*')) {
        if (hidden.some(root => root.contains(element))) continue;
        const box = element.getBoundingClientRect();
        const style = getComputedStyle(element);
        if (box.width === 0 || box.height === 0) continue;
        const scrolls = element.scrollWidth > element.clientWidth + 1 && ['auto', 'scroll'].includes(style.overflowX);
        if (box.right > width + 1 || scrolls) {
            const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') +
                (element.className && typeof element.className === 'string' ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
            problems.push(`${name} ${scrolls ? 'scrolls sideways inside itself' : 'reaches ' + Math.round(box.right) + ' px'}`);
            if (problems.length > 8) break;
        }
    }
    return problems;
}"""


@pytest.fixture
def open_phone(
    warm_server: None,
    page_as: Callable[[str | None], Page],
    kept_page_as: Callable[[str | None], Page],
    demo: DemoIds,
    pledges: PledgeIds,
) -> Callable[[Visit], Page]:
    """Open a visit's page in a window 320 px wide."""

    def open_phone(visit: Visit) -> Page:
        page = (page_as if visit.fresh else kept_page_as)(visit.role)
        page.set_viewport_size(PHONE)
        return _open(visit, page, demo, pledges)

    return open_phone


@pytest.mark.parametrize("visit", ALL, ids=[visit.id for visit in ALL])
def test_page_does_not_scroll_sideways_at_320_px(visit: Visit, open_phone: Callable[[Visit], Page]) -> None:
    page = open_phone(visit)
    problems = page.evaluate(WIDER_THAN_WINDOW)
    assert not problems, f"{visit.id} ({page.url}) at 320 px:\n" + "\n".join(problems)
