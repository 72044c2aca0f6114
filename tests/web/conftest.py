import re

import pytest

from tests.conftest import PASSWORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


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
