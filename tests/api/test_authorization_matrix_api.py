"""Who may call each API route: every /api/v1 route × every kind of caller, with the exact status.

One row per route, method and object. The columns are the roles of ``tests/authorization.py``:

    anon            no bearer token and no session: a program that has not signed in
    member          a member of the group that owns ``need`` (and so the pledges on it)
    other_member    a member of another verified community group
    supplier        a member of the supplier owning the offers, the pledges and ``contract``
    other_supplier  a member of another verified supplier, holding ``contract_other``
    officer         a council officer

Signed-in callers use real bearer tokens. 401 is "not signed in", 403 "not allowed", 404
"no such thing, as far as you may know". Every refused change is sent a second time with
an empty JSON object (or the row's ``invalid`` body): a refusal must come before the body
is validated. A new route fails ``test_every_api_route_is_in_the_table`` until it has a
row here.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.authorization import (
    EVIDENCE_PDF,
    ROLES,
    SKIP_INVALID,
    Row,
    Upload,
    build_world,
    client_address,
    coverage_problems,
    import_csv,
    row,
    run_matrix,
)
from tests.conftest import PASSWORD, need_fields, offer_fields

NEED = need_fields(title="Minibus for a day trip")
OFFER = offer_fields(title="Staff volunteering afternoons", measure="volunteering-hours", capacity=40)
PLEDGE = {"need_id": "{need}", "measure": "volunteering-hours", "quantity": 2}
CONTRACT = {
    "reference": "MX-0100",
    "title": "Street lighting",
    "supplier_id": "{supplier_org}",
    "value": 150000,
    "start_date": "2026-04-01",
    "end_date": "2029-03-31",
}
MEASURE = {"code": "matrix-measure", "name": "Matrix measure", "unit": "hour", "proxy_value": 10}

# fmt: off
ROWS: list[Row] = [
    #    method   path                                               anon  member other_m supplier other_s officer
    # Public reads
    row("GET",   "/api/v1/openapi.json",                             200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/reference",                                200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/measures",                                 200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/search",                                   200,  200,   200,    200,     200,    200, query="?q=room"),
    row("GET",   "/api/v1/needs",                                    200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/offers",                                   200,  200,   200,    200,     200,    200),
    # Needs: public when the group is verified and the need not withdrawn
    row("GET",   "/api/v1/needs/{need}",                             200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/needs/{need_withdrawn}",                   404,  200,   404,    404,     404,    200),
    row("GET",   "/api/v1/needs/{need_pending}",                     404,  404,   404,    404,     404,    200),
    row("POST",  "/api/v1/needs",                                    401,  201,   201,    403,     403,    201,
        body=NEED, body_for={"officer": {**NEED, "organisation_id": "{member_org}"}}),
    row("PATCH", "/api/v1/needs/{need}",                             401,  200,   403,    403,     403,    403,
        body={"title": "Minibus for the summer trip"}, invalid={"title": ""}),
    row("PATCH", "/api/v1/needs/{need_withdrawn}",                   401,  409,   404,    403,     403,    403,
        body={"title": "Minibus for the summer trip"}, invalid={"title": ""}),
    row("POST",  "/api/v1/needs/{need}/withdraw",                    401,  200,   403,    403,     403,    403),
    row("POST",  "/api/v1/needs/{need}/met",                         401,  200,   403,    403,     403,    403),
    row("POST",  "/api/v1/needs/{need_withdrawn}/met",               401,  409,   404,    403,     403,    403),
    row("GET",   "/api/v1/needs/{need}/suggestions",                 401,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/needs/{need_pending}/suggestions",         401,  404,   404,    404,     404,    200),
    row("DELETE", "/api/v1/needs/{need}",                            405,  405,   405,    405,     405,    405),
    # Offers: public when the supplier is verified and the offer not withdrawn
    row("GET",   "/api/v1/offers/{offer}",                           200,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/offers/{offer_withdrawn}",                 404,  404,   404,    200,     404,    200),
    row("POST",  "/api/v1/offers",                                   401,  403,   403,    201,     201,    201,
        body=OFFER, body_for={"officer": {**OFFER, "organisation_id": "{supplier_org}"}}),
    row("PATCH", "/api/v1/offers/{offer}",                           401,  403,   403,    200,     403,    403,
        body={"title": "Volunteering afternoons"}, invalid={"title": ""}),
    row("POST",  "/api/v1/offers/{offer}/pause",                     401,  403,   403,    200,     403,    403),
    row("POST",  "/api/v1/offers/{offer_paused}/resume",             401,  403,   403,    200,     403,    403),
    row("POST",  "/api/v1/offers/{offer}/resume",                    401,  403,   403,    409,     403,    403),
    row("POST",  "/api/v1/offers/{offer}/withdraw",                  401,  403,   403,    200,     403,    403),
    row("GET",   "/api/v1/offers/{offer}/suggestions",               401,  403,   403,    200,     403,    200),
    row("GET",   "/api/v1/offers/{offer_withdrawn}/suggestions",     401,  404,   404,    200,     404,    200),
    row("GET",   "/api/v1/suggestions/needs",                        401,  403,   403,    200,     200,    403),
    # Pledges: seen only by the need's group, the pledging supplier and officers
    row("GET",   "/api/v1/pledges",                                  401,  200,   200,    200,     200,    200),
    row("POST",  "/api/v1/pledges",                                  401,  403,   403,    201,     201,    201,
        body=PLEDGE, body_for={"officer": {**PLEDGE, "supplier_id": "{supplier_org}"}}),
    # Another supplier naming the supplier's offer: refused, but only because of what it sent.
    row("POST",  "/api/v1/pledges",                                  401,  403,   403,    201,     403,    201,
        body={**PLEDGE, "offer_id": "{offer}"}, invalid=SKIP_INVALID,
        body_for={"officer": {**PLEDGE, "offer_id": "{offer}", "supplier_id": "{supplier_org}"}}),
    # Pledging from a group's request: only the supplier whose offer was asked for.
    row("POST",  "/api/v1/pledges",                                  401,  403,   403,    201,     404,    403,
        body={"request_id": "{request}", "quantity": 2}, invalid=SKIP_INVALID),
    row("GET",   "/api/v1/pledges/{pledge_proposed}",                401,  200,   404,    200,     404,    200),
    row("POST",  "/api/v1/pledges/{pledge_proposed}/accept",         401,  200,   404,    403,     404,    403),
    row("POST",  "/api/v1/pledges/{pledge_proposed}/decline",        401,  200,   404,    403,     404,    403),
    row("POST",  "/api/v1/pledges/{pledge_proposed}/cancel",         401,  403,   404,    200,     404,    403),
    row("POST",  "/api/v1/pledges/{pledge_proposed}/approve",        401,  403,   404,    403,     404,    409),
    row("POST",  "/api/v1/pledges/{pledge_accepted}/approve",        401,  403,   404,    403,     404,    200),
    row("POST",  "/api/v1/pledges/{pledge_accepted}/reject",         401,  403,   404,    403,     404,    200,
        body={"reason": "Not a council contract"}),
    row("POST",  "/api/v1/pledges/{pledge_approved}/deliver",        401,  403,   404,    200,     404,    403,
        body={"evidence": "Three hours on Saturday", "declaration": True}),
    row("POST",  "/api/v1/pledges/{pledge_delivered}/confirm",       401,  409,   404,    403,     404,    403),
    row("POST",  "/api/v1/pledges/{pledge_checked}/confirm",         401,  200,   404,    403,     404,    403,
        body={"need_met": True}),
    row("POST",  "/api/v1/pledges/{pledge_delivered}/request-evidence", 401, 403, 404,    403,     404,    200,
        body={"reason": "Add the sign-in sheet"}),
    row("POST",  "/api/v1/pledges/{pledge_delivered}/accept-evidence", 401, 403,  404,    403,     404,    200),
    row("POST",  "/api/v1/pledges/{pledge_delivered}/dispute",       401,  200,   404,    403,     404,    403,
        body={"reason": "Nobody came"}),
    # Evidence files: the pledge's parties and officers; to anyone else they do not exist
    row("GET",   "/api/v1/pledges/{pledge_approved}/evidence",       401,  200,   404,    200,     404,    200),
    row("POST",  "/api/v1/pledges/{pledge_approved}/evidence",       401,  403,   404,    201,     404,    403,
        body={"file": Upload(EVIDENCE_PDF, "attendance.pdf")}),
    row("GET",   "/api/v1/evidence/{evidence}",                      401,  200,   404,    200,     404,    200),
    # Messages on a pledge or a request: its group, its supplier and officers
    row("GET",   "/api/v1/pledges/{pledge_proposed}/messages",       401,  200,   404,    200,     404,    200),
    row("POST",  "/api/v1/pledges/{pledge_proposed}/messages",       401,  201,   404,    201,     404,    201,
        body={"body": "Which Saturday suits you?"}),
    # Requests for an offer: a group asks; the supplier pledges from it or declines
    # (the member has asked for this offer for this need already: a second open request is a conflict)
    row("POST",  "/api/v1/offers/{offer}/requests",                  401,  409,   422,    403,     403,    403,
        body={"need_id": "{need}", "message": "Could you help us in June?"}),
    row("POST",  "/api/v1/offers/{offer_paused}/requests",           401,  409,   422,    403,     403,    403,
        body={"need_id": "{need}", "message": "Could you help us in June?"}),
    row("GET",   "/api/v1/requests",                                 401,  200,   200,    200,     200,    200),
    row("GET",   "/api/v1/requests/{request}",                       401,  200,   404,    200,     404,    200),
    row("POST",  "/api/v1/requests/{request}/decline",               401,  403,   404,    200,     404,    403,
        body={"reason": "Booked until September"}),
    row("GET",   "/api/v1/requests/{request}/messages",              401,  200,   404,    200,     404,    200),
    row("POST",  "/api/v1/requests/{request}/messages",              401,  201,   404,    201,     404,    201,
        body={"body": "Which Saturday suits you?"}),
    # Teams: an organisation's members (and officers) see who is in it; members invite
    row("GET",   "/api/v1/organisations/{member_org}/members",       401,  200,   404,    404,     404,    200),
    row("POST",  "/api/v1/organisations/{member_org}/invitations",   401,  201,   404,    404,     404,    403,
        body={"email": "invitee@example.org"}),
    row("DELETE", "/api/v1/organisations/{member_org}/members/{colleague}", 401, 204, 404,  404,     404,    204),
    row("GET",   "/api/v1/me/tasks",                                 401,  200,   200,    200,     200,    200),
    # Contracts: officers, and the supplier holding one (contract references are public record)
    row("GET",   "/api/v1/contracts",                                401,  403,   403,    200,     200,    200),
    row("POST",  "/api/v1/contracts",                                401,  403,   403,    403,     403,    201, body=CONTRACT),
    row("GET",   "/api/v1/contracts/{contract}",                     401,  403,   403,    200,     403,    200),
    row("GET",   "/api/v1/contracts/{contract_other}",               401,  403,   403,    403,     200,    200),
    row("PATCH", "/api/v1/contracts/{contract}",                     401,  403,   403,    403,     403,    200,
        body={"title": "Street lighting renewal"}, invalid={"title": ""}),
    # Measures and organisations: officers maintain them
    row("POST",  "/api/v1/measures",                                 401,  403,   403,    403,     403,    201, body=MEASURE),
    row("PATCH", "/api/v1/measures/{measure}",                       401,  403,   403,    403,     403,    200,
        body={"name": "Employee volunteering time"}, invalid={"name": ""}),
    row("GET",   "/api/v1/organisations",                            401,  403,   403,    403,     403,    200),
    row("POST",  "/api/v1/organisations/{org_pending}/verify",       401,  403,   403,    403,     403,    200),
    row("POST",  "/api/v1/organisations/{org_pending}/reject",       401,  403,   403,    403,     403,    200,
        body={"reason": "No charity record found"}),
    row("GET",   "/api/v1/reports/social-value",                     401,  403,   403,    403,     403,    200),
    row("POST",  "/api/v1/imports/needs",                            401,  403,   403,    403,     403,    201,
        body=import_csv("needs")),
    row("POST",  "/api/v1/imports/offers",                           401,  403,   403,    403,     403,    201,
        body=import_csv("offers")),
    # The caller's own account (the daily digest is for suppliers; an empty change is harmless)
    row("GET",   "/api/v1/me",                                       401,  200,   200,    200,     200,    200),
    row("PATCH", "/api/v1/me",                                       401,  403,   403,    200,     200,    403,
        body={"digest_enabled": True}, invalid=SKIP_INVALID),
    row("GET",   "/api/v1/me/data",                                  401,  200,   200,    200,     200,    200),  # their own only
    row("GET",   "/api/v1/me/saved-searches",                        401,  200,   200,    200,     200,    200),
    row("POST",  "/api/v1/me/saved-searches",                        401,  201,   201,    201,     201,    201,
        body={"q": "paint", "frequency": "daily"}),
    row("DELETE", "/api/v1/me/saved-searches/{saved_search}",        401,  204,   404,    404,     404,    404),
    row("GET",   "/api/v1/me/email-preferences",                     401,  200,   200,    200,     200,    200),
    row("PUT",   "/api/v1/me/email-preferences",                     401,  200,   200,    200,     200,    200,
        body={"email_preference": "each"}),
    row("POST",  "/api/v1/me/close",                                 401,  204,   204,    204,     204,    204,
        body={"password": PASSWORD}),
]
# fmt: on


@pytest.fixture
def config(config):
    """Lexical matching only: who may see suggestions does not depend on the encoder, and
    loading the model would add 20 seconds."""
    return config.with_overrides(embedding_model="none")


@pytest.fixture
def world(session, make_user, officer, config):
    return build_world(session, make_user, officer, config.secret_key, config.evidence_path)


def test_every_api_route_is_in_the_table(app):
    problems = coverage_problems(app, ROWS, api=True)
    assert not problems, "\n".join(problems)


def test_every_caller_gets_the_status_the_table_says_on_every_api_route(app, world, connection, session, bearer):
    headers = {role: bearer(world.users[role]) for role in ROLES[1:]}
    headers["anon"] = {}
    session.commit()

    def send(role, item, path, body):
        client = app.test_client()
        client.environ_base.update(client_address(role))
        if item.method == "GET":
            return client.get(path, headers=headers[role])
        if isinstance(body, str):  # a CSV file
            return client.open(path, method=item.method, data=body, content_type="text/csv", headers=headers[role])
        if body and any(isinstance(value, FileStorage) for value in body.values()):  # an evidence file
            boundary, encoded = encode_multipart(MultiDict(body))
            return client.open(path, method=item.method, data=encoded, headers=headers[role],
                               content_type=f"multipart/form-data; boundary={boundary}")  # fmt: skip
        return client.open(path, method=item.method, json=body, headers=headers[role])

    failures = run_matrix(ROWS, world.ids, connection, send, api=True)
    assert failures == [], f"{len(failures)} cells differ from the table:\n" + "\n".join(failures)


# What each list may show: everything listed must be something the caller may open.
LISTS = [
    ("/api/v1/needs?status=any&per_page=100", "/api/v1/needs/{id}"),
    ("/api/v1/offers?status=any&per_page=100", "/api/v1/offers/{id}"),
    ("/api/v1/pledges?per_page=100", "/api/v1/pledges/{id}"),
    ("/api/v1/contracts?per_page=100", "/api/v1/contracts/{id}"),
    ("/api/v1/search?q=group&per_page=50", "/api/v1/{kind}s/{id}"),
    ("/api/v1/search?q=supplier&per_page=50", "/api/v1/{kind}s/{id}"),
    ("/api/v1/search?q=room&status=any&per_page=50", "/api/v1/{kind}s/{id}"),
]


def test_lists_and_search_show_each_caller_only_what_they_may_open(world, app, session, bearer):
    # ``world`` before ``app``: the app indexes the world's needs and offers as it starts.
    headers = {role: bearer(world.users[role]) for role in ROLES[1:]}
    headers["anon"] = {}
    session.commit()
    client = app.test_client()
    problems, seen = [], {role: 0 for role in ROLES}
    for role in ROLES:
        client.environ_base.update(client_address(role))
        for list_url, item_url in LISTS:
            listed = client.get(list_url, headers=headers[role])
            if listed.status_code != 200:
                continue  # who may call the list at all is the matrix's business
            for item in listed.get_json()["items"]:
                url = item_url.format(id=item["id"], kind=item.get("kind", ""))
                seen[role] += 1
                if (status := client.get(url, headers=headers[role]).status_code) != 200:
                    problems.append(f"{list_url} shows {role} {url}, which answers them {status}")
    assert problems == []
    # Each caller saw something in the lists, so the check above checked something.
    assert all(seen.values()), seen


def test_each_caller_downloads_their_own_data_and_nobody_elses(world, app, session, bearer):
    people = {role: world.users[role] for role in ROLES[1:]}
    headers = {role: bearer(user) for role, user in people.items()}
    session.commit()
    client = app.test_client()
    for role, user in people.items():
        client.environ_base.update(client_address(role))
        text = client.get("/api/v1/me/data", headers=headers[role]).get_data(as_text=True)
        assert user.email in text
        others = [other.email for other in people.values() if other.email != user.email]
        assert [email for email in others if email in text] == [], role
