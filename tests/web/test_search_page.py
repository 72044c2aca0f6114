from tests.conftest import need_fields


def test_search_page_highlights_matches_and_escapes_text(app, client, make_user, session, today):
    from marketplace.services import needs

    needs.post_need(
        session,
        make_user("community"),
        need_fields(
            title="Laptops <b>urgently</b> wanted", description="Refurbished laptops for a homework club, please."
        ),
        today,
    )
    session.commit()
    app.extensions["marketplace"].search.drain()
    page = client.get("/search?q=laptops").get_data(as_text=True)
    assert "1 result" in page
    assert "<mark>Laptops</mark>" in page
    assert "&lt;b&gt;urgently&lt;/b&gt;" in page
    assert "<b>urgently</b>" not in page
    assert "Needs (1)" in page


def test_every_page_has_a_search_box(client):
    for url in ("/", "/needs", "/offers", "/sign-in"):
        assert 'id="site-search"' in client.get(url).get_data(as_text=True)


def test_unknown_filter_is_explained_not_an_error(client):
    response = client.get("/search?q=room&category=rockets")
    assert response.status_code == 200
    assert "Unknown category: rockets" in response.get_data(as_text=True)


def test_nothing_found_says_what_to_try(client):
    page = client.get("/search?q=zzzzqqqq").get_data(as_text=True)
    assert "No needs or offers match" in page
