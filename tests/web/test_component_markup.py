"""GOV.UK components written out in our templates give the HTML of GOV.UK's own macros.

``templates/macros/pagination.html`` (the list pages' paging) and
``templates/macros/service_navigation.html`` (every page's navigation) write the components
out for the parameters our pages give them (the GOV.UK macros cost a third and a tenth of a
millisecond a page): rendered side by side from the same parameters, both must give the
same markup.
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


SIGN_OUT = (
    '<li class="govuk-service-navigation__item"><form method="post" action="/sign-out">'
    '<button type="submit" class="govuk-service-navigation__link app-link-button">Sign out</button></form></li>'
)


@pytest.mark.parametrize(
    ("items", "end"),
    [
        ([("Needs", "/needs", True), ("Offers", "/offers", False), ("Sign in", "/sign-in", False)], ""),
        ([("Needs", "/needs", False), ("Your account (2 waiting)", "/account", True)], SIGN_OUT),
        ([("Needs & offers <b>", "/needs?a=1&b=2", False)], SIGN_OUT),
    ],
)
def test_the_navigation_is_govuk_service_navigation(app, items, end):
    from markupsafe import Markup

    navigation = [{"text": text, "href": href, "active": active} for text, href, active in items]
    params = {"name": "Social Value Marketplace", "url": "/", "nav": navigation, "end": Markup(end)}
    ours = _markup(
        app,
        '{% from "macros/service_navigation.html" import service_navigation %}'
        "{{ service_navigation(params.name, params.url, params.nav, params.end) }}",
        params,
    )
    govuk = _markup(
        app,
        '{% from "govuk_frontend_jinja/components/service-navigation/macro.html" import govukServiceNavigation %}'
        '{{ govukServiceNavigation({"serviceName": params.name, "serviceUrl": params.url, '
        '"navigation": params.nav, "slots": {"navigationEnd": params.end}}) }}',
        params,
    )
    assert ours == govuk
    assert ("Sign out" in ours) == bool(end) and "<b>" not in ours
