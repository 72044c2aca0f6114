from tests.conftest import need_fields, offer_fields


def test_need_page_shows_suggested_offers_to_signed_in_people_only(
    browser, client, make_user, make_need, make_offer, session
):
    need = make_need(
        **need_fields(
            title="Storage for our food bank",
            category="premises",
            district="Charnwood",
            description="Dry, secure storage for about 30 pallets of tins and dried food.",
        )
    )
    make_offer(
        **offer_fields(
            title="Spare warehouse space in Loughborough",
            category="premises",
            districts=["Charnwood"],
            description="Racked, secure, dry warehouse space for up to 40 pallets, with a loading bay.",
        )
    )
    session.commit()
    assert "Offers that could meet this need" not in client.get(f"/needs/{need.id}").get_data(as_text=True)
    browser.sign_in(make_user("supplier"))
    page = browser.client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "Offers that could meet this need" in page
    assert "Spare warehouse space in Loughborough" in page
    assert "Good match" in page


def test_supplier_page_lists_needs_for_its_offers(browser, make_user, make_need, make_offer, session):
    supplier = make_user("supplier")
    make_offer(
        by=supplier,
        **offer_fields(
            title="Free printing of leaflets and posters",
            category="advertising",
            districts=["County-wide"],
            measure="advertising-provided",
            description="We print up to 5,000 leaflets or 200 posters a year for charities.",
        ),
    )
    make_need(
        **need_fields(
            title="Posters for our summer fun day",
            category="advertising",
            description="We need fifty A3 posters printed to advertise our free family fun day.",
        )
    )
    session.commit()
    browser.sign_in(supplier)
    page = browser.client.get("/supplier/suggested-needs").get_data(as_text=True)
    assert "Needs that fit your offers" in page and "Posters for our summer fun day" in page
    assert "Fits your offer “Free printing of leaflets and posters”" in page
