"""The "Bad input" of issue 14 at the service level: each gets a clear answer and changes nothing.

Invitations to an address already in another organisation, expired or reused invitation
links, messages that are empty, 10,000 characters long or full of markup, a request for a
paused or withdrawn offer, and a message on a pledge the person is not part of.
"""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from marketplace.models import Invitation, Message, Notification, OfferRequest, User
from marketplace.services import messages, offer_requests, offers, pledges, teams
from marketplace.services.account_links import LinkNotValid, LinkSettings
from marketplace.services.errors import InvalidTransition, NotFound, ValidationFailed
from tests.conftest import PASSWORD

SETTINGS = LinkSettings(secret_key="test-secret-key", base_url="https://marketplace.example.gov.uk")


def rows(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_an_address_in_another_organisation_is_not_invited(session, make_user):
    member, elsewhere = make_user("community"), make_user("supplier")
    before = rows(session, Notification)
    with pytest.raises(ValidationFailed) as refused:
        teams.invite(session, SETTINGS, member, member.organisation_id, elsewhere.email.upper())
    assert "already has an account with another organisation" in refused.value.fields["email"]
    assert rows(session, Invitation) == 0 and rows(session, Notification) == before


def test_an_expired_invitation_link_is_refused_and_nobody_joins(session, make_user):
    member = make_user("community", organisation="Birstall Bowls Club")
    invitation = teams.invite(session, SETTINGS, member, member.organisation_id, "late@example.org")

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - teams.INVITATION_MAX_AGE_SECONDS - 24 * 60 * 60

    token = URLSafeTimedSerializer(SETTINGS.secret_key, salt=teams._INVITE_SALT, signer=EightDaysAgo).dumps(
        {"invitation": invitation.id, "email": "late@example.org"}
    )
    with pytest.raises(LinkNotValid, match="has expired: invitations work for 7 days"):
        teams.accept_invitation(session, SETTINGS, token, "Lee Late", PASSWORD, PASSWORD)
    assert session.scalar(select(User).where(User.email == "late@example.org")) is None
    assert invitation.accepted_at is None


def test_an_invitation_link_works_once(session, make_user):
    member = make_user("community", organisation="Birstall Bowls Club")
    invitation = teams.invite(session, SETTINGS, member, member.organisation_id, "kit@example.org")
    token = URLSafeTimedSerializer(SETTINGS.secret_key, salt=teams._INVITE_SALT).dumps(
        {"invitation": invitation.id, "email": "kit@example.org"}
    )
    joined = teams.accept_invitation(session, SETTINGS, token, "Kit Moss", PASSWORD, PASSWORD)
    assert joined.organisation_id == member.organisation_id
    with pytest.raises(LinkNotValid, match="already been used"):
        teams.accept_invitation(
            session, SETTINGS, token, "Someone Else", "another long password", "another long password"
        )
    assert session.get(User, joined.id).name == "Kit Moss"


@pytest.mark.parametrize(
    ("change", "error", "answer"),
    [
        ("pause", InvalidTransition, "This offer is paused, so it cannot be asked for now"),
        # A withdrawn offer is gone for everyone but its supplier, as its page is: "no such offer".
        ("withdraw", NotFound, "There is no such offer"),
    ],
)
def test_a_paused_or_withdrawn_offer_cannot_be_asked_for(
    session, make_user, make_need, make_offer, change, error, answer
):
    group, supplier = make_user("community"), make_user("supplier")
    need, offer = make_need(by=group), make_offer(by=supplier)
    offers.change_offer_status(session, supplier, offer.id, change)
    with pytest.raises(error, match=answer):
        offer_requests.ask_for_offer(session, group, offer.id, {"need_id": need.id, "message": "Could you help?"})
    assert rows(session, OfferRequest) == 0


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "Enter a message"),
        ("x" * 10_000, "5,000 characters or fewer"),
        ("<b>Come on Saturday</b>", "plain text"),
        ("<img src=x onerror=alert(1)>", "plain text"),
    ],
)
def test_bad_messages_are_refused(session, make_user, make_need, body, problem):
    group, supplier = make_user("community"), make_user("supplier")
    need = make_need(by=group)
    pledge = pledges.propose_pledge(session, supplier, {"need_id": need.id, "measure": "goods-donated", "quantity": 2})
    before = rows(session, Notification)
    about = messages.conversation(session, group, pledge_id=pledge.id)
    with pytest.raises(ValidationFailed) as refused:
        messages.post_message(session, group, about, body)
    assert problem in refused.value.fields["body"]
    assert rows(session, Message) == 0 and rows(session, Notification) == before


def test_a_pledge_you_are_not_part_of_has_no_messages_for_you(session, make_user, make_need):
    group, supplier, stranger = make_user("community"), make_user("supplier"), make_user("community")
    pledge = pledges.propose_pledge(
        session, supplier, {"need_id": make_need(by=group).id, "measure": "goods-donated", "quantity": 2}
    )
    with pytest.raises(NotFound):
        messages.conversation(session, stranger, pledge_id=pledge.id)
    assert rows(session, Message) == 0
