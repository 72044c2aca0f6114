"""Browser fixtures: the real app on a live server with the demo data, and a headless Chromium.

One server and one browser serve the whole run; every test gets a fresh browser context
(so no cookies leak between tests). Tests that change data create what they change, so
they do not depend on the order they run in.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from marketplace.clock import council_today
from marketplace.config import Config
from marketplace.db import make_engine
from marketplace.demo import DEMO_PASSWORD, load_demo_data
from marketplace.models import Need, NeedStatus, Offer, OfferStatus, Organisation, User, Verification
from marketplace.schema import upgrade
from marketplace.services.reference import seed_reference_data
from matching import LazySemanticEncoder
from tests.browser.support import (
    EMAIL_BY_ROLE,
    DemoIds,
    LiveServer,
    PledgeIds,
    create_pledges,
    register,
    sign_in,
    use_live_server,
)

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("MARKETPLACE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENS_DIR = Path("/tmp/screens")

expect.set_options(timeout=10_000)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test in this folder as a browser test."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 with a new SQLite database holding the reference and demo data."""
    from marketplace.app import create_app

    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'browser.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        seed_reference_data(session)
        load_demo_data(session, council_today(), progress=False)
        session.commit()

    config = Config(
        database_url=database_url,
        secret_key="browser-test-secret-key",
        instance_dir=folder,
        index_dir=folder / "index",
        testing=True,
        log_level="INFO",
        # The suite signs in far more often than a person could; the limits have their own tests.
        rate_limits_enabled=False,
    )
    app = create_app(config)
    # Workers load the sentence model when they first encode text (posting or editing); on a
    # busy machine that takes longer than a click may wait, so the test server loads it now.
    encoder = app.extensions["marketplace"].suggestions.encoder()
    if isinstance(encoder, LazySemanticEncoder):
        encoder.load()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in failure reports
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", session=lambda: Session(engine))
    use_live_server(live)
    try:
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        app.extensions["marketplace"].engine.dispose()
        engine.dispose()


@pytest.fixture(scope="session")
def demo(live_server: LiveServer) -> DemoIds:
    """Look up the demo records the tests need (the demo data is loaded through the services)."""
    with live_server.session() as session:

        def organisation_of(role: str) -> int:
            return session.scalar(select(User.organisation_id).where(User.email == EMAIL_BY_ROLE[role]))

        community, supplier = organisation_of("community"), organisation_of("supplier")
        verified = select(Organisation.id).where(Organisation.verification == Verification.VERIFIED)
        waiting = select(Organisation.id).where(Organisation.verification == Verification.PENDING)

        def first(query: object) -> int:
            value = session.scalar(query)
            assert value is not None, f"the demo data has nothing for {query}"
            return value

        need, offer = select(Need.id).order_by(Need.id), select(Offer.id).order_by(Offer.id)
        return DemoIds(
            public_need=first(
                need.where(
                    Need.organisation_id.in_(verified),
                    Need.organisation_id != community,
                    Need.status == NeedStatus.OPEN,
                )
            ),
            own_need=first(need.where(Need.organisation_id == community, Need.status == NeedStatus.OPEN)),
            unverified_need=first(need.where(Need.organisation_id.in_(waiting))),
            public_offer=first(
                offer.where(
                    Offer.organisation_id.in_(verified),
                    Offer.organisation_id != supplier,
                    Offer.status == OfferStatus.OPEN,
                )
            ),
            own_offer=first(offer.where(Offer.organisation_id == supplier, Offer.status == OfferStatus.OPEN)),
            waiting_organisation=first(waiting.order_by(Organisation.id)),
        )


@pytest.fixture(scope="session")
def warm_server(live_server: LiveServer, demo: DemoIds) -> None:
    """Open a need page signed in once, with time to spare, before the timed visits.

    The first suggestions load the matching model; on a busy machine that takes longer than
    a page visit may, and every request waits behind it. The scans and the reflow checks are
    about what a page shows, not how fast the first one is.
    """
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{live_server.url}/sign-in", timeout=300).read().decode()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form)
    assert token, "no CSRF token on the sign-in page"
    fields = {"csrf_token": token.group(1), "email": EMAIL_BY_ROLE["community"], "password": DEMO_PASSWORD}
    opener.open(f"{live_server.url}/sign-in", urllib.parse.urlencode(fields).encode(), timeout=300).read()
    opener.open(f"{live_server.url}/needs/{demo.public_need}", timeout=300).read()


@pytest.fixture(scope="session")
def pledges(live_server: LiveServer) -> PledgeIds:
    """A new need of the demo group with a pledge in each status, made through the services and committed."""
    with live_server.session() as session:
        return create_pledges(session, council_today())


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for the whole run."""
    p = sync_playwright().start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the whole run; a missing Chromium is a failure, not a skip."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. The browser tests need it: install it "
            "(for example `apt-get install chromium`) or set MARKETPLACE_TEST_CHROMIUM to its path.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


class PageProblems:
    """JavaScript errors and failed asset loads seen while a test ran."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.items.append(f"JavaScript error on {page.url}: {error}"))
        page.on(
            "response",
            lambda response: (
                self.items.append(f"{response.status} for {response.url}")
                if "/static/" in response.url and response.status >= 400
                else None
            ),
        )


def _new_context(browser: Browser, live_server: LiveServer, storage_state: dict | None = None) -> BrowserContext:
    context = browser.new_context(base_url=live_server.url, storage_state=storage_state)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Open a page in a new browser context (its own cookies); closes them all after the test."""
    contexts: list[BrowserContext] = []
    problems = PageProblems()

    def open_page(storage_state: dict | None = None) -> Page:
        context = _new_context(browser, live_server, storage_state)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not problems.items, "the browser saw problems:\n" + "\n".join(problems.items)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A fresh page for a visitor who is not signed in."""
    return new_page()


@pytest.fixture
def signed_in() -> Callable[[Page, str], None]:
    """Sign a page in as a demo role (community, supplier or officer) through the real form."""
    return sign_in


@pytest.fixture(scope="session")
def _storage_states() -> dict[str, dict]:
    return {}


@pytest.fixture
def page_as(new_page: Callable[..., Page], _storage_states: dict[str, dict]) -> Callable[[str | None], Page]:
    """A fresh page signed in as ``role`` (None: a visitor).

    The first page of each role signs in through the form; later ones reuse its cookies.
    """

    def open_as(role: str | None) -> Page:
        if role is None:
            return new_page()
        if role in _storage_states:
            page = new_page(storage_state=_storage_states[role])
            # Signing out ends every session of the account (issue 12): another test may have.
            if page.request.get("/account", max_redirects=0).status == 200:
                return page
            page.close()
        page = new_page()
        sign_in(page, role)
        _storage_states[role] = page.context.storage_state()
        return page

    return open_as


@pytest.fixture
def registered() -> Callable[..., str]:
    """Register a new organisation through the form (see ``register``)."""
    return register


@pytest.fixture(scope="session")
def screens_dir() -> Path:
    """Where full-page screenshots go."""
    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENS_DIR


@pytest.fixture(scope="module")
def _kept_contexts() -> Iterator[dict[str | None, BrowserContext]]:
    contexts: dict[str | None, BrowserContext] = {}
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.fixture
def kept_page_as(
    browser: Browser, live_server: LiveServer, _kept_contexts: dict[str | None, BrowserContext]
) -> Iterator[Callable[[str | None], Page]]:
    """A new page in a browser context kept for the module, one per role (None: a visitor).

    Much faster than a new context per test (one sign-in per role, cached styles and
    scripts), for tests that only look at a page; a test that changes who is signed in
    must use ``page_as`` instead.
    """
    problems = PageProblems()
    pages: list[Page] = []

    def open_as(role: str | None) -> Page:
        if role not in _kept_contexts:
            context = _new_context(browser, live_server)
            if role is not None:
                first = context.new_page()
                sign_in(first, role)
                first.close()
            _kept_contexts[role] = context
        page = _kept_contexts[role].new_page()
        problems.watch(page)
        pages.append(page)
        return page

    yield open_as
    for page in pages:
        page.close()
    assert not problems.items, "the browser saw problems:\n" + "\n".join(problems.items)
