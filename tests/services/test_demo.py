from sqlalchemy import func, select

from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_data
from marketplace.models import Contract, Need, Offer, Pledge, PledgeStatus
from marketplace.services import accounts


def test_demo_data_gives_every_role_something_to_do(session, today):
    assert load_demo_data(session, today, progress=False) is True
    for account in DEMO_ACCOUNTS:
        user = accounts.authenticate(session, account.email, DEMO_PASSWORD)
        assert user is not None and user.role.value == account.role
    assert session.scalar(select(func.count()).select_from(Need)) == 50
    assert session.scalar(select(func.count()).select_from(Offer)) == 40
    assert session.scalar(select(func.count()).select_from(Contract)) == 2
    statuses = set(session.scalars(select(Pledge.status)))
    assert {PledgeStatus.PROPOSED, PledgeStatus.ACCEPTED, PledgeStatus.CONFIRMED} <= statuses
    assert load_demo_data(session, today, progress=False) is False  # loading twice changes nothing
