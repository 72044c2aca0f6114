from sqlalchemy import func, select

from marketplace.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, load_demo_data
from marketplace.models import Contract, Need, NeedStatus, Offer, Pledge, PledgeStatus
from marketplace.services import accounts


def test_demo_data_gives_every_role_something_to_do(session, today):
    assert load_demo_data(session, today, progress=False) is True
    for account in DEMO_ACCOUNTS:
        user = accounts.authenticate(session, account.email, DEMO_PASSWORD)
        assert user is not None and user.role.value == account.role
    assert session.scalar(select(func.count()).select_from(Need)) == 50
    assert session.scalar(select(func.count()).select_from(Offer)) == 40
    assert session.scalar(select(func.count()).select_from(Contract)) == 6
    # A pledge at every step, and some needs met, as in a county that has used it for a while.
    assert set(session.scalars(select(Pledge.status))) == set(PledgeStatus)
    assert session.scalar(select(func.count()).select_from(Need).where(Need.status == NeedStatus.MET)) >= 2
    # Each pledge counts in a measure that fits the need: the offer it came from is of the same category.
    for pledge in session.scalars(select(Pledge)):
        assert pledge.offer is not None and pledge.offer.category_code == pledge.need.category_code
    # The demo group still has open needs with no pledge, and one waiting for its answer.
    group = accounts.authenticate(session, DEMO_ACCOUNTS[0].email, DEMO_PASSWORD).organisation_id
    group_pledges = session.scalars(select(Pledge).join(Pledge.need).where(Need.organisation_id == group)).all()
    assert PledgeStatus.PROPOSED in {p.status for p in group_pledges}
    assert load_demo_data(session, today, progress=False) is False  # loading twice changes nothing
