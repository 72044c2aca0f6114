"""Password resets and e-mail confirmation: signed links, single use, and nothing that tells
an outsider whether an address has an account."""

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import func, select

from marketplace.models import Notification, User
from marketplace.services import account_links, accounts
from marketplace.services.account_links import LinkNotValid, LinkSettings
from marketplace.services.errors import ValidationFailed
from tests.conftest import PASSWORD

SETTINGS = LinkSettings(secret_key="test-secret-key", base_url="https://marketplace.example.gov.uk")


def emails_to(session, address):
    return list(session.scalars(select(Notification).where(Notification.to_email == address).order_by(Notification.id)))


def token_in(notification, kind):
    match = re.search(rf"https://marketplace\.example\.gov\.uk/{kind}/(\S+)", notification.body)
    assert match, notification.body
    return match.group(1)


def registration(email, organisation="Oadby Food Bank"):
    return accounts.Registration(
        name="Pat Doe",
        email=email,
        password="a long enough password",
        password_confirmation="a long enough password",
        role="community",
        organisation_name=organisation,
    )


def test_reset_link_sets_a_new_password_once(session, make_user):
    user = make_user("community")
    account_links.request_password_reset(session, SETTINGS, user.email.upper())
    (email,) = emails_to(session, user.email)
    assert email.subject == "Reset your password" and "within an hour" in email.body
    token = token_in(email, "reset-password")

    account_links.reset_password(session, SETTINGS, token, "my new password", "my new password")
    assert accounts.authenticate(session, user.email, "my new password") == user
    assert accounts.authenticate(session, user.email, PASSWORD) is None
    assert emails_to(session, user.email)[-1].subject == "Your password has been changed"

    with pytest.raises(LinkNotValid, match="already been used"):
        account_links.reset_password(session, SETTINGS, token, "another password", "another password")
    assert accounts.authenticate(session, user.email, "my new password") == user


def test_reset_link_expires_after_an_hour(session, make_user):
    user = make_user("supplier")

    class AnHourAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - account_links.RESET_MAX_AGE_SECONDS - 1

    serializer = URLSafeTimedSerializer(SETTINGS.secret_key, salt=account_links._RESET_SALT, signer=AnHourAgo)
    token = serializer.dumps({"user": user.id, "password": accounts.password_fingerprint(user)})
    with pytest.raises(LinkNotValid, match="expired"):
        account_links.reset_password(session, SETTINGS, token, "my new password", "my new password")
    assert accounts.authenticate(session, user.email, PASSWORD) == user


def test_a_tampered_or_foreign_link_does_not_work(session, make_user):
    user = make_user("community")
    account_links.request_password_reset(session, SETTINGS, user.email)
    token = token_in(emails_to(session, user.email)[-1], "reset-password")
    other_key = LinkSettings(secret_key="another deployment's key", base_url=SETTINGS.base_url)
    for settings, bad in ((SETTINGS, token[:-2] + ("AA" if not token.endswith("AA") else "BB")), (other_key, token)):
        with pytest.raises(LinkNotValid, match="not valid"):
            account_links.reset_password(session, settings, bad, "my new password", "my new password")
    assert accounts.authenticate(session, user.email, PASSWORD) == user


def test_a_weak_new_password_is_refused_and_the_link_still_works(session, make_user):
    user = make_user("community")
    account_links.request_password_reset(session, SETTINGS, user.email)
    token = token_in(emails_to(session, user.email)[-1], "reset-password")
    with pytest.raises(ValidationFailed) as refused:
        account_links.reset_password(session, SETTINGS, token, "short", "short")
    assert "8 characters" in refused.value.fields["password"]
    with pytest.raises(ValidationFailed) as refused:
        account_links.reset_password(session, SETTINGS, token, "long enough one", "long enough two")
    assert refused.value.fields == {"password_confirmation": "The passwords do not match"}
    account_links.reset_password(session, SETTINGS, token, "long enough one", "long enough one")


def test_reset_for_an_unknown_or_closed_address_sends_nothing(session, make_user):
    before = session.scalar(select(func.count()).select_from(Notification))
    account_links.request_password_reset(session, SETTINGS, "nobody@example.org")
    user = make_user("community")
    user.active = False
    account_links.request_password_reset(session, SETTINGS, user.email)
    assert session.scalar(select(func.count()).select_from(Notification)) == before


def test_registering_needs_the_address_confirmed_and_the_link_works_once(session):
    account_links.start_registration(session, SETTINGS, registration("Pat@Example.org"))
    user = session.scalar(select(User).where(User.email == "pat@example.org"))
    assert user is not None and user.email_confirmed_at is None
    (email,) = emails_to(session, "pat@example.org")
    assert email.subject == "Confirm your email address" and "Oadby Food Bank" in email.body
    token = token_in(email, "confirm-email")

    assert account_links.confirm_email(session, SETTINGS, token) == user
    assert user.email_confirmed_at is not None
    with pytest.raises(LinkNotValid, match="already confirmed"):
        account_links.confirm_email(session, SETTINGS, token)


def test_registering_with_an_address_in_use_creates_nothing_and_tells_its_owner(session, make_user):
    owner = make_user("supplier")
    users_before = session.scalar(select(func.count()).select_from(User))
    result = account_links.start_registration(session, SETTINGS, registration(owner.email.upper(), "New Group Ltd"))
    assert result is None, "the caller cannot tell this apart from a new registration"
    assert session.scalar(select(func.count()).select_from(User)) == users_before
    (email,) = emails_to(session, owner.email)
    assert email.subject == "Someone tried to register with your email address"
    assert "https://marketplace.example.gov.uk/forgot-password" in email.body


def test_other_registration_errors_are_still_shown_when_the_address_is_in_use(session, make_user):
    owner = make_user("community")
    form = registration(owner.email)
    form = accounts.Registration(**{**form.__dict__, "password_confirmation": "different"})
    with pytest.raises(ValidationFailed) as refused:
        account_links.start_registration(session, SETTINGS, form)
    assert refused.value.fields == {"password_confirmation": "The passwords do not match"}
    assert emails_to(session, owner.email) == []


@pytest.mark.parametrize(
    ("come_back_to", "expected"),
    [
        ("/needs/12", "?next=%2Fneeds%2F12"),
        ("/offers/3?x=1", "?next=%2Foffers%2F3%3Fx%3D1"),
        ("https://evil.example/needs/1", ""),
        ("//evil.example/needs/1", ""),
        ("/\\evil.example", ""),
        ("needs/1", ""),
        (None, ""),
    ],
)
def test_the_confirmation_link_leads_back_only_to_a_page_of_this_site(session, come_back_to, expected):
    account_links.start_registration(session, SETTINGS, registration("lee@example.org"), come_back_to=come_back_to)
    (email,) = emails_to(session, "lee@example.org")
    link = re.search(r"https://marketplace\.example\.gov\.uk/confirm-email/\S+", email.body).group(0)
    assert link.endswith(expected) and link.count("?") == (1 if expected else 0)


def test_a_request_to_join_gets_the_same_link_back(session, make_user):
    make_user("community", organisation="Oadby Food Bank")
    account_links.start_registration(session, SETTINGS, registration("ash@example.org"), come_back_to="/offers/7")
    (email,) = emails_to(session, "ash@example.org")
    assert "?next=%2Foffers%2F7" in email.body
