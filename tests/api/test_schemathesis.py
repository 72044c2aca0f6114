"""The API fuzzed against its own OpenAPI document with schemathesis.

Every documented operation is called with generated input, as each kind of caller, against
a database holding real needs, offers, pledges, contracts and organisations, so that ids
reach real objects as well as missing ones. Every response must be documented (status,
content type, headers, body schema) and none may be a server error.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation

from marketplace.api.openapi import openapi_document
from marketplace.app import create_app
from marketplace.models import User
from marketplace.services import accounts, contracts, pledges

# Operations whose schemas say exactly what input is valid, so schema-valid input must never
# be refused. Elsewhere validity also depends on data (reference codes, ids that must exist,
# text that must not be blank once trimmed, a password, a period that does not end before it
# starts, a deliver-by date that is not already past) or on the API-wide refusal of NUL
# characters in text, and a 422 can be right.
SCHEMA_COMPLETE = [
    "GET /needs/{need_id}",
    "GET /offers/{offer_id}",
    "GET /pledges",
    "GET /pledges/{pledge_id}",
    "GET /contracts",
    "GET /contracts/{contract_id}",
    "GET /organisations",
    "GET /measures",
    "GET /reference",
    "GET /me",
    "GET /me/email-preferences",
    "PUT /me/email-preferences",
    "GET /me/saved-searches",
    "GET /openapi.json",
    "GET /needs/{need_id}/suggestions",
    "GET /offers/{offer_id}/suggestions",
    "GET /suggestions/needs",
    "POST /needs/{need_id}/withdraw",
    "POST /needs/{need_id}/met",
    "POST /offers/{offer_id}/pause",
    "POST /offers/{offer_id}/resume",
    "POST /offers/{offer_id}/withdraw",
    "POST /pledges/{pledge_id}/accept",
    "POST /pledges/{pledge_id}/confirm",
]
schema = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "generation": {
                # Bounded for CI (about a minute of CPU per database); set
                # MARKETPLACE_FUZZ_EXAMPLES=200 for a deeper run by hand.
                "max-examples": int(os.environ.get("MARKETPLACE_FUZZ_EXAMPLES", "15")),
                "database": "none",
                # Unknown query parameters are ignored, as most APIs do (cache busters, tracking).
                "allow-extra-parameters": False,
            },
            "phases": {"stateful": {"enabled": False}},
            "checks": {"positive_data_acceptance": {"enabled": False}},
            "operations": [
                {"include-name": SCHEMA_COMPLETE, "checks": {"positive_data_acceptance": {"enabled": True}}}
            ],
        }
    ),
)


@dataclass
class World:
    """What the fuzzer may act on: tokens for each kind of caller and ids of real objects."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[object]] = field(default_factory=dict)


@pytest.fixture
def world(session, make_user, make_need, make_offer, officer) -> World:
    """Two verified organisations with needs, offers, a contract and pledges; one waiting."""
    group, supplier = make_user("community"), make_user("supplier")
    waiting = make_user("supplier", verified=False)
    needs = [make_need(by=group, category="goods", title=f"Desks and chairs {n}") for n in range(3)]
    offers = [make_offer(by=supplier, category="goods", measure="goods-donated", capacity=500) for _ in range(2)]
    contract = contracts.create_contract(
        session,
        officer,
        {
            "reference": "FUZZ-0001",
            "title": "Office cleaning",
            "supplier_id": supplier.organisation_id,
            "value": 250000,
            "start_date": "2026-04-01",
            "end_date": "2029-03-31",
            "social_value_target": 12500,
        },
    )
    # Pledges at each step of their lifecycle, so most steps have one they apply to.
    pledge_list = [
        pledges.propose_pledge(
            session,
            supplier,
            # Each its own message: the same pending pledge twice is refused.
            {
                "need_id": need.id,
                "offer_id": offers[0].id,
                "contract_id": contract.id,
                "quantity": 10,
                "message": f"Pledge {number}",
            },
        )
        for number, need in enumerate([*needs[:2], *needs[:2], needs[0]])
    ]
    proposed, accepted, approved, delivered = pledge_list[0], pledge_list[1], pledge_list[2], pledge_list[3]
    for pledge in (accepted, approved, delivered):
        pledges.accept_pledge(session, group, pledge.id)
    for pledge in (approved, delivered):
        pledges.approve_pledge(session, officer, pledge.id, "2099-01-31")
    pledges.deliver_pledge(session, supplier, delivered.id, "Six desks delivered on 2 June", declaration=True)
    assert proposed.status.value == "proposed"
    session.flush()

    def token(user: User) -> str:
        return accounts.create_token(session, user, "schemathesis")[1]

    return World(
        tokens={"community": token(group), "supplier": token(supplier), "officer": token(officer)},
        ids={
            "need_id": [n.id for n in needs],
            "offer_id": [o.id for o in offers],
            "pledge_id": [p.id for p in pledge_list],
            "contract_id": [contract.id],
            "organisation_id": [waiting.organisation_id, supplier.organisation_id],
            "code": ["goods-donated", "volunteering-hours"],
        },
    )


# Mostly signed in: anonymous callers (and generated tokens) only ever meet a 401.
CALLERS = (None, "community", "supplier", "officer", "community", "supplier", "officer")


def _pick[T](case: schemathesis.Case, salt: str, options: Sequence[T]) -> T:
    """A choice that depends only on the generated case, so a failure replays the same way."""
    seen = repr((salt, case.method, case.path_parameters, case.query, case.body))
    return options[hashlib.sha256(seen.encode()).digest()[0] % len(options)]


def _aim_at_real_objects(case: schemathesis.Case, world: World) -> None:
    # Generated ids almost never exist: two times in three, point a valid address at a real object.
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta is not None else None
    if path is None or path.mode is not GenerationMode.POSITIVE:
        return
    for name, real in world.ids.items():
        if name in case.path_parameters and _pick(case, name, (True, True, False)):
            case.path_parameters[name] = _pick(case, f"{name} id", real)


@schema.parametrize()
# The world is shared by one operation's examples on purpose: changes pile up as a client's would.
@hypothesis.settings(suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
def test_api_conforms_to_its_openapi_document(case, world, app):
    # Whoosh names each new index segment from the global random, which Hypothesis resets to
    # the same seed for every example: left alone, segments of two examples would collide.
    # Every real process has its own seed.
    random.seed()
    _aim_at_real_objects(case, world)
    # This test's app (on this test's database transaction) answers, probes included.
    case.operation.app = case.operation.schema.app = app
    # The document's own examples are tried as every kind of caller; generated cases as one.
    is_example = case.meta is not None and case.meta.phase.name == "examples"
    for who in CALLERS if is_example else (_pick(case, "caller", CALLERS),):
        headers = {"Authorization": f"Bearer {world.tokens[who]}"} if who else {}
        case.call_and_validate(headers=headers)


def test_every_operation_documents_the_answers_any_request_can_get(client):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            answers = operation["responses"]
            assert {"401", "422", "429"} <= answers.keys(), f"{method} {path}"
            assert answers["429"]["headers"]["Retry-After"]["required"], f"{method} {path}"
            if method != "get":
                assert {"400", "413"} <= answers.keys(), f"{method} {path}"


@pytest.mark.parametrize(
    "path, method", [("/reference", "GET"), ("/needs", "POST"), ("/pledges/{pledge_id}/accept", "POST")]
)
def test_a_rate_limited_caller_is_answered_as_documented(config, session_factory, world, path, method):
    app = create_app(config.with_overrides(api_rate_limit="2 per minute"), session_factory=session_factory)
    operation = schema[path][method]
    ids = {"pledge_id": world.ids["pledge_id"][0]} if "{" in path else None
    headers = {"Authorization": f"Bearer {world.tokens['community']}"}
    statuses = [operation.Case(path_parameters=ids).call(app=app, headers=headers).status_code for _ in range(2)]
    assert 429 not in statuses
    case = operation.Case(path_parameters=ids)
    refused = case.call(app=app, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"][0]) > 0
    case.validate_response(refused, headers=headers, transport_kwargs={"app": app})


HUGE = 10**30  # found by the fuzzer: an id no database integer holds was a 500


@pytest.mark.parametrize(
    "who, method, url, body",
    [
        ("officer", "post", "/api/v1/contracts", {"supplier_id": HUGE}),
        ("officer", "patch", "/api/v1/contracts/{contract_id}", {"supplier_id": -HUGE}),
        ("supplier", "post", "/api/v1/pledges", {"need_id": HUGE, "quantity": 1, "measure": "goods-donated"}),
        ("supplier", "post", "/api/v1/pledges", {"need_id": "{need_id}", "offer_id": HUGE, "quantity": 1}),
        ("supplier", "post", "/api/v1/pledges", {"need_id": "{need_id}", "contract_id": HUGE, "quantity": 1}),
        ("officer", "post", "/api/v1/needs", {"organisation_id": HUGE}),
        ("officer", "post", "/api/v1/offers", {"organisation_id": HUGE}),
    ],
)
def test_ids_too_large_for_the_database_are_refused_cleanly(client, world, who, method, url, body):
    real = {"{need_id}": world.ids["need_id"][0], "{contract_id}": world.ids["contract_id"][0]}
    url = url.replace("{contract_id}", str(real["{contract_id}"]))
    body = {name: real.get(value, value) if isinstance(value, str) else value for name, value in body.items()}
    headers = {"Authorization": f"Bearer {world.tokens[who]}"}
    response = getattr(client, method)(url, json=body, headers=headers)
    assert response.status_code in (404, 422), response.get_json()
    assert "error" in response.get_json()
