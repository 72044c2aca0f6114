"""The authorisation matrix: every route × every kind of caller, each with the exact status.

``tests/web/test_authorization_matrix.py`` (pages) and ``tests/api/test_authorization_matrix.py``
(the JSON API) each hold a table with one row per route, method and object, and one
expected status per role. This module builds the world the tables talk about (people,
and objects each party owns, in the states where the routes mean something) through the
services, sends every cell and reports every cell that answered differently.

Each cell runs inside a SAVEPOINT that is rolled back afterwards, and from a fresh
client carrying the role's session cookie, so no cell sees what another one changed
(a withdrawn need, a signed-out session).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule

from marketplace.clock import council_today
from marketplace.db import utcnow
from marketplace.models import JoinRequest, Notification, User
from marketplace.services import (
    account_links,
    accounts,
    bulk_import,
    contracts,
    evidence,
    needs,
    offer_requests,
    offers,
    pledges,
    saved_searches,
    teams,
)
from tests.conftest import PASSWORD, need_fields, offer_fields

# The columns of every table, in order.
ROLES = ("anon", "member", "other_member", "supplier", "other_supplier", "officer")
ROLE_MEANING = {
    "anon": "not signed in",
    "member": "a member of the community group that owns the need (and so the pledges on it)",
    "other_member": "a member of another verified community group",
    "supplier": "a member of the supplier that owns the offers, the pledges and contract",
    "other_supplier": "a member of another verified supplier, holding contract_other",
    "officer": "a council officer",
}

# Expected outcomes besides plain status codes.
SIGN_IN = "sign-in"  # 302 to the sign-in page (a page that needs a signed-in person)
DENIED = {SIGN_IN, 401, 403, 404}
SKIP_INVALID = "skip"


@dataclass(frozen=True)
class Row:
    """One route and method on one object, and what each role must get."""

    method: str
    path: str  # with {object} placeholders filled from World.ids
    expect: tuple[object, ...]  # one per role, in ROLES order
    # Sent to every role (a str is a CSV file), unless ``body_for`` has one for the role.
    body: Mapping[str, object] | str | None = None
    body_for: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # Sent again to every refused cell: a refusal must not depend on what was sent (the empty
    # form, or the empty JSON object, unless given); SKIP_INVALID where it does, and rightly.
    invalid: Mapping[str, object] | str = field(default_factory=dict)
    query: str = ""

    def body_of(self, role: str) -> Mapping[str, object] | str | None:
        """The body this role sends."""
        return self.body_for.get(role, self.body)


@dataclass(frozen=True)
class Upload:
    """A file in a form: sent afresh to every cell."""

    content: str
    filename: str


def row(method: str, path: str, *expect: object, **options: object) -> Row:
    """A table row: ``row("GET", "/needs/{need}", 200, 200, 200, 200, 200, 200)``."""
    assert len(expect) == len(ROLES), f"{method} {path}: {len(expect)} expectations for {len(ROLES)} roles"
    return Row(method, path, tuple(expect), **options)  # type: ignore[arg-type]


@dataclass
class World:
    """The people and objects of the matrix, by name."""

    users: dict[str, User]
    ids: dict[str, object]


SUPPLIER = "Matrix Builders Ltd"
# A tiny plain PDF, as text, for evidence uploads.
EVIDENCE_PDF = (
    "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>"
    "\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def build_world(
    session: Session,
    make_user: Callable[..., User],
    officer: User,
    secret_key: str,
    evidence_folder: Path | None = None,
) -> World:
    """People of two groups and two suppliers, an unverified group, and their objects in useful states.

    ``secret_key`` is the app's: the e-mailed confirmation and reset links are signed with it.
    ``evidence_folder`` is the app's evidence store: the approved pledge gets an evidence file there.
    """
    member = make_user("community", organisation="Matrix Carers Group")
    other_member = make_user("community", organisation="Matrix Allotment Society")
    supplier = make_user("supplier", organisation=SUPPLIER)
    other_supplier = make_user("supplier", organisation="Matrix Catering Ltd")
    pending = make_user("community", organisation="Matrix Pending Club", verified=False)
    spare = make_user("community", organisation="Matrix Spare Group")
    today = council_today()

    def need(by: User, **overrides: object) -> int:
        return needs.post_need(session, by, need_fields(**overrides), today).id

    def offer(**overrides: object) -> int:
        fields = offer_fields(measure="volunteering-hours", capacity=500, **overrides)
        return offers.post_offer(session, supplier, fields, today).id

    ids: dict[str, object] = {
        "need": need(member),
        "need_withdrawn": need(member, title="Withdrawn need of the group"),
        "need_pending": need(pending, title="Need of a group not yet verified"),
        "offer": offer(),
        "offer_paused": offer(title="Paused offer of the supplier"),
        "offer_withdrawn": offer(title="Withdrawn offer of the supplier"),
        "measure": "volunteering-hours",
        "org_pending": pending.organisation_id,
        "supplier_org": supplier.organisation_id,
        "member_org": member.organisation_id,
        "spare_email": spare.email,
    }
    needs.withdraw_need(session, member, ids["need_withdrawn"])
    offers.change_offer_status(session, supplier, ids["offer_paused"], "pause")
    offers.change_offer_status(session, supplier, ids["offer_withdrawn"], "withdraw")

    for key, holder, reference in (("contract", supplier, "MX-0001"), ("contract_other", other_supplier, "MX-0002")):
        ids[key] = contracts.create_contract(
            session,
            officer,
            {
                "reference": reference,
                "title": "Highways maintenance",
                "supplier_id": holder.organisation_id,
                "value": 250000,
                "start_date": today.isoformat(),
                "end_date": (today + timedelta(days=700)).isoformat(),
                "social_value_target": 10000,
            },
        ).id

    def pledge(*steps: str) -> int:
        made = pledges.propose_pledge(
            session,
            supplier,
            # One message per pledge: the same pending pledge twice is refused.
            {"need_id": ids["need"], "offer_id": ids["offer"], "contract_id": ids["contract"], "quantity": 4,
             "message": f"Four hours ({' then '.join(steps) or 'proposed'})"},
        )  # fmt: skip
        for step in steps:
            if step == "accept":
                pledges.accept_pledge(session, member, made.id)
            elif step == "approve":
                pledges.approve_pledge(session, officer, made.id, "2099-01-31")
            elif step == "deliver":
                pledges.deliver_pledge(session, supplier, made.id, "Four hours on Saturday", declaration=True)
            elif step == "accept-evidence":
                pledges.accept_evidence(session, officer, made.id)
        return made.id

    ids["pledge_proposed"] = pledge()
    ids["pledge_accepted"] = pledge("accept")
    ids["pledge_approved"] = pledge("accept", "approve")
    ids["pledge_delivered"] = pledge("accept", "approve", "deliver")
    ids["pledge_checked"] = pledge("accept", "approve", "deliver", "accept-evidence")
    if evidence_folder is not None:
        upload = evidence.Upload("sign-in-sheet.pdf", EVIDENCE_PDF.encode())
        ids["evidence"] = evidence.add_evidence(session, supplier, ids["pledge_approved"], upload, evidence_folder).id
    ids["token"] = accounts.create_token(session, member, "member's script")[0].id
    ids["request"] = offer_requests.ask_for_offer(
        session, member, ids["offer"], {"need_id": ids["need"], "message": "Could you help us in May?"}
    ).id
    ids["colleague"] = make_user("community", organisation="Matrix Carers Group").id
    ids["saved_search"] = saved_searches.save_search(session, member, {"q": "minibus", "frequency": "weekly"}).id
    ids["join"], ids["invite_link"] = _joining(session, member, secret_key)
    ids["import"] = bulk_import.import_csv(
        session, officer, "needs", import_csv("needs").encode(), today, filename="needs.csv"
    ).audit_id
    ids["confirm_link"], ids["reset_link"] = _emailed_links(session, spare, secret_key)
    session.commit()
    users = {
        "member": member,
        "other_member": other_member,
        "supplier": supplier,
        "other_supplier": other_supplier,
        "officer": officer,
        "spare": spare,
    }
    return World(users=users, ids=ids)


def import_csv(kind: str) -> str:
    """A valid import file: the service's own template, for the matrix's group or supplier."""
    example = "Example Community Group" if kind == "needs" else "Example Supplier Ltd"
    return bulk_import.template_csv(kind).replace(example, "Matrix Carers Group" if kind == "needs" else SUPPLIER)


def _emailed_links(session: Session, spare: User, secret_key: str) -> tuple[str, str]:
    """The token of a new registration's confirmation link, and of ``spare``'s reset link, from the e-mails."""
    settings = account_links.LinkSettings(secret_key=secret_key, base_url="http://localhost")
    registration = accounts.Registration(
        name="Newly Registered",
        email="newly.registered@example.org",
        password=PASSWORD,
        password_confirmation=PASSWORD,
        role="community",
        organisation_name="Matrix Newly Registered Group",
    )
    account_links.start_registration(session, settings, registration)
    account_links.request_password_reset(session, settings, spare.email)
    session.flush()

    def token(to: str, path: str) -> str:
        body = session.scalars(select(Notification.body).where(Notification.to_email == to)).all()
        found = [m.group(1) for text in body if (m := re.search(rf"http://localhost{path}/(\S+)", text))]
        assert len(found) == 1, f"one {path} link expected in the emails to {to}"
        return found[0]

    return token(registration.email, "/confirm-email"), token(spare.email, "/reset-password")


def _joining(session: Session, member: User, secret_key: str) -> tuple[int, str]:
    """A confirmed request to join the member's group, and the token of an invitation to it."""
    settings = account_links.LinkSettings(secret_key=secret_key, base_url="http://localhost")
    join = JoinRequest(
        organisation_id=member.organisation_id,
        name="Asking To Join",
        email="asking.to.join@example.org",
        password_hash=accounts.hash_password(PASSWORD),
        confirmed_at=utcnow(),
    )
    session.add(join)
    teams.invite(session, settings, member, member.organisation_id, "invited.colleague@example.org")
    session.flush()
    body = session.scalar(select(Notification.body).where(Notification.to_email == "invited.colleague@example.org"))
    found = re.search(r"http://localhost/join/(\S+)", body or "")
    assert found, "an invitation link is emailed"
    return join.id, found.group(1)


# --- which rules a table covers -------------------------------------------------------------

_ANY = re.compile(r"<any\(([^)]*)\):(\w+)>")


def app_routes(app: Flask, *, api: bool) -> set[tuple[str, str]]:
    """Every (method, path pattern) the app serves, with each ``any(...)`` choice spelled out."""
    found: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/") != api:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for pattern in _expand(rule.rule):
                found.add((method, pattern))
    return found


def _expand(pattern: str) -> list[str]:
    match = _ANY.search(pattern)
    if match is None:
        return [pattern]
    choices = [c.strip().strip("'\"") for c in match.group(1).split(",")]
    return [p for c in choices for p in _expand(pattern[: match.start()] + c + pattern[match.end() :])]


def table_routes(app: Flask, rows: list[Row]) -> set[tuple[str, str]]:
    """The (method, path pattern) each row reaches; rows expecting 405 reach none."""
    adapter = app.url_map.bind("localhost")
    reached: set[tuple[str, str]] = set()
    any_id = defaultdict(lambda: "1")  # routing needs the shape of a path, not a real object
    for item in rows:
        path = item.path.format_map(any_id)
        try:
            rule, args = adapter.match(path, method=item.method, return_rule=True)
        except (MethodNotAllowed, NotFound):
            continue
        assert isinstance(rule, Rule)
        pattern = rule.rule
        for match in _ANY.finditer(rule.rule):
            pattern = pattern.replace(match.group(0), str(args[match.group(2)]))
        reached.add((item.method, pattern))
    return reached


def coverage_problems(app: Flask, rows: list[Row], *, api: bool) -> list[str]:
    """Routes the app has but the table lacks, and table routes the app no longer has."""
    served, tabled = app_routes(app, api=api), table_routes(app, rows)
    problems = [f"not in the table (add a row with each role's status): {m} {p}" for m, p in sorted(served - tabled)]
    problems += [f"in the table but not served: {m} {p}" for m, p in sorted(tabled - served)]
    return problems


# --- sending the cells ----------------------------------------------------------------------


@contextmanager
def rolled_back(connection) -> Iterator[None]:
    """Whatever the request commits is undone afterwards (the app's sessions nest inside)."""
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        if savepoint.is_active:
            savepoint.rollback()


Send = Callable[[str, Row, str, Mapping[str, object] | None], object]


def check(expected: object, response, *, api: bool) -> str | None:
    """None when the response is what the cell expects, else what it was instead."""
    status = response.status_code
    location = response.headers.get("Location", "")
    if expected == SIGN_IN:
        if status == 302 and location.startswith("/sign-in"):
            return None
        return f"{status} {location}".strip()
    if status != expected:
        return f"{status} {location}".strip()
    if status == 302 and location.startswith("/sign-in"):
        return f"302 to sign-in, not a {expected} to a page"
    if api and status >= 400:
        body = response.get_json(silent=True) or {}
        if not isinstance(body.get("error"), dict) or "code" not in body["error"]:
            return f"{status} without the JSON error shape"
    return None


def run_matrix(rows: list[Row], ids: Mapping[str, object], connection, send: Send, *, api: bool) -> list[str]:
    """Send every cell; return one line per cell that answered otherwise than the table says."""
    failures: list[str] = []
    for item in rows:
        path = item.path.format(**ids) + item.query
        for role, expected in zip(ROLES, item.expect, strict=True):
            attempts = [("", item.body_of(role))]
            if expected in DENIED and item.invalid != SKIP_INVALID and item.method != "GET":
                attempts.append((" (with an invalid body)", item.invalid))
            for label, body in attempts:
                with rolled_back(connection):
                    response = send(role, item, path, _fill(body, ids))
                    problem = check(expected, response, api=api)
                if problem is not None:
                    failures.append(f"{item.method} {item.path}{label} as {role}: expected {expected}, got {problem}")
    return failures


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(value: object, ids: Mapping[str, object]) -> object:
    """Replace ``"{name}"`` values in a body by the object's id (an int stays an int, for JSON)."""
    if isinstance(value, Mapping):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    if isinstance(value, Upload):
        return FileStorage(io.BytesIO(value.content.encode("utf-8")), filename=value.filename, name="file")
    if isinstance(value, str) and (match := _PLACEHOLDER.fullmatch(value)):
        return ids[match.group(1)]
    return value


def client_address(role: str) -> dict[str, str]:
    """Each role's own client address, as ``environ_base``.

    Sessions are bound to their address (Flask-Login's strong session protection), and
    the rate limits count sign-ins and registrations per address: each role signs in and
    registers at most twice, so the matrix tests who may, not how often.
    """
    return {"REMOTE_ADDR": f"10.0.0.{ROLES.index(role) + 1}"}


def sign_in_cookie(app: Flask, role: str, user: User) -> str:
    """The session cookie of a browser that signed in as ``user`` through the sign-in page."""
    from tests.web.conftest import Browser

    client = app.test_client()
    client.environ_base.update(client_address(role))
    response = Browser(client).sign_in(user)
    assert response.status_code == 200, f"could not sign in {user.email}"
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def csrf_for(app: Flask, role: str, cookie: str | None) -> tuple[str | None, str]:
    """A CSRF token valid for the session: (the session cookie now, the token)."""
    from tests.web.conftest import csrf_token

    client = app.test_client()
    client.environ_base.update(client_address(role))
    if cookie is not None:
        client.set_cookie("session", cookie)
    page = client.get("/account/tokens" if cookie is not None else "/sign-in")
    token = csrf_token(page.get_data(as_text=True))
    after = client.get_cookie("session")
    return (after.value if after is not None else cookie), token


__all__ = ["PASSWORD", "ROLES", "SIGN_IN", "SKIP_INVALID", "Row", "World", "row"]
