from marketplace.services import accounts


def test_token_is_shown_once_then_works_then_revoked(browser, make_user, session):
    user = make_user("supplier")
    browser.sign_in(user)
    page = browser.submit("/account/tokens", {"name": "CRM sync"}).get_data(as_text=True)
    assert "Copy it now. It will not be shown again." in page
    token = page.split('id="new-token">')[1].split("<")[0].strip()
    assert browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = browser.client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and "CRM sync" in again
    token_id = accounts.list_tokens(session, user)[0].id
    page = browser.submit(f"/account/tokens/{token_id}/revoke", form_url="/account/tokens").get_data(as_text=True)
    assert "has been revoked" in page
    assert browser.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_officer_verifies_a_waiting_organisation(browser, make_user, officer, session):
    waiting = make_user("community", organisation="Melton Men in Sheds", verified=False)
    browser.sign_in(officer)
    assert "Organisations to verify" in browser.client.get("/officer").get_data(as_text=True)
    page = browser.client.get("/officer/organisations").get_data(as_text=True)
    assert "Melton Men in Sheds" in page
    # The list only links to the decision; no form on it verifies in one click.
    assert f'action="/officer/organisations/{waiting.organisation_id}/verify"' not in page
    assert f'href="/officer/organisations/{waiting.organisation_id}/verify"' in page
    confirm = f"/officer/organisations/{waiting.organisation_id}/verify"
    assert "Verify Melton Men in Sheds?" in browser.client.get(confirm).get_data(as_text=True)
    session.refresh(waiting.organisation)
    assert not waiting.organisation.verified  # looking at the question decides nothing
    page = browser.submit(confirm).get_data(as_text=True)
    assert "Melton Men in Sheds is verified" in page
    session.refresh(waiting.organisation)
    assert waiting.organisation.verified


def test_officer_rejects_with_a_reason_the_group_then_sees(browser, make_user, officer, client):
    waiting = make_user("community", organisation="Doubtful Group", verified=False)
    browser.sign_in(officer)
    page = browser.submit(
        f"/officer/organisations/{waiting.organisation_id}/reject", {"reason": "No charity record found"}
    ).get_data(as_text=True)
    assert "Doubtful Group has been rejected." in page
    browser.sign_out()
    browser.sign_in(waiting)
    page = browser.client.get("/account").get_data(as_text=True)
    assert "The council could not verify Doubtful Group: No charity record found." in page


def test_officer_pages_are_for_officers_only(browser, make_user):
    browser.sign_in(make_user("community"))
    assert browser.client.get("/officer").status_code == 403
    assert browser.client.get("/officer/organisations").status_code == 403
