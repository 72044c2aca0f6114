"""The list pages' pagination gives the HTML of GOV.UK's own pagination component.

``templates/macros/pagination.html`` writes the component out for the parameters
``listing_pages.pagination`` gives (the GOV.UK macro cost a third of a millisecond a page):
rendered side by side from the same parameters, both must give the same markup.
"""

import re

import pytest


def _markup(app, template: str, params: dict) -> str:
    with app.test_request_context("/needs"):
        html = app.jinja_env.from_string(template).render(params=params)
    # The same elements, attributes and text; the layout of spaces between them aside.
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


def _items(current: int, pages: int) -> list[dict]:
    return [
        {"number": n, "href": f"/needs?category=transport&page={n}", "current": n == current}
        for n in range(max(1, current - 3), min(pages, current + 3) + 1)
    ]


@pytest.mark.parametrize(
    ("current", "pages"),
    [(1, 2), (2, 2), (1, 40), (5, 40), (40, 40), (3, 5)],
)
def test_the_pagination_is_govuk_pagination(app, current, pages):
    params: dict = {"items": _items(current, pages)}
    if current > 1:
        params["previous"] = {"href": f"/needs?category=transport&page={current - 1}"}
    if current < pages:
        params["next"] = {"href": f"/needs?category=transport&page={current + 1}"}
    ours = _markup(app, '{% from "macros/pagination.html" import pagination_nav %}{{ pagination_nav(params) }}', params)
    govuk = _markup(
        app,
        '{% from "govuk_frontend_jinja/components/pagination/macro.html" import govukPagination %}'
        "{{ govukPagination(params) }}",
        params,
    )
    assert ours == govuk
    assert ours.count('aria-current="page"') == 1
    assert ('rel="prev"' in ours) == (current > 1) and ('rel="next"' in ours) == (current < pages)


def test_links_are_escaped(app):
    params = {"items": [{"number": 1, "href": '/search?q="><script>', "current": True}]}
    ours = _markup(app, '{% from "macros/pagination.html" import pagination_nav %}{{ pagination_nav(params) }}', params)
    assert "<script>" not in ours and "&#34;&gt;&lt;script&gt;" in ours
