import pytest

from marketplace.services import accounts


@pytest.fixture
def bearer(session):
    """Authorization headers for a user, through a real API token."""

    def headers(user):
        _, plain = accounts.create_token(session, user, "tests")
        session.flush()
        return {"Authorization": f"Bearer {plain}"}

    return headers
