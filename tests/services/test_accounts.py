import pytest

from marketplace.db import write_intent
from marketplace.models import Role, Verification
from marketplace.services import accounts, organisations
from marketplace.services.errors import Forbidden, InvalidTransition, NotSignedIn, ValidationFailed
from tests.conftest import PASSWORD


def registration(**overrides):
    fields = {
        "name": "Priya Shah",
        "email": "Priya@Example.org ",
        "password": "a long enough password",
        "password_confirmation": "a long enough password",
        "role": "community",
        "organisation_name": "Loughborough Carers Café",
        "charity_number": "1234567",
    }
    fields.update(overrides)
    return accounts.Registration(**fields)


def test_registering_creates_an_unverified_organisation_and_a_member(session):
    user = accounts.register(session, registration())
    assert user.email == "priya@example.org"
    assert user.role is Role.COMMUNITY
    assert user.organisation.verification is Verification.PENDING
    assert user.password_hash.startswith("$argon2")
    assert "a long enough password" not in user.password_hash


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short", "password_confirmation": "short"}, "password"),
        ({"password_confirmation": "something else"}, "password_confirmation"),
        ({"role": "officer"}, "role"),
        ({"organisation_name": "  "}, "organisation_name"),
        ({"name": ""}, "name"),
    ],
)
def test_registration_problems_are_named(session, overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        accounts.register(session, registration(**overrides))
    assert field in caught.value.fields


def test_an_email_or_organisation_can_register_only_once(session):
    accounts.register(session, registration())
    with pytest.raises(ValidationFailed) as caught:
        accounts.register(session, registration(organisation_name="LOUGHBOROUGH  carers café"))
    assert set(caught.value.fields) == {"email", "organisation_name"}


def test_sign_in_is_case_insensitive_and_never_says_which_part_was_wrong(session, make_user):
    user = make_user("supplier")
    assert accounts.authenticate(session, user.email.upper(), PASSWORD) is user
    assert accounts.authenticate(session, user.email, "wrong password") is None
    assert accounts.authenticate(session, "nobody@example.org", PASSWORD) is None


def test_deactivated_accounts_cannot_sign_in(session, make_user):
    user = make_user("community")
    user.active = False
    assert accounts.authenticate(session, user.email, PASSWORD) is None


def test_cli_user_joins_an_existing_organisation_of_the_right_kind(session, make_user):
    first = make_user("supplier", organisation="Fosse Builders Ltd")
    second = accounts.create_user(
        session, email="two@fosse.example", role="supplier", organisation_name="fosse builders ltd", password=PASSWORD
    )
    assert second.organisation_id == first.organisation_id
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(
            session,
            email="x@fosse.example",
            role="community",
            organisation_name="Fosse Builders Ltd",
            password=PASSWORD,
        )
    assert "organisation" in caught.value.fields


def test_tokens_are_stored_hashed_work_until_revoked(session, make_user):
    user = make_user("supplier")
    token, plain = accounts.create_token(session, user, "CRM sync")
    assert plain.startswith("svm_") and plain not in token.token_hash
    assert accounts.user_for_token(session, plain) is user
    assert accounts.user_for_token(session, plain + "x") is None
    accounts.revoke_token(session, user, token.id)
    assert accounts.user_for_token(session, plain) is None


def test_nobody_revokes_another_persons_token(session, make_user):
    from marketplace.services.errors import NotFound

    token, plain = accounts.create_token(session, make_user("supplier"), "mine")
    with pytest.raises(NotFound):
        accounts.revoke_token(session, make_user("supplier"), token.id)
    assert accounts.user_for_token(session, plain) is not None


def test_officer_verifies_and_rejects_organisations(session, make_user, officer):
    member = make_user("community", verified=False)
    organisation = member.organisation
    organisations.reject_organisation(session, officer, organisation.id, "Could not find the charity number")
    assert organisation.verification is Verification.REJECTED
    assert organisation.verification_note == "Could not find the charity number"
    with pytest.raises(InvalidTransition):
        organisations.reject_organisation(session, officer, organisation.id)
    organisations.verify_organisation(session, officer, organisation.id)
    assert organisation.verified and organisation.verification_note is None
    with pytest.raises(InvalidTransition):
        organisations.verify_organisation(session, officer, organisation.id)


def test_only_officers_verify(session, make_user):
    waiting = make_user("community", verified=False)
    with pytest.raises(Forbidden):
        organisations.verify_organisation(session, make_user("supplier"), waiting.organisation_id)
    with pytest.raises(NotSignedIn):
        organisations.verify_organisation(session, None, waiting.organisation_id)


def test_waiting_list_is_oldest_first(session, make_user, officer):
    first = make_user("community", verified=False)
    second = make_user("supplier", verified=False)
    page = organisations.list_organisations(session, officer, verification=Verification.PENDING, per_page=100)
    ids = [o.id for o in page.items]
    assert ids.index(first.organisation_id) < ids.index(second.organisation_id)


def test_api_reads_record_a_token_use_once_a_minute_not_on_every_call(session, make_user):
    user = make_user("supplier")
    token, plain = accounts.create_token(session, user, "CRM sync")
    assert token.last_used_at is None

    accounts.user_for_token(session, plain)
    first_use = token.last_used_at
    session.flush()
    accounts.user_for_token(session, plain)

    assert first_use is not None and token.last_used_at == first_use
    assert not session.dirty
    token.last_used_at = first_use - accounts.TOKEN_USE_RECORDED_EVERY
    with write_intent(False):  # a GET request: nothing is committed, so nothing is written
        assert accounts.user_for_token(session, plain) is user
    assert token.last_used_at < first_use
    accounts.user_for_token(session, plain)
    assert token.last_used_at > first_use
