import datetime as dt

import numpy as np
import pytest

from matching.documents import Need, Offer
from matching.matcher import Matcher, embed_items


@pytest.fixture
def offers(make_offer):
    return [
        make_offer(
            "Meeting room free for community groups",
            "Our Loughborough office has a bright meeting room for 20 people with tables and a kettle, "
            "free on weekday evenings.",
            id="room",
            category="premises",
            districts=("Charnwood",),
            supplier="Acme Offices",
        ),
        make_offer(
            "Minibus and driver on Saturdays",
            "Our 16-seat minibus and a volunteer driver can take groups on day trips on Saturdays.",
            id="bus",
            category="transport",
            districts=("Charnwood", "Melton"),
            supplier="Acme Offices",
        ),
        make_offer(
            "Refurbished laptops for charities",
            "We donate refurbished laptops with Windows and Office installed to local charities.",
            id="laptops",
            category="goods",
            supplier="Byte Recycling",
        ),
        make_offer(
            "Free bookkeeping advice",
            "One of our accountants can help a small charity set up its accounts and annual return.",
            id="accounts",
            category="expertise",
        ),
    ]


@pytest.fixture
def matcher(encoder, offers):
    return Matcher.build([], offers, encoder=encoder)


def test_obvious_match_comes_first(matcher, make_need):
    need = make_need(
        "Somewhere to meet each week",
        "Our parent and toddler group needs a room with tables for about 15 people one morning a week.",
        category="premises",
        district="Charnwood",
    )
    result = matcher.suggest_offers(need)
    assert result.items[0].id == "room"
    assert result.items[0].good
    assert not result.no_good_match
    assert all(0.0 <= s.score <= 1.0 for s in result.items)
    assert [s.score for s in result.items] == sorted((s.score for s in result.items), reverse=True)


@pytest.mark.parametrize(
    ("title", "category", "expected"),
    [
        ("Laptops for our job club", "goods", "laptops"),
        ("Help with our charity accounts", "expertise", "accounts"),
        ("Transport for a Saturday outing", "transport", "bus"),
    ],
)
def test_each_kind_of_need_finds_its_offer(matcher, make_need, title, category, expected):
    need = make_need(title, "", category=category, district="Charnwood")
    assert matcher.suggest_offers(need).items[0].id == expected


def test_local_help_only_from_offers_covering_the_district(matcher, make_need, make_offer):
    need = make_need(
        "Meeting room needed", "A room for our weekly committee meeting.", category="premises", district="Melton"
    )
    ids = [s.id for s in matcher.suggest_offers(need, limit=None).items]
    assert "room" not in ids  # premises in Charnwood only
    assert "bus" in ids  # a transport offer covering Melton may be suggested
    matcher.upsert_offer(
        make_offer("Hall for hire, free to charities", "A village hall.", id="hall", category="premises")
    )
    ids = [s.id for s in matcher.suggest_offers(need, limit=None).items]
    assert ids[0] == "hall"  # County-wide covers Melton


def test_non_local_help_may_come_from_anywhere(matcher, make_need):
    need = make_need("Laptops for our members", "", category="goods", district="Blaby")
    assert matcher.suggest_offers(need).items[0].id == "laptops"


def test_withdrawn_paused_and_expired_offers_are_never_suggested(matcher, make_need, make_offer):
    need = make_need("Room for our club", "A meeting room for our club.", category="premises")
    today = dt.date(2030, 6, 1)
    base = matcher.offer("room")
    matcher.upsert_offer(Offer(**{**base.__dict__, "status": "paused"}))
    assert "room" not in [s.id for s in matcher.suggest_offers(need, limit=None, today=today).items]
    matcher.upsert_offer(Offer(**{**base.__dict__, "available_until": dt.date(2030, 5, 31)}))
    assert "room" not in [s.id for s in matcher.suggest_offers(need, limit=None, today=today).items]
    matcher.upsert_offer(Offer(**{**base.__dict__, "available_until": dt.date(2030, 6, 1)}))
    assert matcher.suggest_offers(need, today=today).items[0].id == "room"
    # Nothing changed but the day: the offer has lapsed (what is eligible is kept per day).
    tomorrow = today + dt.timedelta(days=1)
    assert "room" not in [s.id for s in matcher.suggest_offers(need, limit=None, today=tomorrow).items]
    matcher.upsert_offer(Offer(**{**base.__dict__, "status": "withdrawn"}))
    assert matcher.offer("room") is None
    assert "room" not in [s.id for s in matcher.suggest_offers(need, limit=None, today=today).items]


def test_closed_or_expired_needs_get_no_suggestions(matcher, make_need):
    need = make_need("Room for our club", "A meeting room.", category="premises", status="met")
    assert matcher.suggest_offers(need).items == ()
    need = make_need("Room for our club", "A meeting room.", category="premises", needed_by=dt.date(2020, 1, 1))
    result = matcher.suggest_offers(need)
    assert result.items == () and result.no_good_match


def test_needs_for_an_offer_and_never_the_item_itself(encoder, offers, make_need):
    needs = [
        make_need("Minibus for a day trip", "Transport for our older members.", id="1", category="transport"),
        make_need("Laptops wanted", "Computers for our homework club.", id="2", category="goods"),
        make_need("Meeting room", "Somewhere to meet.", id="3", category="premises", status="withdrawn"),
    ]
    matcher = Matcher.build(needs, offers, encoder=encoder)
    result = matcher.suggest_needs("bus")
    assert result.items[0].id == "1"
    assert all(s.kind == "need" for s in result.items)
    assert "3" not in [s.id for s in result.items]  # withdrawn
    assert "room" not in [s.id for s in matcher.suggest_offers("3" if matcher.need("3") else "1").items[:0]]
    # an offer stored under the same id string as a need is a different item
    same_id = Offer(id="1", title="Minibus hire", category="transport", districts=("County-wide",))
    matcher.upsert_offer(same_id)
    assert "1" in [s.id for s in matcher.suggest_offers("1").items]
    assert all(s.kind == "offer" for s in matcher.suggest_offers("1").items)


def test_reasons_mention_shared_words_district_and_topic(matcher, make_need):
    need = make_need(
        "Minibus needed on Saturdays",
        "Our youth football team needs a minibus and a driver to get to away games.",
        category="transport",
        district="Melton",
    )
    top = matcher.suggest_offers(need).items[0]
    assert top.id == "bus"
    assert top.reasons[0].startswith("both mention ")
    assert "minibus" in top.reasons[0] and "saturdays" in top.reasons[0] and "driver" in top.reasons[0]
    assert "both listed under transport" in top.reasons
    assert "the offer covers Melton, where the need is" in top.reasons
    # Every word is said once: the shared words are not repeated as a topic.
    assert not any(r.startswith("both about transport") for r in top.reasons)


def test_reasons_name_a_topic_only_from_words_in_both_texts_in_plain_words(matcher, make_need):
    need = make_need(
        "Transport to the lunch club",
        "Older people need a lift to our weekly lunch club.",
        category="skills-and-jobs",
        district="Charnwood",
    )
    why = matcher.explain_pairs([(need.id, "bus")])
    assert why == {}  # a need not stored is not explained by id
    matcher.upsert_need(need)
    (reasons,) = matcher.explain_pairs([(need.id, "bus")]).values()
    topic = next(r for r in reasons if r.startswith("both about transport and vehicles"))
    assert "“transport”" in topic and "“minibus”" in topic
    assert "an offer for transport; the need is listed under skills and jobs" in reasons
    assert not any("skills-and-jobs" in r or " a skills" in r for r in reasons)


def test_empty_corpus_means_no_good_match(encoder, make_need, make_offer):
    matcher = Matcher.build([], [], encoder=encoder)
    result = matcher.suggest_offers(make_need("Anything", "We need help"))
    assert result.items == () and result.no_good_match
    result = matcher.suggest_needs(make_offer("A hall", "A big hall"))
    assert result.items == () and result.no_good_match
    assert matcher.suggest_needs_for_offers(["no-such-offer"]).no_good_match


def test_unrelated_offers_mean_no_good_match(matcher, make_need):
    need = make_need(
        "Beekeeping suits for our apiary",
        "We keep hives on the allotments and need protective veils and gloves.",
        category="goods",
    )
    assert matcher.suggest_offers(need).no_good_match


def test_supplier_gets_needs_fitting_any_of_its_offers(encoder, offers, make_need):
    needs = [
        make_need("Room for a support group", "A meeting room one evening a month.", id="10", category="premises"),
        make_need("Transport for a trip", "A minibus for a day out.", id="11", category="transport"),
        make_need("Laptops for learners", "Computers for a digital skills class.", id="12", category="goods"),
    ]
    matcher = Matcher.build(needs, offers, encoder=encoder)
    result = matcher.suggest_needs_for_offers(["room", "bus", "no-such-offer"])
    top_two = {s.id: s.via_offer for s in result.items[:2]}
    assert top_two == {"10": "room", "11": "bus"}
    assert result.items[0].reasons[0] == f"fits your offer “{matcher.offer(result.items[0].via_offer).title}”"


def test_reasons_asked_for_afterwards_are_the_ones_given_with_the_suggestions(encoder, offers, make_need):
    needs = [
        make_need("Room for a support group", "A meeting room one evening a month.", id="10", category="premises"),
        make_need("Transport for a trip", "A minibus for a day out.", id="11", category="transport"),
    ]
    matcher = Matcher.build(needs, offers, encoder=encoder)
    for explained, unexplained, pairs, via in (
        (
            matcher.suggest_offers("11"),
            matcher.suggest_offers("11", explain=False),
            lambda s: ("11", s.id),
            False,
        ),
        (matcher.suggest_needs("room"), matcher.suggest_needs("room", explain=False), lambda s: (s.id, "room"), False),
        (
            matcher.suggest_needs_for_offers(["room", "bus"]),
            matcher.suggest_needs_for_offers(["room", "bus"], explain=False),
            lambda s: (s.id, s.via_offer),
            True,
        ),
    ):
        assert [(s.id, s.score) for s in unexplained.items] == [(s.id, s.score) for s in explained.items]
        assert all(s.reasons == () for s in unexplained.items)
        asked = matcher.explain_pairs([pairs(s) for s in unexplained.items], via_offer=via)
        assert [asked[pairs(s)] for s in unexplained.items] == [s.reasons for s in explained.items]
        assert all(s.reasons for s in explained.items)
    # A pair whose item has gone is left out, not an error.
    matcher.remove_need("10")
    assert matcher.explain_pairs([("10", "room"), ("11", "bus")]).keys() == {("11", "bus")}


def test_incremental_updates_match_a_fresh_build(encoder, offers, make_need, make_offer):
    needs = [
        make_need("Room for a support group", "A meeting room one evening a month.", id="10", category="premises"),
        make_need("Transport for a trip", "A minibus for a day out.", id="11", category="transport"),
    ]
    incremental = Matcher.build(needs, offers[:2], encoder=encoder)
    for offer in offers[2:]:
        incremental.upsert_offer(offer)
    extra = make_offer("Van for deliveries", "A van and driver on Fridays.", id="van", category="transport")
    incremental.upsert_offer(extra)
    incremental.remove_offer("van")
    incremental.upsert_need(make_need("Paint for the hall", "", id="12", category="goods"))
    incremental.remove_need("12")
    fresh = Matcher.build(needs, offers, encoder=encoder)
    for need_id in ("10", "11"):
        a = incremental.suggest_offers(need_id, limit=None).items
        b = fresh.suggest_offers(need_id, limit=None).items
        assert [s.id for s in a] == [s.id for s in b]
        assert [s.score for s in a] == pytest.approx([s.score for s in b], abs=1e-3)
    assert incremental.remove_offer("van") is False


def test_stored_vectors_are_used_without_an_encoder(encoder, offers, make_need):
    need = make_need("Laptops for learners", "Computers for a digital skills class.", id="1", category="goods")
    vectors = dict(zip([o.id for o in offers], embed_items(offers, encoder), strict=True))
    nvec = embed_items([need], encoder)[0]
    matcher = Matcher.build([need], offers, {"1": nvec}, vectors, encoder=None)
    assert matcher.semantic
    assert matcher.suggest_offers("1").items[0].id == "laptops"
    with pytest.raises(ValueError, match="re-embed"):
        matcher.upsert_offer(offers[0], vector=np.ones(10))
    with pytest.raises(ValueError, match="different models"):
        Matcher.build([need], offers, {"1": np.ones(10)}, vectors)


def test_lexical_only_mode_still_ranks(offers, make_need):
    matcher = Matcher.build([], offers, encoder=None)
    assert not matcher.semantic and matcher.model_name == "none"
    need = make_need("Refurbished laptops please", "", category="goods")
    assert matcher.suggest_offers(need).items[0].id == "laptops"


@pytest.mark.parametrize(
    "title, description",
    [
        ("", ""),
        ("?", ""),
        ("🙂🙂🙂", "🎉"),
        ("Salle de réunion pour notre association", "Nous cherchons une salle à Loughborough."),
        ("Ystafell gyfarfod", "Mae angen ystafell arnom ni."),
        ("Room", "word " * 1000 + "meeting room " * 200),
    ],
)
def test_odd_input_gives_an_answer_not_a_crash(matcher, make_need, title, description):
    result = matcher.suggest_offers(make_need(title, description, category="premises"))
    assert all(0.0 <= s.score <= 1.0 for s in result.items)
    assert isinstance(result.no_good_match, bool)


def test_unknown_id_is_a_clear_error(matcher):
    with pytest.raises(KeyError, match="No open need"):
        matcher.suggest_offers("does-not-exist")


def test_need_dataclass_is_frozen():
    need = Need(id="1", title="x")
    with pytest.raises(AttributeError):
        need.title = "y"  # type: ignore[misc]
