import re

import pytest
from sqlalchemy import select

from marketplace.models import Notification
from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


LINK = re.compile(r"https?://\S+/(?:confirm-email|reset-password)/\S+")


def emails_to(session, address: str) -> list[Notification]:
    """E-mails queued for ``address``, oldest first (the outbox is the edge of our system)."""
    return list(session.scalars(select(Notification).where(Notification.to_email == address).order_by(Notification.id)))


def link_in_email(session, address: str) -> str:
    """The path of the confirmation or reset link in the latest e-mail to ``address``."""
    emails = emails_to(session, address)
    assert emails, f"no email was sent to {address}"
    match = LINK.search(emails[-1].body)
    assert match, f"no link in the email {emails[-1].subject!r}"
    return "/" + match.group(0).split("/", 3)[3]


class Browser:
    """Drives the test client the way a person would: fetch the form, fill it, send it."""

    def __init__(self, client):
        self.client = client

    def submit(self, url, data=None, *, form_url=None, follow=True):
        page = self.client.get(form_url or url)
        fields = {"csrf_token": csrf_token(page.get_data(as_text=True)), **(data or {})}
        return self.client.post(url, data=fields, follow_redirects=follow)

    def sign_in(self, user, password=PASSWORD):
        return self.submit("/sign-in", {"email": user.email, "password": password})

    def sign_out(self):
        return self.submit("/sign-out", form_url="/", follow=True)


@pytest.fixture
def browser(client):
    return Browser(client)
