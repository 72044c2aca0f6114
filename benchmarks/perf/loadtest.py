"""`marketplace loadtest`: simulated users against gunicorn on PostgreSQL, then every write checked.

Seeds a database through the services (accounts with known passwords and API tokens, and a
few hundred needs and offers from the synthetic generator, with their vectors and index
entries), serves it with gunicorn on loopback, and runs one asyncio task per simulated user
for a fixed time. Users sign in through the web form, then browse the need list and need
pages, search, use the API, post needs and offers (half through the web forms with their CSRF
token, half through the API) and pledge to needs. Every write that got a success response is
recorded; at the end, once the servers' search outbox has drained, each must be in the
database and current in the search index, and no response may have been a 5xx.
"""

from __future__ import annotations

import asyncio
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from tqdm import tqdm

from benchmarks.perf.web_load import (
    MARKETPLACE_APP,
    Client,
    GunicornServer,
    HttpFailure,
    Response,
    csrf_token,
    marketplace_env,
    wait_for_matchers,
)
from marketplace.config import normalise_database_url

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_SEED_ITEMS = 300
DRAIN_WAIT_SECONDS = 120.0
LINK = re.compile(r'href="/needs/(\d+)"')
WORDS = (
    "minibus", "allotment", "laptops", "volunteers", "paint", "mentoring", "hall", "garden", "food", "youth",
    "tables", "coaching", "printing", "kitchen", "football", "carers", "library", "bikes", "furniture", "IT",
)  # fmt: skip
SEARCHES = ("room", "youth club", "volunteers", "minibus", "garden", "food bank", "laptops", "training", "Melton")


@dataclass(frozen=True)
class SeedUser:
    """A simulated user's account."""

    email: str
    password: str
    role: str  # community, supplier or officer
    token: str


@dataclass(frozen=True)
class Write:
    """A write that got a success response: what to look for afterwards."""

    kind: str  # need, offer or pledge
    id: int
    via: str  # web or api
    title: str = ""
    need_id: int | None = None


@dataclass
class Tally:
    """Every response of the run, by kind of request, and the successful writes."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    failures: Counter = field(default_factory=Counter)  # connection errors and timeouts, by kind
    refused: Counter = field(default_factory=Counter)  # writes answered without success (not 5xx)
    writes: list[Write] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, response: Response | None, path: str) -> None:
        """Count one response (None when the connection failed)."""
        self.latencies[kind].append(seconds * 1000)
        if response is None:
            self.failures[kind] += 1
            return
        self.statuses[kind][f"{response.status // 100}xx"] += 1
        if response.status >= 500 and len(self.server_errors) < 20:
            self.server_errors.append(f"{response.status} {path}")

    @property
    def requests(self) -> int:
        """All requests sent."""
        return sum(len(times) for times in self.latencies.values())

    @property
    def five_hundreds(self) -> int:
        """Responses with a 5xx status."""
        return sum(counts["5xx"] for counts in self.statuses.values())


@dataclass
class Verification:
    """Successful writes found in the database and (needs and offers) current in the search index."""

    written: Counter = field(default_factory=Counter)
    in_database: Counter = field(default_factory=Counter)
    in_index: Counter = field(default_factory=Counter)
    missing: list[str] = field(default_factory=list)
    outbox_left: int = 0


@dataclass
class LoadtestReport:
    """The outcome of a run."""

    users: int
    seconds: float
    workers: int
    tally: Tally
    verification: Verification
    worker_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No 5xx, no failed connection, every successful write found."""
        return (
            self.tally.five_hundreds == 0
            and not self.tally.failures
            and not self.verification.missing
            and self.verification.outbox_left == 0
        )

    def table(self) -> str:
        """The summary printed at the end."""
        tally, found = self.tally, self.verification
        rows = [("Request", "Count", "Per s", "p50 ms", "p99 ms", "2xx/3xx", "4xx", "5xx", "Failed")]
        for kind in sorted(tally.latencies):
            times = np.asarray(tally.latencies[kind])
            counts = tally.statuses[kind]
            rows.append(
                (
                    kind,
                    str(len(times)),
                    f"{len(times) / self.seconds:.1f}",
                    f"{np.percentile(times, 50):.0f}",
                    f"{np.percentile(times, 99):.0f}",
                    str(counts["2xx"] + counts["3xx"]),
                    str(counts["4xx"]),
                    str(counts["5xx"]),
                    str(tally.failures[kind]),
                )
            )
        every = np.concatenate([np.asarray(t) for t in tally.latencies.values()]) if tally.latencies else np.zeros(1)
        rows.append(
            (
                "all",
                str(tally.requests),
                f"{tally.requests / self.seconds:.1f}",
                f"{np.percentile(every, 50):.0f}",
                f"{np.percentile(every, 99):.0f}",
                str(sum(c["2xx"] + c["3xx"] for c in tally.statuses.values())),
                str(sum(c["4xx"] for c in tally.statuses.values())),
                str(tally.five_hundreds),
                str(sum(tally.failures.values())),
            )
        )
        lines = [
            f"{self.users} users for {self.seconds:.0f} s against {self.workers} gunicorn workers",
            f"CPU: the workers {self.worker_cpu_seconds:.0f} s ({self.worker_cpu_seconds / self.seconds:.2f} cores), "
            f"the simulated users {self.client_cpu_seconds:.0f} s "
            f"({self.client_cpu_seconds / self.seconds:.2f} cores); "
            "the rest of the machine's time went to other processes or idling",
            "",
            _format(rows),
            "",
            _format(
                [("Write", "Succeeded", "In database", "In search index", "Refused")]
                + [
                    (
                        kind,
                        str(found.written[kind]),
                        str(found.in_database[kind]),
                        "-" if kind == "pledge" else str(found.in_index[kind]),
                        str(sum(n for name, n in tally.refused.items() if name.startswith(kind))),
                    )
                    for kind in ("need", "offer", "pledge")
                ]
            ),
            "",
            f"writes verified: {sum(found.in_database.values())} of {sum(found.written.values())} in the database, "
            f"{sum(found.in_index.values())} of {found.written['need'] + found.written['offer']} in the search index",
        ]
        if tally.refused["sign in"]:
            lines.append(f"sign-ins refused: {tally.refused['sign in']} (those users did nothing else)")
        if found.outbox_left:
            lines.append(f"search outbox not drained: {found.outbox_left} changes left")
        lines.extend(f"missing: {what}" for what in found.missing[:20])
        lines.extend(f"server error: {what}" for what in tally.server_errors)
        lines.append("PASS" if self.ok else "FAIL")
        return "\n".join(lines)


def _format(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.rjust(w) if i else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


# -- the database -----------------------------------------------------------------------


@contextmanager
def fresh_database(server_url: str, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    """A new PostgreSQL database on ``server_url``'s server, dropped afterwards unless ``keep``."""
    url = make_url(normalise_database_url(server_url))
    name = f"svm_loadtest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            say(f"kept the database {name}")
        else:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(database_url: str, index_dir: Path, users: int, seed_items: int, progress: bool) -> list[SeedUser]:
    """Migrate, add reference data, the simulated users' accounts and tokens, and seed items.

    Every ninth user is an officer; the others alternate community group member and supplier,
    each in an organisation of their own that an officer has verified.
    """
    from benchmarks.perf.synthetic import generate
    from marketplace.clock import council_today
    from marketplace.config import Config
    from marketplace.db import make_engine, make_session_factory
    from marketplace.schema import upgrade
    from marketplace.services import accounts, organisations
    from marketplace.services.reference import seed_reference_data
    from marketplace.suggestions.engine import SuggestionEngine
    from search_index import SearchIndex

    engine = make_engine(normalise_database_url(database_url))
    upgrade(engine)
    factory = make_session_factory(engine)
    run = uuid.uuid4().hex[:6]
    seeded: list[SeedUser] = []
    try:
        with factory() as session:
            seed_reference_data(session)
            officer = accounts.create_user(
                session,
                email=f"loadtest-officer-{run}@example.gov.uk",
                role="officer",
                organisation_name="Loadtest County Council",
                password=secrets.token_urlsafe(12),
            )
            for number in tqdm(range(users), desc="Creating simulated users", unit="user", disable=not progress):
                role = "officer" if number % 9 == 8 else ("community", "supplier")[number % 2]
                password = secrets.token_urlsafe(12)
                kind = {"community": "Community group", "supplier": "Supplier", "officer": "Council"}[role]
                user = accounts.create_user(
                    session,
                    email=f"loadtest-{number}-{run}@example.org",
                    role=role,
                    organisation_name="Loadtest County Council" if role == "officer" else f"Loadtest {kind} {number}",
                    password=password,
                    name=f"Simulated user {number}",
                )
                if not user.organisation.verified:
                    organisations.verify_organisation(session, officer, user.organisation_id)
                _, token = accounts.create_token(session, user, "loadtest")
                seeded.append(SeedUser(user.email, password, role, token))
            session.commit()
        suggestions = SuggestionEngine(factory, Config.from_env().embedding_model)
        index = SearchIndex(index_dir)
        generate(factory, index, suggestions, seed_items, today=council_today(), progress=progress)
        index.close()
    finally:
        engine.dispose()
    return seeded


def reference_codes(database_url: str) -> dict[str, list[str]]:
    """Active category, district, outcome and measure codes, for the forms users fill in."""
    from marketplace.db import make_engine, make_session_factory
    from marketplace.services.reference import reference_lists

    engine = make_engine(normalise_database_url(database_url))
    try:
        with make_session_factory(engine)() as session:
            lists = reference_lists(session)
            return {
                "category": [c.code for c in lists.categories],
                "district": [d.code for d in lists.districts],
                "outcome": [o.code for o in lists.outcomes],
                "measure": sorted(lists.measure_codes),
            }
    finally:
        engine.dispose()


def open_need_ids(database_url: str) -> list[int]:
    """The open needs users can pledge to and visit at the start."""
    from marketplace.db import make_engine, make_session_factory
    from marketplace.models import Need, NeedStatus, Organisation
    from marketplace.models import Verification as OrganisationVerification

    engine = make_engine(normalise_database_url(database_url))
    try:
        with make_session_factory(engine)() as session:
            return list(
                session.scalars(
                    select(Need.id)
                    .join(Organisation, Need.organisation_id == Organisation.id)
                    .where(
                        Need.status == NeedStatus.OPEN, Organisation.verification == OrganisationVerification.VERIFIED
                    )
                )
            )
    finally:
        engine.dispose()


def wait_for_outbox(database_url: str, timeout: float) -> int:
    """Wait until the servers' search index replica has applied the change log; the rows left."""
    from marketplace.db import make_engine, make_session_factory
    from marketplace.search.replicas import unapplied

    engine = make_engine(normalise_database_url(database_url))
    deadline = time.monotonic() + timeout
    try:
        while True:
            with make_session_factory(engine)() as session:
                left = unapplied(session)
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.5)
    finally:
        engine.dispose()


def verify(database_url: str, index_dir: Path, writes: list[Write], outbox_left: int) -> Verification:
    """Look for every successful write in the database and, for needs and offers, in the index."""
    from marketplace.db import make_engine, make_session_factory
    from marketplace.models import Need, Offer, Pledge
    from marketplace.search.documents import load_documents
    from search_index import SearchIndex, item_key

    found = Verification(outbox_left=outbox_left)
    engine = make_engine(normalise_database_url(database_url))
    index = SearchIndex(index_dir, create=False)
    try:
        with make_session_factory(engine)() as session:
            for kind, model in (("need", Need), ("offer", Offer), ("pledge", Pledge)):
                mine = [w for w in writes if w.kind == kind]
                found.written[kind] = len(mine)
                if not mine:
                    continue
                rows = {row.id: row for row in session.scalars(select(model).where(model.id.in_([w.id for w in mine])))}
                for write in mine:
                    row = rows.get(write.id)
                    if row is None:
                        found.missing.append(f"{kind} {write.id} ({write.via}) is not in the database")
                    elif kind == "pledge" and row.need_id != write.need_id:
                        found.missing.append(f"pledge {write.id} is for need {row.need_id}, not {write.need_id}")
                    elif kind != "pledge" and row.title != write.title:
                        found.missing.append(f"{kind} {write.id} has the title {row.title!r}, not {write.title!r}")
                    else:
                        found.in_database[kind] += 1
                if kind == "pledge":
                    continue
                documents = load_documents(session, kind, [w.id for w in mine])
                report = index.check(documents.values())
                absent = set(report.missing) | set(report.stale)
                for write in mine:
                    if write.id not in documents:
                        continue
                    if item_key(kind, write.id) in absent:
                        found.missing.append(f"{kind} {write.id} ({write.via}) is missing or stale in the search index")
                    else:
                        found.in_index[kind] += 1
    finally:
        index.close()
        engine.dispose()
    return found


# -- the simulated users ----------------------------------------------------------------


class SimulatedUser:
    """One person: signs in, then acts at random with a pause between actions."""

    def __init__(
        self,
        number: int,
        account: SeedUser,
        port: int,
        tally: Tally,
        needs: list[int],
        codes: dict[str, list[str]],
        think: tuple[float, float],
    ) -> None:
        self.number = number
        self.account = account
        self.client = Client(port)
        self.tally = tally
        self.needs = needs
        self.codes = codes
        self.think = think
        self.random = random.Random(number)
        self.posted = 0

    async def call(self, kind: str, method: str, path: str, **send: object) -> Response | None:
        """One request, timed and counted; None when the connection failed."""
        started = time.perf_counter()
        try:
            if method == "GET":
                response = await self.client.get(path)
            elif "json" in send:
                response = await self.client.post_json(path, send["json"], self.account.token)
            else:
                response = await self.client.post_form(path, send["form"])  # type: ignore[arg-type]
        except HttpFailure:
            response = None
        self.tally.record(kind, time.perf_counter() - started, response, path)
        return response

    async def run(self, until: float) -> None:
        """Sign in, then act until the clock says stop."""
        await asyncio.sleep(self.random.uniform(0, self.think[1]))  # do not all arrive at once
        try:
            token = await self._form("sign-in", "/sign-in")
        except HttpFailure:
            self.tally.refused["sign in"] += 1
            return
        signed_in = await self.call(
            "sign in",
            "POST",
            "/sign-in",
            form=[("csrf_token", token), ("email", self.account.email), ("password", self.account.password)],
        )
        if signed_in is None or signed_in.status != 302:
            self.tally.refused["sign in"] += 1
            return
        actions = self.actions()
        names, weights = list(actions), list(actions.values())
        # People sign in to do something: a group member's or supplier's first action is a
        # write, done even when sign-in took the whole time, so every run writes.
        writes = [name for name in names if name.startswith(("post_", "pledge_"))]
        action = self.random.choice(writes) if writes else None
        while action is not None or time.perf_counter() < until:
            action = action or self.random.choices(names, weights)[0]
            try:
                await getattr(self, action)()
            except HttpFailure:
                self.tally.refused[f"{action}: a page without its form"] += 1
            action = None
            await asyncio.sleep(self.random.uniform(*self.think))
        await self.client.aclose()

    def actions(self) -> dict[str, float]:
        """What this user does, and how often."""
        browsing = {"browse_needs": 3, "view_need": 3, "search": 2, "api_list": 1}
        if self.account.role == "community":
            return {**browsing, "post_need_web": 1, "post_need_api": 1}
        if self.account.role == "supplier":
            return {**browsing, "post_offer_web": 0.6, "post_offer_api": 0.6, "pledge_web": 0.8, "pledge_api": 0.8}
        return {**browsing, "officer_pages": 2}

    # browsing

    async def browse_needs(self) -> None:
        """The need list, on one of its first pages; remember the needs it links to."""
        response = await self.call("need list", "GET", f"/needs?page={self.random.randint(1, 3)}")
        if response is not None and response.status == 200:
            for found in LINK.findall(response.text)[:5]:
                if int(found) not in self.needs:
                    self.needs.append(int(found))

    async def view_need(self) -> None:
        """A need's page, with its suggested offers (signed in)."""
        await self.call("need page", "GET", f"/needs/{self.random.choice(self.needs)}")

    async def search(self) -> None:
        """The search page with a query."""
        query = self.random.choice(SEARCHES).replace(" ", "+")
        await self.call("search", "GET", f"/search?q={query}")

    async def api_list(self) -> None:
        """The API's need list with the user's bearer token."""
        started = time.perf_counter()
        try:
            response = await self.client.request(
                "GET",
                f"/api/v1/needs?page={self.random.randint(1, 3)}",
                headers={"Authorization": f"Bearer {self.account.token}"},
            )
        except HttpFailure:
            response = None
        self.tally.record("API need list", time.perf_counter() - started, response, "/api/v1/needs")

    async def officer_pages(self) -> None:
        """An officer's dashboard or pledge list."""
        await self.call("officer pages", "GET", self.random.choice(["/officer", "/officer/pledges"]))

    # writing

    def _title(self, kind: str) -> str:
        self.posted += 1
        return f"Loadtest {kind} {self.number}-{self.posted}: {self.random.choice(WORDS)} {self.random.choice(WORDS)}"

    def _description(self) -> str:
        words = " ".join(self.random.choices(WORDS, k=8))
        return f"Simulated by the load test. We are looking at {words}, for people across the county."

    async def _form(self, kind: str, path: str) -> str:
        page = await self.call(f"{kind} form", "GET", path)
        if page is None or page.status != 200:
            raise HttpFailure(f"{path} answered {page.status if page else 'nothing'}")
        return csrf_token(page.text)

    def _created(self, kind: str, via: str, response: Response | None, pattern: str, **details: object) -> int | None:
        if response is not None and via == "api" and response.status == 201:
            created = int(response.json()["id"])  # type: ignore[index]
        elif (
            response is not None
            and via == "web"
            and response.status == 302
            and re.fullmatch(pattern, response.location)
        ):
            created = int(re.fullmatch(pattern, response.location).group(1))  # type: ignore[union-attr]
        else:
            if response is not None and response.status < 500:
                self.tally.refused[f"{kind} ({via}) HTTP {response.status}"] += 1
            return None
        self.tally.writes.append(Write(kind, created, via, **details))  # type: ignore[arg-type]
        return created

    def _need_fields(self) -> dict[str, object]:
        return {
            "title": self._title("need"),
            "description": self._description(),
            "category": self.random.choice(self.codes["category"]),
            "district": self.random.choice(self.codes["district"]),
            "outcomes": [self.random.choice(self.codes["outcome"])],
        }

    def _offer_fields(self) -> dict[str, object]:
        return {
            "title": self._title("offer"),
            "description": self._description(),
            "category": self.random.choice(self.codes["category"]),
            "districts": self.random.sample(self.codes["district"], 2),
            "outcomes": [self.random.choice(self.codes["outcome"])],
        }

    async def post_need_web(self) -> None:
        """Post a need through the form."""
        token = await self._form("need", "/needs/new")
        fields = self._need_fields()
        form = [("csrf_token", token), *_form_pairs(fields)]
        response = await self.call("post need (web)", "POST", "/needs/new", form=form)
        created = self._created("need", "web", response, r"/needs/(\d+)", title=fields["title"])
        if created:
            self.needs.append(created)

    async def post_need_api(self) -> None:
        """Post a need through the API."""
        fields = self._need_fields()
        response = await self.call("post need (API)", "POST", "/api/v1/needs", json=fields)
        created = self._created("need", "api", response, "", title=fields["title"])
        if created:
            self.needs.append(created)

    async def post_offer_web(self) -> None:
        """Post an offer through the form."""
        token = await self._form("offer", "/offers/new")
        fields = self._offer_fields()
        form = [("csrf_token", token), *_form_pairs(fields)]
        response = await self.call("post offer (web)", "POST", "/offers/new", form=form)
        self._created("offer", "web", response, r"/offers/(\d+)", title=fields["title"])

    async def post_offer_api(self) -> None:
        """Post an offer through the API."""
        fields = self._offer_fields()
        response = await self.call("post offer (API)", "POST", "/api/v1/offers", json=fields)
        self._created("offer", "api", response, "", title=fields["title"])

    def _pledge_fields(self) -> dict[str, str]:
        return {
            "measure": self.random.choice(self.codes["measure"]),
            "quantity": str(self.random.randint(1, 5)),
            "message": "Simulated by the load test.",
        }

    async def pledge_web(self) -> None:
        """Pledge to a need through its pledge form."""
        need_id = self.random.choice(self.needs)
        token = await self._form("pledge", f"/needs/{need_id}/pledge")
        form = [("csrf_token", token), ("offer_id", ""), ("contract_id", ""), *self._pledge_fields().items()]
        response = await self.call("pledge (web)", "POST", f"/needs/{need_id}/pledge", form=form)
        self._created("pledge", "web", response, r"/pledges/(\d+)", need_id=need_id)

    async def pledge_api(self) -> None:
        """Pledge to a need through the API."""
        need_id = self.random.choice(self.needs)
        body = {"need_id": need_id, **self._pledge_fields()}
        body["quantity"] = int(body["quantity"])  # type: ignore[assignment]
        response = await self.call("pledge (API)", "POST", "/api/v1/pledges", json=body)
        self._created("pledge", "api", response, "", need_id=need_id)


def _form_pairs(fields: dict[str, object]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        if isinstance(value, list):
            pairs.extend((name, str(item)) for item in value)
        else:
            pairs.append((name, str(value)))
    return pairs


async def _simulate(
    port: int,
    accounts: list[SeedUser],
    needs: list[int],
    codes: dict[str, list[str]],
    duration: float,
    think: tuple[float, float],
    tally: Tally,
    say: Callable[[str], None],
) -> float:
    started = time.perf_counter()
    until = started + duration
    people = [SimulatedUser(n, account, port, tally, needs, codes, think) for n, account in enumerate(accounts)]
    tasks = [asyncio.create_task(person.run(until)) for person in people]

    async def report() -> None:
        while True:
            await asyncio.sleep(10)
            say(
                f"{time.perf_counter() - started:.0f} s: {tally.requests} requests, {len(tally.writes)} writes, "
                f"{tally.five_hundreds} 5xx, {sum(tally.failures.values())} failed"
            )

    reporter = asyncio.create_task(report())
    try:
        await asyncio.gather(*tasks)
    finally:
        reporter.cancel()
        for task in tasks:
            task.cancel()
    return time.perf_counter() - started


def run_loadtest(
    *,
    database_url: str | None = None,
    server_url: str = DEFAULT_SERVER,
    users: int = 50,
    duration: float = 60,
    workers: int = 2,
    seed_items: int = DEFAULT_SEED_ITEMS,
    think: tuple[float, float] = (0.2, 1.0),
    keep: bool = False,
    progress: TextIO | None = sys.stderr,
) -> LoadtestReport:
    """Seed, serve, simulate ``users`` for ``duration`` seconds, then verify every successful write.

    Args:
        database_url: an existing PostgreSQL database to use (migrated and kept); by default a
            fresh database is created on ``server_url``'s server and dropped afterwards.
        server_url: the PostgreSQL server for the fresh database.
        users: simulated users, each a task that signs in then acts until the time is up.
        duration: seconds of simulated use.
        workers: gunicorn workers (2 or more, to exercise several processes).
        seed_items: needs and offers loaded before the run by the synthetic generator.
        think: the range of a user's pause between actions, in seconds.
        keep: keep the database, the search index and the server log.
        progress: where progress lines go (None for silence).

    Raises:
        ValueError: for a database that is not PostgreSQL.
    """
    say = _say_to(progress)
    if database_url is not None and not normalise_database_url(database_url).startswith("postgresql"):
        raise ValueError("The load test runs on PostgreSQL: give a postgresql:// database URL")
    tmp = Path(tempfile.mkdtemp(prefix="svm-loadtest-"))
    try:
        with _database(database_url, server_url, keep, say) as url:
            index_dir = tmp / "search-index"
            say("seeding accounts and items through the services")
            accounts = seed(url, index_dir, users, seed_items, progress is not None)
            codes = reference_codes(url)
            needs = open_need_ids(url)
            env = marketplace_env(url, index_dir, tmp / "instance")
            tally = Tally()
            say(f"starting gunicorn with {workers} workers")
            with GunicornServer(MARKETPLACE_APP, workers=workers, log_path=tmp / "server.log", env=env) as server:
                wait_for_matchers(server, say=say)
                say(f"{users} users for {duration:g} s")
                workers_before, client_before = server.workers_cpu_seconds(), time.thread_time()
                seconds = asyncio.run(_simulate(server.port, accounts, needs, codes, duration, think, tally, say))
                worker_cpu = server.workers_cpu_seconds() - workers_before
                client_cpu = time.thread_time() - client_before
                say("waiting for the search outbox to drain")
                left = wait_for_outbox(url, DRAIN_WAIT_SECONDS)
                if tally.five_hundreds:
                    say(f"server log (end):\n{server.log_tail(40)}")
            found = verify(url, index_dir, tally.writes, left)
            return LoadtestReport(users, seconds, workers, tally, found, worker_cpu, client_cpu)
    finally:
        if keep:
            say(f"kept the search index and server log in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _database(database_url: str | None, server_url: str, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    if database_url is not None:
        yield database_url
        return
    with fresh_database(server_url, keep, say) as url:
        yield url


def _say_to(stream: TextIO | None) -> Callable[[str], None]:
    def say(message: str) -> None:
        if stream is not None:
            print(f"[loadtest] {message}", file=stream, flush=True)

    return say
