import re

from click.testing import CliRunner
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


# A bare path where a link should be: at the start of a line or after a space.
_BARE_PATH = re.compile(r"(?:^|\s)(/[\w-]+(?:/\S*)?)", re.MULTILINE)


def test_every_link_in_the_demo_loads_emails_is_absolute(tmp_path, monkeypatch):
    """The demo load queues e-mails from the command line, with no request to take a host from."""
    base_url = "https://marketplace.example.gov.uk"
    from marketplace.cli import main
    from tests.services.test_mail import SmtpServer

    server = SmtpServer()
    server.start()
    monkeypatch.setenv("MARKETPLACE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    monkeypatch.setenv("MARKETPLACE_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("MARKETPLACE_SMTP_URL", server.url)
    monkeypatch.setenv("MARKETPLACE_BASE_URL", base_url)
    runner = CliRunner()
    try:
        result = runner.invoke(main, ["demo", "--no-serve"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(main, ["send-notifications"])
        assert result.exit_code == 0, result.output
        messages = server.inbox.messages
    finally:
        server.stop()
    assert len(messages) > 50
    links = []
    for message in messages:
        body = message.get_content()
        assert _BARE_PATH.findall(body) == [], message["Subject"]
        links += re.findall(r"https?://\S+", body)
    assert links and all(link.startswith(base_url + "/") for link in links)
