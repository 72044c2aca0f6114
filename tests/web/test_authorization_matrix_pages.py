"""Who may open or send each page: every web route × every kind of person, with the exact status.

One row per route, method and object. The columns are the roles of ``tests/authorization.py``:

    anon            not signed in
    member          a member of the group that owns ``need`` (and so the pledges on it)
    other_member    a member of another verified community group
    supplier        a member of the supplier owning the offers, the pledges and ``contract``
    other_supplier  a member of another verified supplier
    officer         a council officer

``SIGN_IN`` is a redirect to the sign-in page; 302 is the redirect after a change was made;
403 is "you cannot do that"; 404 means the object must not even be visible to that person.
Every form is sent with a valid CSRF token, so the status is about who is asking. Every
refused POST is sent a second time with an empty form: a refusal must come before the
form is checked. A new route fails ``test_every_page_route_is_in_the_table`` until it has
a row here.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from tests.authorization import (
    EVIDENCE_PDF,
    ROLES,
    SIGN_IN,
    Row,
    Upload,
    build_world,
    client_address,
    coverage_problems,
    csrf_for,
    import_csv,
    row,
    run_matrix,
    sign_in_cookie,
)
from tests.conftest import PASSWORD

L = SIGN_IN

NEED_FORM = {
    "title": "Minibus for a day trip",
    "description": "Our lunch club would like a minibus and driver for a summer day trip to the coast.",
    "category": "transport",
    "district": "Melton",
    "outcomes": ["wellbeing-and-opportunity"],
    "quantity": "one day in July",
}
OFFER_FORM = {
    "title": "Staff volunteering afternoons",
    "description": "Our staff can give a few afternoons a month to help with gardening or decorating.",
    "category": "volunteering",
    "districts": ["Charnwood"],
    "outcomes": ["great-communities"],
}
# The need is for premises: volunteering hours do not usually fit, so the supplier ticks that it checked.
PLEDGE_FORM = {"measure": "volunteering-hours", "quantity": "3", "measure_checked": "yes"}
CONTRACT_FORM = {
    "reference": "MX-0001",
    "title": "Street lighting",
    "supplier_id": "{supplier_org}",
    "value": "150,000",
    "start_date": ["1", "4", "2026"],
    "end_date": ["31", "3", "2029"],
}
MEASURE_FORM = {
    "name": "Matrix measure",
    "unit": "hour",
    "proxy_value": "10",
    "source": "Matrix test",
    "outcomes": ["great-communities"],
    "active": "yes",
}
REGISTER_FORM = {
    "name": "New Person",
    "email": "new.person@example.org",
    "password": "a long enough password",
    "password_confirmation": "a long enough password",
    "role": "community",
    "organisation_name": "Matrix New Group",
}

# fmt: off
ROWS: list[Row] = [
    #    method  path                                           anon  member other_m supplier other_s officer
    # Public pages
    row("GET",  "/",                                              200,  200,   200,    200,     200,    200),
    row("GET",  "/needs",                                         200,  200,   200,    200,     200,    200),
    row("GET",  "/offers",                                        200,  200,   200,    200,     200,    200),
    row("GET",  "/search",                                        200,  200,   200,    200,     200,    200, query="?q=room"),
    row("GET",  "/impact",                                        200,  200,   200,    200,     200,    200),
    row("GET",  "/impact.csv",                                    200,  200,   200,    200,     200,    200),
    row("GET",  "/impact.json",                                   200,  200,   200,    200,     200,    200),
    # The pages about the service, linked from every footer, and the feedback form
    row("GET",  "/accessibility-statement",                       200,  200,   200,    200,     200,    200),
    row("GET",  "/privacy",                                       200,  200,   200,    200,     200,    200),
    row("GET",  "/cookies",                                       200,  200,   200,    200,     200,    200),
    row("GET",  "/help",                                          200,  200,   200,    200,     200,    200),
    row("GET",  "/api-documentation",                             200,  200,   200,    200,     200,    200),
    row("GET",  "/feedback",                                      200,  200,   200,    200,     200,    200),
    row("POST", "/feedback",                                      200,  200,   200,    200,     200,    200,
        body={"satisfaction": "satisfied", "comments": "Easy to find needs near me"}),
    # Signing in and registering (a signed-in person is sent to their account, not registered again)
    row("GET",  "/sign-in",                                       200,  200,   200,    200,     200,    200),
    row("POST", "/sign-in",                                       302,  302,   302,    302,     302,    302,
        body={"email": "{spare_email}", "password": PASSWORD}),
    row("GET",  "/register",                                      200,  302,   302,    302,     302,    302),
    row("POST", "/register",                                      302,  302,   302,    302,     302,    302, body=REGISTER_FORM),
    row("POST", "/sign-out",                                      302,  302,   302,    302,     302,    302),
    row("GET",  "/register/check-your-email",                     302,  302,   302,    302,     302,    302),  # nothing registered
    # Links from e-mails: the signed token is the credential, whoever opens it
    row("GET",  "/confirm-email/{confirm_link}",                  200,  200,   200,    200,     200,    200),
    row("GET",  "/confirm-email/not-a-real-link",                 400,  400,   400,    400,     400,    400),
    row("GET",  "/forgot-password",                               200,  200,   200,    200,     200,    200),
    row("POST", "/forgot-password",                               200,  200,   200,    200,     200,    200,
        body={"email": "{spare_email}"}),
    row("GET",  "/reset-password/{reset_link}",                   200,  200,   200,    200,     200,    200),
    row("POST", "/reset-password/{reset_link}",                   302,  302,   302,    302,     302,    302,
        body={"password": "a brand new password", "password_confirmation": "a brand new password"}),
    row("GET",  "/reset-password/not-a-real-link",                400,  400,   400,    400,     400,    400),
    row("POST", "/reset-password/not-a-real-link",                400,  400,   400,    400,     400,    400,
        body={"password": "a brand new password", "password_confirmation": "a brand new password"}),
    # Needs: public when the group is verified and the need not withdrawn
    row("GET",  "/needs/{need}",                                  200,  200,   200,    200,     200,    200),
    row("GET",  "/needs/{need_withdrawn}",                        404,  200,   404,    404,     404,    200),
    row("GET",  "/needs/{need_pending}",                          404,  404,   404,    404,     404,    200),
    row("GET",  "/needs/new",                                     L,    200,   200,    403,     403,    403),
    row("POST", "/needs/new",                                     L,    302,   302,    403,     403,    403, body=NEED_FORM),
    row("GET",  "/needs/{need}/edit",                             L,    200,   403,    403,     403,    403),
    row("POST", "/needs/{need}/edit",                             L,    302,   403,    403,     403,    403, body=NEED_FORM),
    # Suppliers are refused by their role, before the need is even looked up.
    row("POST", "/needs/{need_withdrawn}/edit",                   L,    409,   404,    403,     403,    403, body=NEED_FORM),
    row("POST", "/needs/{need_pending}/edit",                     L,    404,   404,    403,     403,    403, body=NEED_FORM),
    row("GET",  "/needs/{need}/withdraw",                         L,    200,   403,    403,     403,    403),
    row("POST", "/needs/{need}/withdraw",                         L,    302,   403,    403,     403,    403),
    row("POST", "/needs/{need}/met",                              L,    302,   403,    403,     403,    403),
    row("GET",  "/needs/{need}/met",                              405,  405,   405,    405,     405,    405),
    # Pledging: suppliers, and officers recording a pledge for a supplier
    row("GET",  "/needs/{need}/pledge",                           L,    403,   403,    200,     200,    200),
    row("POST", "/needs/{need}/pledge",                           L,    403,   403,    302,     302,    302,
        body=PLEDGE_FORM, body_for={"officer": {**PLEDGE_FORM, "supplier_id": "{supplier_org}"}}),
    row("GET",  "/needs/{need_pending}/pledge",                   L,    403,   403,    404,     404,    200),
    row("GET",  "/needs/{need_withdrawn}/pledge",                 L,    403,   403,    404,     404,    200),
    # Offers: public when the supplier is verified and the offer not withdrawn
    row("GET",  "/offers/{offer}",                                200,  200,   200,    200,     200,    200),
    row("GET",  "/offers/{offer_withdrawn}",                      404,  404,   404,    200,     404,    200),
    row("GET",  "/offers/new",                                    L,    403,   403,    200,     200,    403),
    row("POST", "/offers/new",                                    L,    403,   403,    302,     302,    403, body=OFFER_FORM),
    row("GET",  "/offers/{offer}/edit",                           L,    403,   403,    200,     403,    403),
    row("POST", "/offers/{offer}/edit",                           L,    403,   403,    302,     403,    403,
        body={**OFFER_FORM, "measure": "volunteering-hours", "capacity": "500"}),  # pledges hold it: same measure
    row("POST", "/offers/{offer_withdrawn}/edit",                 L,    403,   403,    409,     404,    403, body=OFFER_FORM),
    row("GET",  "/offers/{offer}/pause",                          L,    403,   403,    200,     403,    403),
    row("POST", "/offers/{offer}/pause",                          L,    403,   403,    302,     403,    403),
    row("GET",  "/offers/{offer_paused}/resume",                  L,    403,   403,    200,     403,    403),
    row("POST", "/offers/{offer_paused}/resume",                  L,    403,   403,    302,     403,    403),
    row("POST", "/offers/{offer}/resume",                         L,    403,   403,    409,     403,    403),
    row("GET",  "/offers/{offer}/withdraw",                       L,    403,   403,    200,     403,    403),
    row("POST", "/offers/{offer}/withdraw",                       L,    403,   403,    302,     403,    403),
    # Pledges: seen only by the need's group, the pledging supplier and officers
    row("GET",  "/pledges/{pledge_proposed}",                     L,    200,   404,    200,     404,    200),
    row("POST", "/pledges/{pledge_proposed}/accept",              L,    302,   404,    403,     404,    403),
    row("GET",  "/pledges/{pledge_proposed}/decline",             L,    200,   404,    403,     404,    403),
    row("POST", "/pledges/{pledge_proposed}/decline",             L,    302,   404,    403,     404,    403),
    row("GET",  "/pledges/{pledge_proposed}/cancel",              L,    403,   404,    200,     404,    403),
    row("POST", "/pledges/{pledge_proposed}/cancel",              L,    403,   404,    302,     404,    403),
    row("POST", "/pledges/{pledge_proposed}/approve",             L,    403,   404,    403,     404,    409),
    row("POST", "/pledges/{pledge_accepted}/approve",             L,    403,   404,    403,     404,    302),
    row("GET",  "/pledges/{pledge_accepted}/approve",             L,    403,   404,    403,     404,    200),
    # Evidence of delivery: only the pledge's parties and officers know it exists
    row("GET",  "/pledges/{pledge_approved}/evidence",            L,    200,   404,    200,     404,    200),
    row("POST", "/pledges/{pledge_approved}/evidence",            L,    403,   404,    302,     404,    403,
        body={"file": Upload(EVIDENCE_PDF, "attendance.pdf")}),
    row("GET",  "/evidence/{evidence}",                           L,    200,   404,    200,     404,    200),
    row("GET",  "/pledges/{pledge_delivered}/request-evidence",   L,    403,   404,    403,     404,    200),
    row("POST", "/pledges/{pledge_delivered}/request-evidence",   L,    403,   404,    403,     404,    302,
        body={"reason": "Add the sign-in sheet"}),
    row("POST", "/pledges/{pledge_delivered}/accept-evidence",    L,    403,   404,    403,     404,    302),
    row("GET",  "/pledges/{pledge_delivered}/dispute",            L,    200,   404,    403,     404,    403),
    row("POST", "/pledges/{pledge_delivered}/dispute",            L,    302,   404,    403,     404,    403,
        body={"reason": "Nobody came"}),
    row("POST", "/pledges/{pledge_checked}/confirm",              L,    302,   404,    403,     404,    403,
        body={"need_met": "yes"}),
    row("GET",  "/pledges/{pledge_accepted}/reject",              L,    403,   404,    403,     404,    200),
    row("POST", "/pledges/{pledge_accepted}/reject",              L,    403,   404,    403,     404,    302,
        body={"reason": "Not a council contract"}),
    row("GET",  "/pledges/{pledge_approved}/deliver",             L,    403,   404,    200,     404,    403),
    row("POST", "/pledges/{pledge_approved}/deliver",             L,    403,   404,    302,     404,    403,
        body={"evidence": "Three hours on Saturday", "declaration": "yes"}),
    row("POST", "/pledges/{pledge_delivered}/confirm",            L,    409,   404,    403,     404,    403),
    row("GET",  "/pledges/{pledge_delivered}/confirm",            405,  405,   405,    405,     405,    405),
    # The signed-in area
    row("GET",  "/account",                                       L,    200,   200,    200,     200,    200),
    row("POST", "/account/email-preference",                      L,    302,   302,    302,     302,    302,
        body={"email_preference": "daily"}),
    row("POST", "/account/alerts",                                L,    302,   302,    403,     403,    403,
        body={"offer_alerts": "weekly"}),
    # Requests for an offer (the member has asked for {offer} for {need} already: asking again is a conflict)
    row("GET",  "/offers/{offer}/ask",                            L,    200,   200,    403,     403,    403),
    row("POST", "/offers/{offer}/ask",                            L,    409,   422,    403,     403,    403,
        body={"need_id": "{need}", "message": "Could you help us in June?"}),
    row("GET",  "/requests/{request}",                            L,    200,   404,    200,     404,    200),
    row("POST", "/requests/{request}/messages",                   L,    302,   404,    302,     404,    302,
        body={"body": "Which Saturday suits you?"}),
    row("GET",  "/requests/{request}/decline",                    L,    403,   404,    200,     404,    403),
    row("POST", "/requests/{request}/decline",                    L,    403,   404,    302,     404,    403,
        body={"reason": "Booked until September"}),
    row("GET",  "/account/requests",                              L,    200,   200,    200,     200,    403),
    row("POST", "/pledges/{pledge_proposed}/messages",            L,    302,   404,    302,     404,    302,
        body={"body": "Which Saturday suits you?"}),
    # Saved searches: anyone signed in keeps their own; someone else's does not exist for them
    row("GET",  "/account/saved-searches",                        L,    200,   200,    200,     200,    200),
    row("GET",  "/account/saved-searches/new",                    L,    200,   200,    200,     200,    200,
        query="?q=paint&kind=offer"),
    row("POST", "/account/saved-searches/new",                    L,    302,   302,    302,     302,    302,
        body={"q": "paint", "frequency": "daily"}),
    row("POST", "/account/saved-searches/{saved_search}/delete",  L,    302,   404,    404,     404,    404),
    # Teams: members see and invite; an officer has no team page but may answer a request to join
    row("GET",  "/account/team",                                  L,    200,   200,    200,     200,    403),
    row("POST", "/account/team",                                  L,    302,   302,    302,     302,    403,
        body={"email": "invitee@example.org"}),
    row("POST", "/account/team/members/{colleague}/remove",       L,    302,   404,    404,     404,    403),
    row("POST", "/account/team/requests/{join}/admit",            L,    302,   404,    404,     404,    302),
    row("POST", "/account/team/requests/{join}/refuse",           L,    302,   404,    404,     404,    302),
    row("GET",  "/join/{invite_link}",                            200,  200,   200,    200,     200,    200),
    row("POST", "/join/{invite_link}",                            302,  302,   302,    302,     302,    302,
        body={"name": "Invited Colleague", "password": PASSWORD, "password_confirmation": PASSWORD}),
    row("GET",  "/join/not-a-real-link",                          400,  400,   400,    400,     400,    400),
    row("POST", "/account/digest",                                L,    403,   403,    302,     302,    403, body={"digest": "on"}),
    row("GET",  "/account/needs",                                 L,    200,   200,    403,     403,    403),
    row("GET",  "/account/offers",                                L,    403,   403,    200,     200,    403),
    row("GET",  "/account/pledges",                               L,    200,   200,    200,     200,    403),
    row("GET",  "/account/tokens",                                L,    200,   200,    200,     200,    200),
    row("POST", "/account/tokens",                                L,    200,   200,    200,     200,    200, body={"name": "CRM sync"}),
    row("POST", "/account/tokens/{token}/revoke",                 L,    302,   404,    404,     404,    404),
    row("GET",  "/account/data",                                  L,    200,   200,    200,     200,    200),  # their own only
    row("GET",  "/account/close",                                 L,    200,   200,    200,     200,    200),
    row("POST", "/account/close",                                 L,    302,   302,    302,     302,    302,
        body={"password": PASSWORD}),
    # The supplier's area
    row("GET",  "/supplier/suggested-needs",                      L,    403,   403,    200,     200,    403),
    row("GET",  "/supplier/contracts",                            L,    403,   403,    200,     200,    302),
    # The officer's area
    row("GET",  "/officer",                                       L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/organisations",                         L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/organisations/{org_pending}",           L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/organisations/{org_pending}/verify",    L,    403,   403,    403,     403,    200),
    row("POST", "/officer/organisations/{org_pending}/verify",    L,    403,   403,    403,     403,    302),
    row("GET",  "/officer/organisations/{org_pending}/reject",    L,    403,   403,    403,     403,    200),
    row("POST", "/officer/organisations/{org_pending}/reject",    L,    403,   403,    403,     403,    302,
        body={"reason": "No charity record found"}),
    row("GET",  "/officer/pledges",                               L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/pledges/all",                           L,    403,   403,    403,     403,    200,
        query="?status=stuck"),
    row("POST", "/officer/pledges/{pledge_proposed}/remind",     L,    403,   403,    403,     403,    302),
    row("GET",  "/officer/audit",                                 L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/needs/new",                             L,    403,   403,    403,     403,    200),
    row("POST", "/officer/needs/new",                             L,    403,   403,    403,     403,    302,
        body={**NEED_FORM, "organisation_id": "{member_org}"}),
    row("GET",  "/officer/contracts",                             L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/contracts/new",                         L,    403,   403,    403,     403,    200),
    row("POST", "/officer/contracts/new",                         L,    403,   403,    403,     403,    302,
        body={**CONTRACT_FORM, "reference": "MX-0100"}),
    row("GET",  "/officer/contracts/{contract}/edit",             L,    403,   403,    403,     403,    200),
    row("POST", "/officer/contracts/{contract}/edit",             L,    403,   403,    403,     403,    302, body=CONTRACT_FORM),
    row("GET",  "/officer/measures",                              L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/measures/new",                          L,    403,   403,    403,     403,    200),
    row("POST", "/officer/measures/new",                          L,    403,   403,    403,     403,    302,
        body={**MEASURE_FORM, "code": "matrix-measure"}),
    row("GET",  "/officer/measures/{measure}/edit",               L,    403,   403,    403,     403,    200),
    row("POST", "/officer/measures/{measure}/edit",               L,    403,   403,    403,     403,    302, body=MEASURE_FORM),
    row("GET",  "/officer/reports",                               L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/import",                                L,    403,   403,    403,     403,    200),
    row("POST", "/officer/import",                                L,    403,   403,    403,     403,    302,
        body={"kind": "needs", "file": Upload(import_csv("needs"), "needs.csv")}),
    # Over the 1 MB limit: the officer is told on the form; nobody else learns more than before.
    row("POST", "/officer/import",                                L,    403,   403,    403,     403,    413,
        body={"kind": "needs", "file": Upload("x" * 1_100_000, "big.csv")}),
    row("GET",  "/officer/import/{import}",                       L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/import/needs-template.csv",             L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/import/offers-template.csv",            L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/feedback",                              L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/pages",                                 L,    403,   403,    403,     403,    200),
    row("GET",  "/officer/pages/privacy",                         L,    403,   403,    403,     403,    200),
    row("POST", "/officer/pages/privacy",                         L,    403,   403,    403,     403,    302,
        body={"body": "## Who holds your information\n\nThe council."}),
    row("GET",  "/officer/pages/no-such-page",                    L,    403,   403,    403,     403,    404),
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


def test_every_page_route_is_in_the_table(app):
    problems = coverage_problems(app, ROWS, api=False)
    assert not problems, "\n".join(problems)


def test_every_role_gets_the_status_the_table_says_on_every_page(app, world, connection):
    cookies: dict[str, str | None] = {"anon": None}
    for role in ROLES[1:]:
        cookies[role] = sign_in_cookie(app, role, world.users[role])
    tokens: dict[str, str] = {}
    for role in ROLES:
        cookies[role], tokens[role] = csrf_for(app, role, cookies[role])

    def send(role, item, path, body):
        client = app.test_client()
        client.environ_base.update(client_address(role))
        if cookies[role] is not None:
            client.set_cookie("session", cookies[role])
        if item.method == "GET":
            return client.get(path)
        data = {"csrf_token": tokens[role], **(body or {})}
        if any(isinstance(value, FileStorage) for value in data.values()):
            # A file: encoded here, in memory (the test client spools large forms to a file it leaves open).
            boundary, encoded = encode_multipart(MultiDict(data))
            return client.open(
                path, method=item.method, data=encoded, content_type=f"multipart/form-data; boundary={boundary}"
            )
        return client.open(path, method=item.method, data=data)

    failures = run_matrix(ROWS, world.ids, connection, send, api=False)
    assert failures == [], f"{len(failures)} cells differ from the table:\n" + "\n".join(failures)
