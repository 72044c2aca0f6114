"""What the needs and offers pages share: browse filters from the query string and paging links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote_plus

from flask import abort, redirect, request, url_for

from marketplace.services.errors import ValidationFailed
from marketplace.services.listings import Filters, check_filters
from marketplace.services.paging import check_paging
from marketplace.services.reference import ReferenceLists

PER_PAGE = 20


def page_arg() -> tuple[int, list[dict[str, str]]]:
    """The ``page`` query parameter of a list page, and what is wrong with it.

    A page that is not a whole number in range shows the first page with an error summary
    saying what a good value is, as the browse filters do: never a silent first page.

    Returns:
        The page number, and the error summary's entries (empty when all is well).
    """
    try:
        return check_paging(request.args.get("page"), None)[0], []
    except ValidationFailed as error:
        return 1, [{"text": message} for message in error.fields.values()]


def read_browse_args(lists: ReferenceLists, statuses: set[str]) -> tuple[Filters, int, dict[str, str]]:
    """Filters and page number from the query string; unknown values are reported, not fatal.

    Returns:
        The filters, the page number and field errors to show (empty when all is well).
    """
    errors: dict[str, str] = {}
    try:
        filters = check_filters(request.args, lists, statuses)
    except ValidationFailed as error:
        filters, errors = Filters(), dict(error.fields)
    page, wrong = page_arg()
    if wrong:
        errors["page"] = wrong[0]["text"]
    return filters, page, errors


# What url_for leaves unescaped in a query string (Werkzeug's own choice, from the URL standard).
QUERY_SAFE = "!$'()*,/:;?@"


def linker(endpoint: str, **values: object) -> Callable[..., str]:
    """Links to this page with some query parameters changed (paging, and the search page's facets).

    A search results page has forty of them: each is the address ``url_for`` gives, but the
    page's path and its other parameters are read once instead of routed again for each link.
    """
    path = url_for(endpoint, **values)
    kept = {k: v for k, v in request.args.items() if v and k != "page"}
    # Each parameter encoded once per page, as ``urlencode`` would: the links share most of them.
    encoded: dict[tuple[str, str], str] = {}

    def pair(name: str, value: str) -> str:
        found = encoded.get((name, value))
        if found is None:
            found = encoded[(name, value)] = f"{quote_plus(name, safe=QUERY_SAFE)}={quote_plus(value, safe=QUERY_SAFE)}"
        return found

    def link(**changes: str | None) -> str:
        args = dict(kept)
        for name, value in changes.items():
            if value is None:
                args.pop(name, None)
            else:
                args[name] = value
        query = "&".join([pair(name, str(value)) for name, value in args.items()])
        return f"{path}?{query}" if query else path

    return link


def item_links() -> Callable[[str, int], str]:
    """Links to need and offer pages by kind and id: each is the address ``url_for`` gives,
    with the two routes built once per page instead of once per link (a search page has twenty).
    """
    heads = {}
    for kind, endpoint, name in (("need", "needs.detail", "need_id"), ("offer", "offers.detail", "offer_id")):
        path = url_for(endpoint, **{name: 0})
        assert path.endswith("/0"), path  # the id is the route's last part
        heads[kind] = path[:-1]

    def link(kind: str, item_id: int) -> str:
        return f"{heads[kind]}{int(item_id)}"

    return link


class Paged(Protocol):
    """A page of any list: the database's (``paging.Page``) or the search index's (``SearchResults``)."""

    @property
    def page(self) -> int: ...  # noqa: D102

    @property
    def pages(self) -> int: ...  # noqa: D102


def pagination(page: Paged, endpoint: str, **values: object) -> dict[str, object] | None:
    """Parameters for the GOV.UK pagination component, keeping the current filters.

    A page past the end (an old bookmark, a typed address, a list that got shorter) sends the
    person to the last page with the same filters, rather than saying "40 found" above an empty
    list. Every paged list page calls this, so none can show such a page.
    """
    to_page = linker(endpoint, **values)
    if page.page > page.pages:
        abort(redirect(to_page(page=str(page.pages) if page.pages > 1 else None)))
    if page.pages <= 1:
        return None
    link: Callable[[int], str] = lambda n: to_page(page=str(n))  # noqa: E731
    params: dict[str, object] = {
        "items": [
            {"number": n, "href": link(n), "current": n == page.page}
            for n in range(max(1, page.page - 3), min(page.pages, page.page + 3) + 1)
        ]
    }
    if page.page > 1:
        params["previous"] = {"href": link(page.page - 1)}
    if page.page < page.pages:
        params["next"] = {"href": link(page.page + 1)}
    return params
