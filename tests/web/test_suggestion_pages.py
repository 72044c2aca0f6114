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


def test_a_need_with_nothing_good_says_so_plainly_with_weaker_matches_folded_away(
    browser, make_user, make_need, make_offer, session
):
    need = make_need(
        **need_fields(
            title="Beekeeping suits for our apiary",
            category="goods",
            description="We keep hives on the allotments and need protective veils and gloves.",
        )
    )
    make_offer(
        **offer_fields(
            title="Free printing of leaflets and posters",
            category="advertising",
            districts=["County-wide"],
            description="We print up to 5,000 leaflets or 200 posters a year for charities.",
        )
    )
    session.commit()
    browser.sign_in(make_user("officer"))
    page = browser.client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert "No good match yet" in page
    assert "list of needs nobody has pledged to yet" in page  # what happens next
    assert "Good match" not in page
    # The weak suggestion is there, but only inside "Show weaker matches" (no JavaScript needed).
    details = page[page.index("<details") : page.index("</details>")]
    assert "Show weaker matches (1)" in details
    assert "Free printing of leaflets and posters" in details and "Weak match" in details
    assert "Free printing of leaflets and posters" not in page.replace(details, "")


def test_reasons_on_the_page_are_plain_and_not_repeated(browser, make_user, make_need, make_offer, session):
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
    assert page.lower().count("fits your offer") == 1
    assert "both mention" in page and "both listed under advertising" in page
    assert "same category:" not in page and "a advertising" not in page
